"""A fake Doppler API (``/v3``), written from the contract in
``shared/reference/secret-managers.md`` (sections 0, 1 and 4) and proven
against the real Doppler CLI in ``tests/fakes/test_doppler_fake_vs_cli.py``.

What it serves::

    GET  /v3/configs/config/secrets/download   format json|env|env-no-quotes|docker|yaml,
                                               name_transformer, secrets=A,B,
                                               include_dynamic_secrets, dynamic_secrets_ttl_sec;
                                               ETag, If-None-Match -> 304
    GET  /v3/configs/config/secrets            {"secrets": {NAME: {raw, computed, note, ...}}}
    GET  /v3/configs/config/secrets/names      {"names": [...]}
    GET  /v3/configs/config/secret?name=X      {"name": X, "value": {raw, computed, ...}}
    POST /v3/configs/config/secrets            {"secrets": {NAME: value|null}} or
                                               {"change_requests": [{name, originalName, value,
                                               shouldDelete, originalValue, ...}]}; write access
    GET  /v3/configs/config/ping               liveness (``doppler run``)
    POST /v3/auth/oidc                         {"identity", "token"} -> a dp.said. token
    POST /v3/auth/revoke                       {"token"}

**Auth**: ``Authorization: Bearer <token>`` (the CLI) and ``Basic
base64(<token>:)`` (the action, Terraform provider, k8s operator). Tests
register each token with its kind (:meth:`FakeDoppler.add_token`):

* ``service`` (``dp.st.``): bound to one project/config, read-only unless
  ``write``; the scope params may be absent or empty (the CLI sends both
  empty), and naming another scope is a 403;
* ``service_account`` (``dp.sa.``), ``personal`` (``dp.pt.``/``dp.ct.``) and
  ``oidc`` (``dp.said.``, issued by ``/v3/auth/oidc``): ``project`` and
  ``config`` are required (400 without), ``access`` maps ``"project"`` or
  ``"project/config"`` to ``"read"`` or ``"write"`` (None: every project,
  read/write).

**Errors** are ``{"messages": [...], "success": false}``: 400 bad or missing
params, 401 unknown, revoked or expired token, 403 no access or a read-only
token writing, 404 unknown project/config/secret. Faults (429, HTML 5xx,
resets, malformed JSON, delays) come from :meth:`FakeService.inject`; a fixed
per-request ``latency`` (the benchmark uses 50 ms) from the constructor.

Values: ``computed`` resolves ``${NAME}`` (same config), ``${config.NAME}``
(same project) and ``${project.config.NAME}``; an unresolvable reference is
left as written. The download adds ``DOPPLER_PROJECT``, ``DOPPLER_CONFIG``
and ``DOPPLER_ENVIRONMENT`` and lists names sorted, as the list does.

Choices the contract leaves open (unverified against the real service, kept
simple and strict): a service token naming a scope other than its own gets a
403; name transformers rename the meta keys too; ``dotnet``/``dotnet-env``
transformers and the ``dotnet-json`` format answer 400 (not implemented);
restricted values read as ``null`` in the list but are downloaded; an unknown
OIDC identity is a 404, a JWT that fails the identity's rules a 401.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets as _random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from typing import Any, Literal

import jwt

from fakes.base import FakeService, RecordedRequest, Request, Response, json_response, route

TokenKind = Literal["service", "service_account", "personal", "oidc"]
Access = Literal["read", "write"]

META_KEYS = ("DOPPLER_CONFIG", "DOPPLER_ENVIRONMENT", "DOPPLER_PROJECT")
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
DASHBOARD_URL = "https://dashboard.doppler.com"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_REFERENCE = re.compile(r"\$\{([A-Za-z0-9_.-]+)\}")
_FORMATS = ("json", "env", "env-no-quotes", "docker", "yaml")


@dataclass
class Secret:
    raw: str
    visibility: str = "masked"  #: masked | unmasked | restricted
    note: str = ""
    value_type: str = "string"


@dataclass
class Config:
    project: str
    name: str
    environment: str
    secrets: dict[str, Secret] = field(default_factory=dict)
    #: dynamic secrets: name -> how many leases were handed out so far
    dynamic: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Token:
    """What a registered token may do; see the module docstring."""

    kind: TokenKind
    project: str | None = None  #: service tokens: their one scope
    config: str | None = None
    write: bool = False  #: service tokens: read/write
    access: Mapping[str, Access] | None = None  #: the other kinds
    expires_at: float | None = None  #: epoch seconds; None: never

    def can(self, project: str, config: str, want: Access) -> bool:
        if self.kind == "service":
            return (project, config) == (self.project, self.config) and (
                want == "read" or self.write
            )
        if self.access is None:
            return True
        role = self.access.get(f"{project}/{config}") or self.access.get(project)
        return role is not None and (want == "read" or role == "write")


@dataclass(frozen=True)
class Identity:
    """A service-account identity that trusts one JWT issuer (OIDC)."""

    identity_id: str
    key: bytes  #: the HS256 key the issuer signs with (the stand-in's)
    audience: str
    subject: str  #: a pattern; ``*`` and ``?`` match as in shell globs
    issuer: str = GITHUB_ISSUER
    access: Mapping[str, Access] | None = None
    ttl: float = 3600.0


class DopplerError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, *messages: str) -> Response:
    return json_response({"messages": list(messages), "success": False}, status)


def _words(name: str) -> list[str]:
    return [w.lower() for w in name.split("_") if w]


#: name_transformer -> how a name is renamed (the ones we can do exactly)
NAME_TRANSFORMERS: dict[str, Callable[[str], str]] = {
    "camel": lambda n: "".join(w if i == 0 else w.capitalize() for i, w in enumerate(_words(n))),
    "upper-camel": lambda n: "".join(w.capitalize() for w in _words(n)),
    "lower-snake": lambda n: "_".join(_words(n)),
    "lower-kebab": lambda n: "-".join(_words(n)),
    "tf-var": lambda n: "TF_VAR_" + "_".join(_words(n)),
}


def _env_quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def render(values: Mapping[str, str], fmt: str) -> tuple[bytes, str]:
    """The download body in ``fmt`` and its content type."""
    if fmt == "json":
        return json.dumps(dict(values)).encode(), "application/json"
    if fmt == "env":
        lines = [f"{k}={_env_quote(v)}" for k, v in values.items()]
    elif fmt in ("env-no-quotes", "docker"):
        lines = [f"{k}={v}" for k, v in values.items()]
    else:  # yaml: JSON strings are YAML scalars
        lines = [f"{k}: {json.dumps(v)}" for k, v in values.items()]
    return "".join(line + "\n" for line in lines).encode(), "text/plain"


def _iso(epoch: float) -> str:
    when = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class FakeDoppler(FakeService):
    def __init__(self, *, latency: float = 0.0, now: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.latency = latency
        self.now = now
        self.configs: dict[tuple[str, str], Config] = {}
        self.tokens: dict[str, Token] = {}
        self.identities: dict[str, Identity] = {}
        #: dp.said. tokens handed out, in order
        self.issued: list[str] = []

    # ------------------------------------------------------------------ arrange

    def add_config(
        self,
        project: str,
        config: str,
        values: Mapping[str, str] | None = None,
        *,
        environment: str | None = None,
    ) -> Config:
        """A config (its project comes into being with it), with ``values``
        as masked secrets. ``environment`` defaults to the part of the config
        name before ``_`` (``dev_personal`` belongs to ``dev``)."""
        with self.lock:
            cfg = Config(project, config, environment or config.split("_", 1)[0])
            for name, value in (values or {}).items():
                cfg.secrets[name] = Secret(value)
            self.configs[(project, config)] = cfg
            return cfg

    def put_secret(
        self,
        project: str,
        config: str,
        name: str,
        value: str,
        *,
        visibility: str = "masked",
        note: str = "",
    ) -> None:
        with self.lock:
            self.configs[(project, config)].secrets[name] = Secret(value, visibility, note)

    def add_dynamic_secret(self, project: str, config: str, name: str) -> None:
        """A dynamic secret: each download that includes it leases a new value."""
        with self.lock:
            self.configs[(project, config)].dynamic[name] = 0

    def values(self, project: str, config: str) -> dict[str, str]:
        """The raw values of a config (what a test asserts after a write)."""
        with self.lock:
            return {n: s.raw for n, s in self.configs[(project, config)].secrets.items()}

    def add_token(
        self,
        token: str,
        kind: TokenKind,
        *,
        project: str | None = None,
        config: str | None = None,
        write: bool = False,
        access: Mapping[str, Access] | None = None,
        expires_at: float | None = None,
    ) -> str:
        if kind == "service" and (project is None or config is None):
            raise ValueError("a service token is bound to one project and config")
        with self.lock:
            self.tokens[token] = Token(kind, project, config, write, access, expires_at)
        return token

    def add_service_token(
        self, token: str, project: str, config: str, *, write: bool = False
    ) -> str:
        return self.add_token(token, "service", project=project, config=config, write=write)

    def add_account_token(self, token: str, access: Mapping[str, Access] | None = None) -> str:
        return self.add_token(token, "service_account", access=access)

    def add_identity(
        self,
        identity_id: str,
        *,
        key: bytes,
        audience: str,
        subject: str,
        issuer: str = GITHUB_ISSUER,
        access: Mapping[str, Access] | None = None,
        ttl: float = 3600.0,
    ) -> Identity:
        """A service-account identity for ``POST /v3/auth/oidc``: it accepts
        JWTs signed (HS256) with ``key`` whose ``iss``, ``aud`` and ``sub``
        match; the token it issues has ``access``."""
        identity = Identity(identity_id, key, audience, subject, issuer, access, ttl)
        with self.lock:
            self.identities[identity_id] = identity
        return identity

    def expire(self, token: str) -> None:
        with self.lock:
            self.tokens[token] = replace(self.tokens[token], expires_at=0.0)

    # ------------------------------------------------------------------ plumbing

    def _dispatch(self, request: RecordedRequest) -> Response:
        if self.latency:
            time.sleep(self.latency)
        try:
            return super()._dispatch(request)
        except DopplerError as exc:
            return error_response(exc.status, exc.message)

    def _token(self, request: Request) -> Token:
        auth = request.headers.get("authorization", "")
        scheme, _, credentials = auth.partition(" ")
        token = ""
        if scheme.lower() == "bearer":
            token = credentials.strip()
        elif scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            token = decoded.partition(":")[0]
        if not token:
            raise DopplerError(401, "Missing auth token")
        with self.lock:
            grant = self.tokens.get(token)
        if grant is None:
            raise DopplerError(401, "Invalid Auth token")
        if grant.expires_at is not None and grant.expires_at <= self.now():
            raise DopplerError(401, "Auth token has expired")
        return grant

    def _config(self, request: Request, want: Access, body: Any = None) -> Config:
        """The config a request is about, checked against its token."""
        grant = self._token(request)

        def param(name: str) -> str:
            value = (request.query.get(name) or [""])[0]
            if not value and isinstance(body, dict) and isinstance(body.get(name), str):
                value = body[name]
            return value

        project, config = param("project"), param("config")
        if grant.kind == "service":
            assert grant.project is not None
            assert grant.config is not None
            if (project and project != grant.project) or (config and config != grant.config):
                raise DopplerError(403, "This token does not have access to the requested config")
            project, config = grant.project, grant.config
        elif not project:
            raise DopplerError(400, "You must specify a project")
        elif not config:
            raise DopplerError(400, "You must specify a config")
        with self.lock:
            known_project = any(p == project for p, _ in self.configs)
            cfg = self.configs.get((project, config))
        if not known_project:
            raise DopplerError(404, "Could not find requested project")
        if cfg is None:
            raise DopplerError(404, "Could not find requested config")
        if not grant.can(project, config, want):
            if want == "write" and grant.can(project, config, "read"):
                raise DopplerError(403, "This token does not have write access to this config")
            raise DopplerError(403, "This token does not have access to the requested config")
        return cfg

    def _computed(self, cfg: Config, name: str, depth: int = 0) -> str:
        raw = cfg.secrets[name].raw
        if depth > 10:
            return raw

        def resolve(match: re.Match[str]) -> str:
            parts = match[1].split(".")
            if len(parts) > 3:
                return match[0]
            # NAME, config.NAME, project.config.NAME
            scope = {1: (cfg.project, cfg.name), 2: (cfg.project, parts[0])}
            target = self.configs.get(scope.get(len(parts)) or (parts[0], parts[1]))
            if target is None or parts[-1] not in target.secrets:
                return match[0]
            return self._computed(target, parts[-1], depth + 1)

        return _REFERENCE.sub(resolve, raw)

    def _entry(self, cfg: Config, name: str) -> dict[str, Any]:
        secret = cfg.secrets[name]
        hidden = secret.visibility == "restricted"
        return {
            "raw": None if hidden else secret.raw,
            "computed": None if hidden else self._computed(cfg, name),
            "note": secret.note,
            "rawVisibility": secret.visibility,
            "computedVisibility": secret.visibility,
            "rawValueType": {"type": secret.value_type},
            "computedValueType": {"type": secret.value_type},
        }

    def _listing(self, cfg: Config, names: Iterable[str] | None = None) -> dict[str, Any]:
        wanted = set(names) if names is not None else None
        out = {}
        for name in sorted(cfg.secrets):
            if wanted is None or name in wanted:
                out[name] = self._entry(cfg, name)
        for name, value in sorted(self._meta(cfg).items()):
            if wanted is None or name in wanted:
                out[name] = {
                    "raw": value,
                    "computed": value,
                    "note": "",
                    "rawVisibility": "unmasked",
                    "computedVisibility": "unmasked",
                    "rawValueType": {"type": "string"},
                    "computedValueType": {"type": "string"},
                }
        return out

    @staticmethod
    def _meta(cfg: Config) -> dict[str, str]:
        return {
            "DOPPLER_CONFIG": cfg.name,
            "DOPPLER_ENVIRONMENT": cfg.environment,
            "DOPPLER_PROJECT": cfg.project,
        }

    @staticmethod
    def _flag(request: Request, name: str) -> bool:
        return (request.query.get(name) or ["false"])[0].lower() == "true"

    @staticmethod
    def _names_param(request: Request) -> list[str] | None:
        raw = (request.query.get("secrets") or [""])[0]
        return [n.strip() for n in raw.split(",") if n.strip()] or None

    # ------------------------------------------------------------------ reads

    @route("GET", "/v3/configs/config/secrets/download")
    def download(self, request: Request) -> Response:
        cfg = self._config(request, "read")
        fmt = (request.query.get("format") or ["json"])[0] or "json"
        if fmt not in _FORMATS:
            return error_response(400, f"Invalid or unsupported format: {fmt}")
        transformer = (request.query.get("name_transformer") or [""])[0]
        if transformer and transformer not in NAME_TRANSFORMERS:
            return error_response(400, f"Invalid or unsupported name transformer: {transformer}")
        ttl = (request.query.get("dynamic_secrets_ttl_sec") or [""])[0]
        if ttl and not ttl.isdigit():
            return error_response(400, "dynamic_secrets_ttl_sec must be an integer")
        wanted = self._names_param(request)
        with self.lock:
            values = {name: self._computed(cfg, name) for name in cfg.secrets}
            if self._flag(request, "include_dynamic_secrets"):
                for name in cfg.dynamic:
                    cfg.dynamic[name] += 1
                    lease = f"lease-{cfg.dynamic[name]}-ttl-{ttl or 'default'}"
                    values[name] = f"{name.lower()}-{lease}"
            values.update(self._meta(cfg))
        if wanted is not None:
            values = {k: v for k, v in values.items() if k in wanted or k in META_KEYS}
        rename = NAME_TRANSFORMERS.get(transformer)
        values = {(rename(k) if rename else k): values[k] for k in sorted(values)}
        body, content_type = render(values, fmt)
        etag = 'W/"' + hashlib.sha256(body).hexdigest()[:40] + '"'
        if _etag_matches(request.headers.get("if-none-match", ""), etag):
            return Response(304, b"", (("ETag", etag),))
        return Response(200, body, (("Content-Type", content_type), ("ETag", etag)))

    @route("GET", "/v3/configs/config/secrets")
    def list_secrets(self, request: Request) -> Response:
        cfg = self._config(request, "read")
        with self.lock:
            listing = self._listing(cfg, self._names_param(request))
        return json_response({"success": True, "secrets": listing})

    @route("GET", "/v3/configs/config/secrets/names")
    def names(self, request: Request) -> Response:
        cfg = self._config(request, "read")
        with self.lock:
            names = sorted([*cfg.secrets, *META_KEYS])
            if self._flag(request, "include_dynamic_secrets"):
                names = sorted([*names, *cfg.dynamic])
        return json_response({"success": True, "names": names})

    @route("GET", "/v3/configs/config/secret")
    def get_secret(self, request: Request) -> Response:
        cfg = self._config(request, "read")
        name = (request.query.get("name") or [""])[0]
        if not name:
            return error_response(400, "You must specify a secret name")
        with self.lock:
            listing = self._listing(cfg, [name])
        if name not in listing:
            return error_response(404, "Could not find requested secret")
        return json_response({"success": True, "name": name, "value": listing[name]})

    @route("GET", "/v3/configs/config/ping")
    def ping(self, request: Request) -> Response:
        self._config(request, "read")
        return json_response({"success": True})

    # ------------------------------------------------------------------ writes

    @route("POST", "/v3/configs/config/secrets")
    def update_secrets(self, request: Request) -> Response:
        try:
            body = request.json()
        except ValueError:
            return error_response(400, "Request body must be JSON")
        if not isinstance(body, dict):
            return error_response(400, "Request body must be a JSON object")
        cfg = self._config(request, "write", body)
        if "change_requests" in body:
            changes = body["change_requests"]
        elif isinstance(body.get("secrets"), dict):
            changes = [
                {"name": n, "originalName": n, "value": v, "shouldDelete": v is None}
                for n, v in body["secrets"].items()
            ]
        else:
            return error_response(400, "You must specify secrets or change_requests")
        if not isinstance(changes, list) or not all(isinstance(c, dict) for c in changes):
            return error_response(400, "change_requests must be a list of objects")
        with self.lock:
            updated = dict(cfg.secrets)
            for change in changes:
                problem = _apply(updated, change)
                if problem:
                    return error_response(400, problem)
            cfg.secrets = updated  # all or nothing
            listing = self._listing(cfg)
        return json_response({"success": True, "secrets": listing})

    # ------------------------------------------------------------------ auth

    @route("POST", "/v3/auth/oidc")
    def oidc(self, request: Request) -> Response:
        try:
            body = request.json()
        except ValueError:
            body = None
        identity_id = body.get("identity") if isinstance(body, dict) else None
        assertion = body.get("token") if isinstance(body, dict) else None
        if not isinstance(identity_id, str) or not isinstance(assertion, str):
            return error_response(400, "You must specify an identity and a token")
        with self.lock:
            identity = self.identities.get(identity_id)
        if identity is None:
            return error_response(404, "Could not find requested identity")
        try:
            claims = jwt.decode(
                assertion,
                identity.key,
                algorithms=["HS256"],
                audience=identity.audience,
                issuer=identity.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError:
            return error_response(401, "Invalid OIDC token")
        if not fnmatchcase(str(claims["sub"]), identity.subject):
            return error_response(401, "OIDC token subject does not match the identity's rules")
        token = "dp.said." + _random.token_urlsafe(32)
        expires = self.now() + identity.ttl
        with self.lock:
            self.tokens[token] = Token("oidc", access=identity.access, expires_at=expires)
            self.issued.append(token)
        return json_response(
            {
                "success": True,
                "token": token,
                "expires_at": _iso(expires),
                "dashboard_url": DASHBOARD_URL,
            }
        )

    @route("POST", "/v3/auth/revoke")
    def revoke(self, request: Request) -> Response:
        try:
            body = request.json()
        except ValueError:
            body = None
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            return error_response(400, "You must specify a token")
        with self.lock:
            self.tokens.pop(token, None)
        return json_response({"success": True})


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison (RFC 9110): ``W/`` prefixes do not matter."""

    def opaque(tag: str) -> str:
        tag = tag.strip()
        return tag[2:] if tag.startswith("W/") else tag

    return header.strip() == "*" or any(opaque(t) == opaque(etag) for t in header.split(","))


