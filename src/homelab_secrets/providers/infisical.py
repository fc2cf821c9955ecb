"""Self-hosted Infisical: log in as a machine identity, list one folder, upsert.

Handed an ``httpx.Client`` whose base URL is the server **root**
(``https://infisical.lan``, ``http://127.0.0.1:8080``); the paths below add
``/api`` (a root that already ends in ``/api`` is taken as is, as the
Infisical CLI does).  Reads no environment; never prints.

Requests (contract: ``shared/reference/secret-managers.md`` §5), and why:

* **Login**, once per provider instance, JSON body: universal auth
  (``POST /api/v1/auth/universal-auth/login {clientId, clientSecret}``), OIDC
  auth (``POST /api/v1/auth/oidc-auth/login {identityId, jwt}``, e.g. with
  GitHub's ID token), or none with a ready access token.
* **List**: with a project id, ``GET /api/v4/secrets?projectId=…`` (the
  current API, what the Infisical CLI uses).  With a project slug,
  ``GET /api/v3/secrets/raw?workspaceSlug=…``: v4 takes no slug, and looking
  the slug up first would cost a request to a route that moved between
  server versions (``/api/v1/projects/slug/…``, ``/api/v1/workspace/…``),
  while v3 takes it directly (what the official action sends) and answers in
  the same shape.  Every flag is sent explicitly (defaults differ between
  server versions); v4 gets both ``include_imports`` and ``includeImports``
  (routers read one or the other and ignore unknown keys).
* **Upsert** (:meth:`InfisicalProvider.set_secrets`): the folder is listed
  raw first (to skip unchanged values and report created/updated names), then
  one ``PATCH /api/v4/secrets/batch`` (id) or ``/api/v3/secrets/batch/raw``
  (slug) with ``mode=upsert``: one request is one transaction on the server,
  so a failure writes nothing, and it is safe to retry (a retried create
  whose first answer was lost cannot fail as "already exists").

Values: direct secrets win; imports are applied from the **last** to the
first and only fill names not yet set (Infisical's own precedence).  With
``recursive``, two folders defining one name is an error naming both paths,
not a silent last-wins.  The server expands ``${KEY}`` references when asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import httpx

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.providers.base import Fetched
from homelab_secrets.providers.http import (
    DEFAULT_POLICY,
    Clock,
    ProviderError,
    Reply,
    RetryPolicy,
    send,
)

SERVICE = "Infisical"


class _Credential:
    """Shows its kind only: a repr may end up in a log."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<hidden>)"


@dataclass(frozen=True, repr=False)
class UniversalAuth(_Credential):
    """A machine identity's universal-auth client id and client secret."""

    client_id: str
    client_secret: str


@dataclass(frozen=True, repr=False)
class OidcAuth(_Credential):
    """A machine identity's id and an OIDC ID token (GitHub's) it accepts."""

    identity_id: str
    jwt: str


@dataclass(frozen=True, repr=False)
class AccessToken(_Credential):
    """A ready access token (what ``INFISICAL_TOKEN`` holds)."""

    token: str


Auth = UniversalAuth | OidcAuth | AccessToken


@dataclass(frozen=True)
class Written:
    """What :meth:`InfisicalProvider.set_secrets` did, names only."""

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    #: names whose value Infisical stores differently from what was given
    #: (trimmed: see :func:`stored_form`)
    altered: tuple[str, ...] = ()


def stored_form(value: str) -> str:
    """What Infisical stores for ``value``: whitespace trimmed from both ends,
    one trailing newline kept if the value ended with one."""
    return f"{value.strip()}\n" if value.endswith("\n") else value.strip()


def normalize_path(path: str) -> str:
    """A secret path as the server keys folders: ``apps/web/`` -> ``/apps/web``."""
    return "/" + "/".join(part for part in path.strip().split("/") if part)


def _usage(message: str) -> UserError:
    return UserError(f"{SERVICE}: {message}", ExitCode.USAGE)


