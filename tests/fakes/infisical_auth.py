"""The fake Infisical's machine identities, access tokens and logins, and the
shapes every answer shares (error bodies, request bodies).

Logins (JSON, or form-urlencoded as the official action sends them)::

    POST /api/v1/auth/universal-auth/login  {clientId, clientSecret}
    POST /api/v1/auth/oidc-auth/login       {identityId, jwt}
         -> {accessToken, expiresIn, accessTokenMaxTTL, tokenType: "Bearer"}

A bad client id or secret is 401; an OIDC token is checked like GitHub's
(HS256 with a test key here): a bad signature 403 ``TokenError``, expired
403 ``TokenError``, another audience or subject than the identity binds 401.

Other calls need ``Authorization: Bearer <access token>``: none is 401, a
revoked token 401, an unknown (malformed) or expired one 403 ``TokenError``.
Errors are ``{reqId, statusCode, message, error}``.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import jwt

from fakes.base import FakeService, Request, Response, json_response, route
from fakes.infisical_store import ApiError, invalid

#: What GitHub's OIDC tokens carry as ``iss``; checked when the fake has an issuer.
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
#: HS256 key of the test stand-in for GitHub's ID tokens (>= 32 bytes for PyJWT);
#: give the fake another (``FakeInfisical(oidc_key=github.key)``) to trust a
#: :class:`fakes.github_oidc.FakeGitHubOIDC`.
DEFAULT_OIDC_KEY = "fake-github-oidc-signing-key-for-tests-only"
TOKEN_EXPIRED = "Your token has expired. Please re-authenticate."


def make_jwt(
    *,
    subject: str = "repo:homelab/infra:ref:refs/heads/main",
    audience: str = "https://github.com/homelab",
    expires_in: float = 300,
    key: str | bytes = DEFAULT_OIDC_KEY,
    issuer: str = GITHUB_ISSUER,
) -> str:
    """An ID token like GitHub's (HS256 here), for the OIDC login."""
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + int(expires_in),
    }
    return jwt.encode(claims, key, algorithm="HS256")


@dataclass
class Identity:
    id: str
    #: project ids it may use; None: every project
    projects: frozenset[str] | None = None
    client_id: str | None = None
    client_secret: str | None = None
    audience: str | None = None
    subject: str | None = None


@dataclass
class _Token:
    identity: Identity
    expires: float
    revoked: bool = False


def _projects(projects: Iterable[str] | None) -> frozenset[str] | None:
    return None if projects is None else frozenset(projects)