def _apply(secrets: dict[str, Secret], change: Mapping[str, Any]) -> str:
    """Apply one change request to ``secrets``; a problem message, or ""."""
    name = change.get("name")
    original = change.get("originalName")
    value = change.get("value")
    if not isinstance(name, str) or not _NAME.match(name):
        return "Secret names must contain only letters, digits and underscores"
    if name.startswith("DOPPLER_"):
        return f"Secret name {name} is reserved"
    if original is not None and not isinstance(original, str):
        return "originalName must be a string or null"
    if value is not None and not isinstance(value, str):
        return f"The value of {name} must be a string"
    current = original or name
    if change.get("shouldDelete"):
        secrets.pop(current, None)
        return ""
    existing = secrets.get(current)
    if "originalValue" in change and (existing is None or existing.raw != change["originalValue"]):
        return f"Secret {current} has changed since it was read"
    visibility = change.get("visibility")
    if visibility not in (None, "masked", "unmasked", "restricted"):
        return f"Invalid visibility for {name}"
    if value is None:
        if existing is None:
            return f"Secret {name} does not exist and no value was given"
        value = existing.raw
    secret = Secret(
        value,
        visibility or (existing.visibility if existing else "masked"),
        existing.note if existing else "",
    )
    if current != name:
        secrets.pop(current, None)
    secrets[name] = secret
    return ""