class InfisicalProvider:
    """One environment + secret path of one Infisical project (see the module docstring)."""

    kind = "infisical"

    def __init__(
        self,
        client: httpx.Client,
        *,
        auth: Auth,
        environment: str,
        project_id: str | None = None,
        project_slug: str | None = None,
        secret_path: str = "/",  # noqa: S107 (a folder path, not a password)
        recursive: bool = False,
        include_imports: bool = True,
        expand_references: bool = True,
        policy: RetryPolicy = DEFAULT_POLICY,
        clock: Clock | None = None,
    ) -> None:
        if (project_id is None) == (project_slug is None):
            raise _usage("give the project id or the project slug (one of them)")
        project = (project_id if project_id is not None else project_slug or "").strip()
        if not project:
            raise _usage(f"the project {'id' if project_id is not None else 'slug'} is empty")
        if not environment.strip():
            raise _usage("the environment (slug, e.g. dev) is empty")
        _check_auth(auth)
        self._client = client
        self._auth = auth
        self._by_id = project_id is not None
        self._project = project
        self._environment = environment.strip()
        self._path = normalize_path(secret_path)
        self._recursive = recursive
        self._include_imports = include_imports
        self._expand = expand_references
        self._policy = policy
        self._clock = clock
        self._token = auth.token if isinstance(auth, AccessToken) else None
        root = client.base_url.path.rstrip("/")
        self._api = "" if root.endswith("/api") else "/api"

    # -- Provider

    def describe(self) -> str:
        return f"infisical {self._scope()}" + (" and its sub-folders" if self._recursive else "")

    def cache_key(self) -> str:
        project = f"{'id' if self._by_id else 'slug'}={self._project}"
        flags = f"recursive={self._recursive} imports={self._include_imports} expand={self._expand}"
        return (
            f"infisical {self._client.base_url} project-{project} "
            f"env={self._environment} path={self._path} {flags}"
        )

    def fetch(self) -> Fetched:
        reply = self._list(
            recursive=self._recursive, imports=self._include_imports, expand=self._expand
        )
        what = f"list secrets of {self._scope()}"
        direct, imports = self._parse_listing(reply, what)
        values: dict[str, str] = {}
        origins: dict[str, str] = {}
        collisions: dict[str, list[str]] = {}
        for name, value, path in direct:
            if name not in values:
                values[name], origins[name] = value, path
            elif path != origins[name]:
                collisions.setdefault(name, [origins[name]]).append(path)
        if collisions:
            both = "; ".join(
                f"{name} in {' and '.join(paths)}" for name, paths in sorted(collisions.items())
            )
            raise ProviderError(
                f"{SERVICE}: {self._scope()} with its sub-folders defines a name more than "
                f"once: {both}; rename one, or fetch those folders one at a time without "
                "recursive"
            )
        for origin, secrets in reversed(imports):
            for name, value in secrets:
                if name not in values:
                    values[name], origins[name] = value, origin
        return Fetched(
            source=f"infisical {self._project}/{self._environment}:{self._path}",
            values=values,
            origins=origins,
        )

    # -- writing

    def set_secrets(self, values: Mapping[str, str]) -> Written:
        """Create or update ``values`` in the folder at the secret path (not
        its sub-folders), in one transaction; unchanged values are not
        written.  Raises :class:`ProviderError` when the environment is under
        a change-approval policy (nothing is written then either)."""
        bad = [name for name in values if not name or any(ch.isspace() for ch in name)]
        if bad:  # counted, not shown: a "name" with whitespace may be a misplaced value
            raise _usage(
                f"{_count(len(bad))} have names Infisical refuses (empty or with whitespace)"
            )
        if not values:
            return Written()
        reply = self._list(recursive=False, imports=False, expand=False)
        direct, _ = self._parse_listing(reply, f"list secrets of {self._scope()}")
        existing = {name: value for name, value, path in direct if path == self._path}
        created = [name for name in values if name not in existing]
        updated = [
            name
            for name in values
            if name in existing and existing[name] != stored_form(values[name])
        ]
        altered = tuple(name for name in values if stored_form(values[name]) != values[name])
        changed = set(created) | set(updated)
        unchanged = tuple(name for name in values if name not in changed)
        if changed:
            names = [name for name in values if name in changed]
            what = f"write {_count(len(names))} to {self._scope()}"
            body: dict[str, Any] = {
                **self._project_field("projectSlug"),
                "environment": self._environment,
                "secretPath": self._path,
                "mode": "upsert",
                "secrets": [{"secretKey": name, "secretValue": values[name]} for name in names],
            }
            path = "/v4/secrets/batch" if self._by_id else "/v3/secrets/batch/raw"
            written = self._send("PATCH", path, what=what, json_body=body)
            data = written.data
            if isinstance(data, dict) and "approval" in data:
                raise ProviderError(
                    f"{SERVICE}: could not {what}: environment {self._environment} is under a "
                    "change-approval policy, so Infisical opened an approval request for "
                    f"{', '.join(names)} instead of writing them; approve it in Infisical, or "
                    "write to an environment without that policy",
                    status=written.status,
                )
            if not isinstance(data, dict) or not isinstance(data.get("secrets"), list):
                raise ProviderError(
                    f"{SERVICE}: could not {what}: the answer is not a list of written secrets; "
                    "check that the URL is the Infisical server root",
                    status=written.status,
                )
        return Written(tuple(created), tuple(updated), unchanged, altered)

    # -- internals

    def __repr__(self) -> str:
        return f"InfisicalProvider({self._scope()})"

    def _scope(self) -> str:
        kind = "" if self._by_id else " (slug)"
        return f"project {self._project}{kind}, environment {self._environment}, path {self._path}"

    def _project_field(self, slug_name: str) -> dict[str, str]:
        return {"projectId" if self._by_id else slug_name: self._project}

    def _send(
        self,
        method: str,
        path: str,
        *,
        what: str,
        login: bool = False,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> Reply:
        headers = None if login else {"Authorization": f"Bearer {self._access_token()}"}
        return send(
            self._client,
            method,
            self._api + path,
            service=SERVICE,
            what=what,
            hint=self._login_hint if login else self._hint,
            policy=self._policy,
            clock=self._clock,
            params=params,
            headers=headers,
            json_body=json_body,
        )

    def _access_token(self) -> str:
        if self._token is not None:
            return self._token
        auth = self._auth
        if isinstance(auth, UniversalAuth):
            path, what = "/v1/auth/universal-auth/login", "log in (universal auth)"
            body = {"clientId": auth.client_id, "clientSecret": auth.client_secret}
        elif isinstance(auth, OidcAuth):
            path, what = "/v1/auth/oidc-auth/login", "log in (OIDC auth)"
            body = {"identityId": auth.identity_id, "jwt": auth.jwt}
        else:  # pragma: no cover - an AccessToken is set in __init__
            raise AssertionError(type(auth).__name__)
        reply = self._send("POST", path, what=what, login=True, json_body=body)
        token = reply.data.get("accessToken") if isinstance(reply.data, dict) else None
        if not isinstance(token, str) or not token:
            raise ProviderError(
                f"{SERVICE}: could not {what}: the answer has no access token; check that the "
                "URL is the Infisical server root (e.g. https://infisical.lan, without /api)",
                status=reply.status,
            )
        self._token = token
        return token

    def _list(self, *, recursive: bool, imports: bool, expand: bool) -> Reply:
        flag = {True: "true", False: "false"}
        params = {
            **self._project_field("workspaceSlug"),
            "environment": self._environment,
            "secretPath": self._path,
            "recursive": flag[recursive],
            "include_imports": flag[imports],
            "expandSecretReferences": flag[expand],
            "viewSecretValue": "true",
        }
        if self._by_id:
            params["includeImports"] = flag[imports]
        path = "/v4/secrets" if self._by_id else "/v3/secrets/raw"
        return self._send("GET", path, what=f"list secrets of {self._scope()}", params=params)

    def _parse_listing(
        self, reply: Reply, what: str
    ) -> tuple[list[tuple[str, str, str]], list[tuple[str, list[tuple[str, str]]]]]:
        """(name, value, folder path) of each direct secret, and per import its
        origin (``env:path``) and (name, value) pairs.  A hidden value is an
        error naming its name."""
        bad = ProviderError(
            f"{SERVICE}: could not {what}: the answer is not a list of secrets; check that "
            "the URL is the Infisical server root (e.g. https://infisical.lan)",
            status=reply.status,
        )
        hidden: list[str] = []

        def entries(items: Any, default_path: str) -> list[tuple[str, str, str]]:
            if not isinstance(items, list):
                raise bad
            out = []
            for item in items:
                name = item.get("secretKey") if isinstance(item, dict) else None
                value = item.get("secretValue") if isinstance(item, dict) else None
                if not isinstance(name, str) or not isinstance(value, str):
                    raise bad
                if item.get("secretValueHidden") is True:
                    hidden.append(name)
                folder = item.get("secretPath")
                out.append(
                    (
                        name,
                        value,
                        normalize_path(folder) if isinstance(folder, str) else default_path,
                    )
                )
            return out

        data = reply.data if isinstance(reply.data, dict) else {}
        direct = entries(data.get("secrets"), self._path)
        raw_imports = data.get("imports", [])
        if not isinstance(raw_imports, list):
            raise bad
        imports = []
        for entry in raw_imports:
            env = entry.get("environment") if isinstance(entry, dict) else None
            path = entry.get("secretPath") if isinstance(entry, dict) else None
            if not isinstance(env, str) or not isinstance(path, str):
                raise bad
            found = entries(entry.get("secrets"), path)
            imports.append((f"{env}:{normalize_path(path)}", [(n, v) for n, v, _ in found]))
        if hidden:
            raise ProviderError(
                f"{SERVICE}: could not {what}: the values of {', '.join(sorted(set(hidden)))} "
                "are hidden from this identity; give its project role permission to read "
                "secret values",
                status=reply.status,
            )
        return direct, imports

    def _hint(self, status: int) -> str:
        scope = self._scope()
        token_given = isinstance(self._auth, AccessToken)
        if status == 401:
            if token_given:
                return "; the access token was refused (revoked?): issue a new one"
            return "; the access token from the login was refused: is the identity revoked?"
        if status == 403:
            if token_given:
                return (
                    "; the access token is expired or malformed (issue a new one), or its "
                    f"identity may not read {scope} (give it a project role that can)"
                )
            return (
                f"; the identity may not read or write {scope}: give it a project role that "
                "can (or its access token expired: run again)"
            )
        if status == 404:
            how = "project id" if self._by_id else "project slug"
            return (
                f"; check the {how} {self._project}, that the project has environment "
                f"{self._environment} and folder {self._path}, and that the URL is the "
                "Infisical server root"
            )
        if status in (400, 422):
            return f"; Infisical refused the parameters: check {scope} and the secret names"
        return ""

    def _login_hint(self, status: int) -> str:
        oidc = isinstance(self._auth, OidcAuth)
        if status == 401:
            if oidc:
                return (
                    "; the identity's OIDC auth refused the token: check the identity id and "
                    "that its bound audience, subject and issuer match the ID token"
                )
            return (
                "; check the machine identity's client id and client secret (and that the "
                "secret has not expired or run out of uses)"
            )
        if status == 403:
            if oidc:
                return "; the ID token is expired or malformed: request a fresh one"
            return "; the identity may not log in with universal auth from here"
        if status == 404:
            return (
                "; no such login: check that the URL is the Infisical server root (e.g. "
                "https://infisical.lan, without /api)" + (" and the identity id" if oidc else "")
            )
        if status in (400, 422):
            return "; Infisical refused the login request: is every credential given?"
        return ""


_LABELS = {
    "client_id": "client id",
    "client_secret": "client secret",
    "identity_id": "identity id",
    "jwt": "ID token",
    "token": "access token",
}


def _check_auth(auth: Auth) -> None:
    missing = [_LABELS[f.name] for f in fields(auth) if not getattr(auth, f.name).strip()]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise _usage(f"the {' and the '.join(missing)} {verb} empty")


def _count(n: int) -> str:
    return f"{n} secret{'s' if n != 1 else ''}"
