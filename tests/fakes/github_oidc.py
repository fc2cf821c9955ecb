"""A stand-in for the GitHub Actions runner's ID-token endpoint.

In a job with ``permissions: id-token: write`` the runner sets
``ACTIONS_ID_TOKEN_REQUEST_URL`` (a URL that already carries a query,
``?api-version=2.0``) and ``ACTIONS_ID_TOKEN_REQUEST_TOKEN``; a step gets a JWT
with::

    GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=<urlencoded>
    Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN
    -> 200 {"value": "<jwt>"}

Without ``audience`` GitHub uses its default, ``https://github.com/<owner>``.
The JWT carries the claims trust rules look at (``iss``, ``aud``, ``sub``,
``repository``, ``repository_owner``, ``ref``, ``event_name``, ...); ``sub``
is ``repo:<owner/repo>:ref:<ref>``, or ``repo:<owner/repo>:environment:<env>``
when the job has an environment, as GitHub builds it.

GitHub signs with RS256 keys published at its JWKS URL; this stand-in signs
with **HS256** and :attr:`FakeGitHubOIDC.key`, which a fake service (the fake
Doppler's ``add_identity(key=...)``) is told to trust. A wrong or missing
bearer token is a 401, a missing ``api-version`` a 400 (so a client that
drops the URL's own query fails here as it would on GitHub).
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

import jwt

from fakes.base import FakeService, Request, Response, json_response, route

ISSUER = "https://token.actions.githubusercontent.com"
PATH = "/{tenant}/_apis/distributedtask/hubs/Actions/plans/{plan}/jobs/{job}/idtoken"


class FakeGitHubOIDC(FakeService):
    def __init__(
        self,
        *,
        repository: str = "homelab/terraform-proxmox",
        ref: str = "refs/heads/main",
        environment: str | None = None,
        event_name: str = "push",
        lifetime: float = 300.0,
    ) -> None:
        super().__init__()
        self.key = secrets.token_bytes(32)
        self.request_token = "ghs_" + secrets.token_urlsafe(24)
        self.repository = repository
        self.ref = ref
        self.environment = environment
        self.event_name = event_name
        self.lifetime = lifetime
        self._ids = {name: str(uuid.uuid4()) for name in ("tenant", "plan", "job")}

    @property
    def owner(self) -> str:
        return self.repository.split("/", 1)[0]

    @property
    def default_audience(self) -> str:
        return f"https://github.com/{self.owner}"

    @property
    def subject(self) -> str:
        if self.environment:
            return f"repo:{self.repository}:environment:{self.environment}"
        return f"repo:{self.repository}:ref:{self.ref}"

    def request_url(self, base_url: str) -> str:
        """``ACTIONS_ID_TOKEN_REQUEST_URL`` for this stand-in served at ``base_url``."""
        return base_url.rstrip("/") + PATH.format(**self._ids) + "?api-version=2.0"

    def env(self, base_url: str) -> dict[str, str]:
        """The two variables the runner sets in a job with ``id-token: write``."""
        return {
            "ACTIONS_ID_TOKEN_REQUEST_URL": self.request_url(base_url),
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.request_token,
        }

    def mint(self, audience: str | None = None, **overrides: Any) -> str:
        """A JWT as the endpoint would answer now; ``overrides`` replace or add
        claims (``exp=0`` for an expired one, ``sub=...`` for another repo)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "jti": str(uuid.uuid4()),
            "iss": ISSUER,
            "aud": audience or self.default_audience,
            "sub": self.subject,
            "repository": self.repository,
            "repository_owner": self.owner,
            "ref": self.ref,
            "event_name": self.event_name,
            "workflow": "plan",
            "run_id": "1",
            "nbf": now - 5,
            "iat": now,
            "exp": now + int(self.lifetime),
        }
        if self.environment:
            claims["environment"] = self.environment
        claims.update(overrides)
        return jwt.encode(claims, self.key, algorithm="HS256", headers={"kid": "fake-hs256"})

    @route("GET", PATH)
    def id_token(self, request: Request, tenant: str, plan: str, job: str) -> Response:
        if request.bearer() != self.request_token:
            return json_response({"message": "Unauthorized"}, 401)
        if (tenant, plan, job) != (self._ids["tenant"], self._ids["plan"], self._ids["job"]):
            return json_response({"message": "Not Found"}, 404)
        if not request.query.get("api-version"):
            return json_response({"message": "api-version is required"}, 400)
        audience = (request.query.get("audience") or [""])[0] or None
        return json_response({"value": self.mint(audience)})