class InfisicalAuth(FakeService):
    """Identities, tokens and logins; any handler may raise :class:`ApiError`."""

    def __init__(
        self,
        *,
        oidc_key: str | bytes = DEFAULT_OIDC_KEY,
        oidc_issuer: str | None = GITHUB_ISSUER,
        token_ttl: int = 7200,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.oidc_key = oidc_key
        self.oidc_issuer = oidc_issuer
        self.token_ttl = token_ttl
        self.clock = clock
        self._universal: dict[str, Identity] = {}
        self._oidc: dict[str, Identity] = {}
        self._tokens: dict[str, _Token] = {}
        self._request_ids = 0

    # -- arranging

    def universal_identity(
        self, client_id: str, client_secret: str, *, projects: Iterable[str] | None = None
    ) -> Identity:
        identity = Identity(
            str(uuid.uuid4()), _projects(projects), client_id=client_id, client_secret=client_secret
        )
        with self.lock:
            self._universal[client_id] = identity
        return identity

    def oidc_identity(
        self,
        identity_id: str,
        *,
        audience: str,
        subject: str | None = None,
        projects: Iterable[str] | None = None,
    ) -> Identity:
        """An identity whose OIDC auth binds ``audience`` (and ``subject`` if given)."""
        identity = Identity(identity_id, _projects(projects), audience=audience, subject=subject)
        with self.lock:
            self._oidc[identity_id] = identity
        return identity

    def access_token(self, *, projects: Iterable[str] | None = None, expired: bool = False) -> str:
        """A ready access token (what ``INFISICAL_TOKEN`` holds)."""
        return self._issue(Identity(str(uuid.uuid4()), _projects(projects)), expired=expired)

    def expire(self, token: str) -> None:
        with self.lock:
            self._tokens[token].expires = 0.0

    def revoke(self, token: str) -> None:
        with self.lock:
            self._tokens[token].revoked = True

    @property
    def logins(self) -> int:
        return sum(1 for r in self.requests if r.path.startswith("/api/v1/auth/"))

    # -- shared by every handler

    def error_body(self, status: int, error: str, message: Any) -> dict[str, Any]:
        with self.lock:
            self._request_ids += 1
            req_id = f"req-{self._request_ids:06d}"
        return {"reqId": req_id, "statusCode": status, "message": message, "error": error}

    def _dispatch(self, request: Any) -> Response:
        try:
            return super()._dispatch(request)
        except ApiError as exc:
            return json_response(self.error_body(exc.status, exc.error, exc.message), exc.status)

    def body(self, request: Request) -> dict[str, Any]:
        """A JSON object, or a form-urlencoded body as a dict."""
        if "application/x-www-form-urlencoded" in request.headers.get("content-type", ""):
            form = parse_qs(request.body.decode(), keep_blank_values=True)
            return {key: values[-1] for key, values in form.items()}
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise ApiError(400, "BadRequest", "Body is not valid JSON") from None
        if not isinstance(data, dict):
            raise invalid(("body", "Expected object"))
        return data

    def identity(self, request: Request) -> Identity:
        """Who the Bearer token belongs to."""
        token = request.bearer()
        if token is None:
            raise ApiError(401, "UnauthorizedError", "Missing Authorization header")
        with self.lock:
            entry = self._tokens.get(token)
        if entry is None:
            raise ApiError(403, "TokenError", "Invalid token")
        if entry.revoked:
            raise ApiError(401, "UnauthorizedError", "Failed to authorize revoked access token")
        if entry.expires <= self.clock():
            raise ApiError(403, "TokenError", TOKEN_EXPIRED)
        return entry.identity

    def _issue(self, identity: Identity, *, expired: bool = False) -> str:
        token = secrets.token_urlsafe(32)
        with self.lock:
            expires = 0.0 if expired else self.clock() + self.token_ttl
            self._tokens[token] = _Token(identity, expires)
        return token

    def _login_answer(self, identity: Identity) -> Response:
        return json_response(
            {
                "accessToken": self._issue(identity),
                "expiresIn": self.token_ttl,
                "accessTokenMaxTTL": self.token_ttl,
                "tokenType": "Bearer",
            }
        )

    @staticmethod
    def _required(body: dict[str, Any], *names: str) -> None:
        missing = [name for name in names if not isinstance(body.get(name), str)]
        if missing:
            raise invalid(*((name, "Required") for name in missing))

    # -- logins

    @route("POST", "/api/v1/auth/universal-auth/login")
    def universal_login(self, request: Request) -> Response:
        body = self.body(request)
        self._required(body, "clientId", "clientSecret")
        with self.lock:
            identity = self._universal.get(body["clientId"])
        if identity is None or not secrets.compare_digest(
            str(identity.client_secret), body["clientSecret"]
        ):
            raise ApiError(401, "UnauthorizedError", "Invalid credentials")
        return self._login_answer(identity)

    @route("POST", "/api/v1/auth/oidc-auth/login")
    def oidc_login(self, request: Request) -> Response:
        body = self.body(request)
        self._required(body, "identityId", "jwt")
        with self.lock:
            identity = self._oidc.get(body["identityId"])
        if identity is None:
            raise ApiError(401, "UnauthorizedError", "Invalid identity")
        try:
            claims = jwt.decode(
                body["jwt"],
                self.oidc_key,
                algorithms=["HS256"],
                audience=identity.audience,
                issuer=self.oidc_issuer,
                options={"require": ["exp", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise ApiError(403, "TokenError", TOKEN_EXPIRED) from None
        except jwt.InvalidAudienceError:
            raise ApiError(
                401, "UnauthorizedError", "Access denied: OIDC audience not allowed."
            ) from None
        except jwt.InvalidTokenError:
            raise ApiError(403, "TokenError", "Invalid token") from None
        if identity.subject is not None and claims.get("sub") != identity.subject:
            raise ApiError(401, "UnauthorizedError", "Access denied: OIDC subject not allowed.")
        return self._login_answer(identity)
