"""A fake GitHub REST API (secrets and variables), written from the contract in
``shared/reference/github-sync-and-workflows.md`` (A1, A3) and the GitHub REST
docs ("Actions secrets", "Dependabot secrets", "Actions variables", "Rate
limits").  Real PyGithub talks to it through :func:`fakes.serve`.

What it serves::

    GET    /repos/{o}/{r}                        {id, name, full_name, owner, private, url}
    GET    /orgs/{org}                           {id, login, url}
    GET    /repos/{o}/{r}/environments/{env}     {id, name, url}
    GET    /repos/{o}/{r}/{actions|dependabot}/secrets            list (per_page <= 100, Link)
    GET    /repos/{o}/{r}/{actions|dependabot}/secrets/public-key {key_id, key}
    GET|PUT|DELETE /repos/{o}/{r}/{actions|dependabot}/secrets/{NAME}
    ... the same under /repos/{o}/{r}/environments/{env}/secrets and /orgs/{org}/{kind}/secrets
    GET|PUT /orgs/{org}/{kind}/secrets/{NAME}/repositories
    GET|POST /repos/{o}/{r}/actions/variables, GET|PATCH|DELETE .../variables/{NAME}
    GET|POST /orgs/{org}/actions/variables,   GET|PATCH|DELETE .../variables/{NAME}
    GET    /rate_limit

**Scopes.** Every secret store (repository Actions, repository Dependabot,
each environment, organization Actions, organization Dependabot) owns a real
X25519 key pair: a PUT must carry the scope's current ``key_id`` and a sealed
box that opens with its private key (422 otherwise), so :meth:`Scope.value`
gives tests the exact plaintext GitHub would hold.  Names are stored
upper-cased and looked up case-insensitively; GitHub's name rules, the 48 KB
value limit, the 100 / 1,000 counts and org ``visibility`` are enforced (422).
PUT answers 201 on create, 204 on update.

**Tokens** (``Authorization: token|Bearer X``, else 401) carry permissions
(:meth:`FakeGitHub.add_token`): ``fine-grained`` and ``installation`` tokens
map a permission (``secrets``, ``variables``, ``dependabot_secrets``,
``environments``, ``organization_secrets``, ``organization_variables``,
``organization_dependabot_secrets``) to ``read`` or ``write``, and a refusal
is a 403 ``Resource not accessible by ...`` with
``X-Accepted-GitHub-Permissions``; ``classic`` tokens carry scopes (``repo``,
``admin:org``), sent back in ``X-OAuth-Scopes`` on every answer, and a
refusal is a 404 (GitHub hides private repositories) with
``X-Accepted-OAuth-Scopes``.  :data:`ACTIONS_TOKEN` plays the workflow's own
GITHUB_TOKEN: an installation token with no secrets or variables permission.

With ``prefix="/api/v3"`` it serves the API under that path, as GitHub
Enterprise Server does.  Every answer carries ``x-ratelimit-*`` headers and
``Date``; faults (403/429 with or without ``Retry-After``, 5xx, resets) come
from :meth:`FakeService.inject`, a fixed ``latency`` per request from the
constructor (the benchmark uses 50 ms).

Assumptions the contract leaves open (kept strict): a stale ``key_id`` or a box
that does not open is a 422; over-limit counts are a 422; a variable POST of
an existing name is a 409.
"""

from __future__ import annotations

import base64
import email.utils
import itertools
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import urlencode

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox

from fakes.base import (
    FakeService,
    RecordedRequest,
    Request,
    Response,
    empty_response,
    json_response,
    route,
)

TokenKind = Literal["fine-grained", "installation", "classic"]
Level = Literal["read", "write"]

MAX_VALUE_BYTES = 48 * 1024
LIMITS = {"repo": 100, "dependabot": 100, "env": 100, "org": 1000, "org-dependabot": 1000}
ALL_PERMISSIONS: dict[str, Level] = {
    "metadata": "read",
    "secrets": "write",
    "variables": "write",
    "dependabot_secrets": "write",
    "environments": "read",
    "organization_secrets": "write",
    "organization_variables": "write",
    "organization_dependabot_secrets": "write",
}
#: The workflow's own GITHUB_TOKEN: no secrets, no variables.
ACTIONS_TOKEN = "ghs_ActionsJobTokenFakeOnly0123456789abcd"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_counter = itertools.count(3380204578043523366)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def name_error(name: str) -> str | None:
    if not _NAME.match(name):
        return "Secret names can only contain alphanumeric characters or underscores"
    if name.upper().startswith("GITHUB_"):
        return "Secret names must not start with GITHUB_"
    return None


@dataclass
class Stored:
    name: str
    sealed: bytes
    created_at: float
    updated_at: float
    visibility: str = ""
    selected: tuple[int, ...] = ()


@dataclass
class Scope:
    """One secret store with its own key pair (see the module docstring)."""

    kind: str  #: repo | dependabot | env | org | org-dependabot
    label: str
    now: Callable[[], float]
    private: PrivateKey = field(default_factory=PrivateKey.generate)
    key_id: str = field(default_factory=lambda: str(next(_counter)))
    secrets: dict[str, Stored] = field(default_factory=dict)

    @property
    def public_key(self) -> str:
        return base64.b64encode(bytes(self.private.public_key)).decode()

    def open(self, sealed: bytes) -> str:
        return SealedBox(self.private).decrypt(sealed).decode("utf-8")

    def value(self, name: str) -> str:
        """The plaintext GitHub holds for ``name`` (opens the stored sealed box)."""
        return self.open(self.secrets[name.upper()].sealed)

    def values(self) -> dict[str, str]:
        return {name: self.value(name) for name in sorted(self.secrets)}

    def names(self) -> list[str]:
        return sorted(self.secrets)

    def put_plain(self, name: str, value: str, *, at: float | None = None) -> None:
        """What a person does in the web UI: set ``name`` by hand."""
        sealed = SealedBox(self.private.public_key).encrypt(value.encode())
        when = self.now() if at is None else at
        old = self.secrets.get(name.upper())
        self.secrets[name.upper()] = Stored(
            name.upper(), sealed, old.created_at if old else when, when
        )

    def rotate_key(self) -> None:
        self.private = PrivateKey.generate()
        self.key_id = str(next(_counter))


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    permissions: Mapping[str, Level] = field(default_factory=dict)
    scopes: tuple[str, ...] = ()

    def can(self, permission: str, level: Level) -> bool:
        if self.kind == "classic":
            needed = "admin:org" if permission.startswith("organization_") else "repo"
            return needed in self.scopes or permission == "metadata"
        have = self.permissions.get(permission)
        return have == "write" or (have == "read" and level == "read")


class Denied(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__("denied")
        self.response = response


class FakeGitHub(FakeService):
    def __init__(
        self, *, latency: float = 0.0, now: Callable[[], float] = time.time, prefix: str = ""
    ) -> None:
        super().__init__()
        self.latency = latency
        #: GHES serves the API under /api/v3: requests outside it are 404s
        self.prefix = prefix.rstrip("/")
        self.now = now
        self.repos: dict[str, dict[str, Any]] = {}
        self.orgs: dict[str, dict[str, Any]] = {}
        self.environments: dict[tuple[str, str], dict[str, Any]] = {}
        self.scopes: dict[tuple[str, str], Scope] = {}
        self.variables: dict[str, dict[str, dict[str, Any]]] = {}
        self.tokens: dict[str, Token] = {}
        self.remaining = 5000
        self._ids = itertools.count(1000)

    # ------------------------------------------------------------------ arrange

    def add_repo(self, full_name: str, *, private: bool = True) -> dict[str, Any]:
        owner, name = full_name.split("/")
        with self.lock:
            repo = {"id": next(self._ids), "name": name, "owner": owner, "private": private}
            self.repos[full_name.lower()] = repo
            self.scopes[("repo", full_name.lower())] = Scope("repo", full_name, self.now)
            self.scopes[("dependabot", full_name.lower())] = Scope(
                "dependabot", full_name, self.now
            )
            self.variables[f"repo:{full_name.lower()}"] = {}
            return repo

    def add_environment(self, full_name: str, environment: str) -> None:
        key = (full_name.lower(), environment.lower())
        with self.lock:
            self.environments[key] = {"id": next(self._ids), "name": environment}
            self.scopes[("env", "/".join(key))] = Scope(
                "env", f"{full_name}/{environment}", self.now
            )

    def add_org(self, login: str) -> None:
        with self.lock:
            self.orgs[login.lower()] = {"id": next(self._ids), "login": login}
            self.scopes[("org", login.lower())] = Scope("org", login, self.now)
            self.scopes[("org-dependabot", login.lower())] = Scope(
                "org-dependabot", login, self.now
            )
            self.variables[f"org:{login.lower()}"] = {}

    def add_token(
        self,
        token: str,
        kind: TokenKind = "fine-grained",
        *,
        permissions: Mapping[str, Level] | None = None,
        scopes: tuple[str, ...] = (),
    ) -> str:
        grants = dict(ALL_PERMISSIONS if permissions is None else permissions)
        with self.lock:
            self.tokens[token] = Token(kind, grants, scopes)
        return token

    def scope(
        self,
        *,
        repository: str = "",
        environment: str = "",
        organization: str = "",
        kind: str = "actions",
    ) -> Scope:
        """The store a test asserts on."""
        if organization:
            return self.scopes[
                ("org" if kind == "actions" else "org-dependabot", organization.lower())
            ]
        if environment:
            return self.scopes[("env", f"{repository.lower()}/{environment.lower()}")]
        return self.scopes[("repo" if kind == "actions" else "dependabot", repository.lower())]

    def variable(self, *, repository: str = "", organization: str = "", name: str) -> str | None:
        owner = f"org:{organization.lower()}" if organization else f"repo:{repository.lower()}"
        with self.lock:
            entry = self.variables[owner].get(name.upper())
            return None if entry is None else str(entry["value"])

    def variable_names(self, *, repository: str = "", organization: str = "") -> list[str]:
        owner = f"org:{organization.lower()}" if organization else f"repo:{repository.lower()}"
        with self.lock:
            return sorted(self.variables[owner])

    def set_variable(
        self, value: str | None, *, repository: str = "", organization: str = "", name: str
    ) -> None:
        """Edit (or with None delete) a variable behind the sync's back."""
        owner = f"org:{organization.lower()}" if organization else f"repo:{repository.lower()}"
        with self.lock:
            if value is None:
                self.variables[owner].pop(name.upper(), None)
            else:
                self.variables[owner][name.upper()] = _variable(name, value, self.now())

    def writes(self) -> list[RecordedRequest]:
        """Every request that could change something."""
        return [r for r in self.requests if r.method in ("PUT", "POST", "PATCH", "DELETE")]

    def secret_writes(self) -> list[RecordedRequest]:
        return [r for r in self.writes() if "/secrets/" in r.path]

    # ------------------------------------------------------------------ plumbing

    def _dispatch(self, request: RecordedRequest) -> Response:
        if self.latency:
            time.sleep(self.latency)
        if self.prefix:
            if not request.path.startswith(self.prefix + "/"):
                return _not_found()
            request = replace(request, path=request.path[len(self.prefix) :])
        token = _bearer(request)
        grant = self.tokens.get(token) if token else None
        if grant is None:
            response = json_response({"message": "Bad credentials"}, 401)
        else:
            try:
                response = super()._dispatch(request)
            except Denied as exc:
                response = exc.response
        with self.lock:
            self.remaining = max(0, self.remaining - 1)
            remaining = self.remaining
        extra = {
            "Date": email.utils.formatdate(self.now(), usegmt=True),
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": str(int(self.now()) + 3600),
            "x-ratelimit-used": str(5000 - remaining),
            "x-ratelimit-resource": "core",
        }
        if grant is not None and grant.kind == "classic":
            extra["X-OAuth-Scopes"] = ", ".join(grant.scopes)
        return Response(response.status, response.body, (*response.headers, *extra.items()))

    def _need(self, request: Request, permission: str, level: Level, private: bool = True) -> None:
        grant = self.tokens[_bearer(request) or ""]
        if grant.can(permission, level):
            return
        if grant.kind == "classic":
            needed = "admin:org" if permission.startswith("organization_") else "repo"
            raise Denied(
                json_response(
                    {"message": "Not Found"} if private else {"message": "Must have admin rights"},
                    404 if private else 403,
                    {"X-Accepted-OAuth-Scopes": needed},
                )
            )
        who = "integration" if grant.kind == "installation" else "personal access token"
        raise Denied(
            json_response(
                {"message": f"Resource not accessible by {who}"},
                403,
                {"X-Accepted-GitHub-Permissions": f"{permission}={level}"},
            )
        )

    def _base(self, request: Request) -> str:
        host = request.headers.get("host", "127.0.0.1")
        return f"http://{host}{self.prefix}"

    # ------------------------------------------------------------------ objects

    @route("GET", "/rate_limit")
    def rate_limit(self, request: Request) -> Response:
        core = {"limit": 5000, "remaining": self.remaining, "reset": int(self.now()) + 3600}
        return json_response({"resources": {"core": core}, "rate": core})

    @route("GET", "/repos/{owner}/{repo}")
    def get_repo(self, request: Request, owner: str, repo: str) -> Response:
        full = f"{owner}/{repo}".lower()
        data = self.repos.get(full)
        if data is None:
            return _not_found()
        self._need(request, "metadata", "read")
        base = self._base(request)
        return json_response(
            {
                "id": data["id"],
                "name": data["name"],
                "full_name": f"{data['owner']}/{data['name']}",
                "owner": {"login": data["owner"]},
                "private": data["private"],
                "archived": False,
                "url": f"{base}/repos/{data['owner']}/{data['name']}",
            }
        )

    @route("GET", "/orgs/{org}")
    def get_org(self, request: Request, org: str) -> Response:
        data = self.orgs.get(org.lower())
        if data is None:
            return _not_found()
        return json_response({**data, "url": f"{self._base(request)}/orgs/{data['login']}"})

    @route("GET", "/repos/{owner}/{repo}/environments/{env}")
    def get_environment(self, request: Request, owner: str, repo: str, env: str) -> Response:
        data = self.environments.get((f"{owner}/{repo}".lower(), env.lower()))
        if data is None:
            return _not_found()
        self._need(request, "environments", "read")
        url = f"{self._base(request)}/repos/{owner}/{repo}/environments/{data['name']}"
        return json_response({**data, "url": url})

    # ------------------------------------------------------------------ secrets

    def _scope(self, request: Request, kind: str, key: str) -> tuple[Scope, str]:
        """The scope, after the permission check (404 for an unknown one)."""
        scope = self.scopes.get((kind, key.lower()))
        permission = {
            "repo": "secrets",
            "env": "secrets",
            "dependabot": "dependabot_secrets",
            "org": "organization_secrets",
            "org-dependabot": "organization_dependabot_secrets",
        }[kind]
        if scope is None:
            raise Denied(_not_found())
        level: Level = "read" if request.method == "GET" else "write"
        self._need(request, permission, level)
        if kind == "env":
            self._need(request, "environments", "read")
        return scope, permission

    def _repo_kind(self, kind: str) -> str:
        if kind not in ("actions", "dependabot"):
            raise Denied(_not_found())
        return "repo" if kind == "actions" else "dependabot"

    def _org_kind(self, kind: str) -> str:
        if kind not in ("actions", "dependabot"):
            raise Denied(_not_found())
        return "org" if kind == "actions" else "org-dependabot"

    @route("GET", "/repos/{owner}/{repo}/{kind}/secrets")
    def list_repo_secrets(self, request: Request, owner: str, repo: str, kind: str) -> Response:
        scope, _ = self._scope(request, self._repo_kind(kind), f"{owner}/{repo}")
        return self._list(request, scope)

    @route("GET", "/repos/{owner}/{repo}/environments/{env}/secrets")
    def list_env_secrets(self, request: Request, owner: str, repo: str, env: str) -> Response:
        scope, _ = self._scope(request, "env", f"{owner}/{repo}/{env}")
        return self._list(request, scope)

    @route("GET", "/orgs/{org}/{kind}/secrets")
    def list_org_secrets(self, request: Request, org: str, kind: str) -> Response:
        scope, _ = self._scope(request, self._org_kind(kind), org)
        return self._list(request, scope, org=True)

    @route("GET", "/repos/{owner}/{repo}/{kind}/secrets/{name}")
    def get_repo_secret(
        self, request: Request, owner: str, repo: str, kind: str, name: str
    ) -> Response:
        scope, _ = self._scope(request, self._repo_kind(kind), f"{owner}/{repo}")
        return self._get(request, scope, name)

    @route("GET", "/repos/{owner}/{repo}/environments/{env}/secrets/{name}")
    def get_env_secret(
        self, request: Request, owner: str, repo: str, env: str, name: str
    ) -> Response:
        scope, _ = self._scope(request, "env", f"{owner}/{repo}/{env}")
        return self._get(request, scope, name)

    @route("GET", "/orgs/{org}/{kind}/secrets/{name}")
    def get_org_secret(self, request: Request, org: str, kind: str, name: str) -> Response:
        scope, _ = self._scope(request, self._org_kind(kind), org)
        return self._get(request, scope, name, org=True)

    @route("PUT", "/repos/{owner}/{repo}/{kind}/secrets/{name}")
    def put_repo_secret(
        self, request: Request, owner: str, repo: str, kind: str, name: str
    ) -> Response:
        scope, _ = self._scope(request, self._repo_kind(kind), f"{owner}/{repo}")
        return self._put(request, scope, name)

    @route("PUT", "/repos/{owner}/{repo}/environments/{env}/secrets/{name}")
    def put_env_secret(
        self, request: Request, owner: str, repo: str, env: str, name: str
    ) -> Response:
        scope, _ = self._scope(request, "env", f"{owner}/{repo}/{env}")
        return self._put(request, scope, name)

    @route("PUT", "/orgs/{org}/{kind}/secrets/{name}")
    def put_org_secret(self, request: Request, org: str, kind: str, name: str) -> Response:
        scope, _ = self._scope(request, self._org_kind(kind), org)
        return self._put(request, scope, name, org=org)

    @route("DELETE", "/repos/{owner}/{repo}/{kind}/secrets/{name}")
    def delete_repo_secret(
        self, request: Request, owner: str, repo: str, kind: str, name: str
    ) -> Response:
        scope, _ = self._scope(request, self._repo_kind(kind), f"{owner}/{repo}")
        return self._delete(scope, name)

    @route("DELETE", "/repos/{owner}/{repo}/environments/{env}/secrets/{name}")
    def delete_env_secret(
        self, request: Request, owner: str, repo: str, env: str, name: str
    ) -> Response:
        scope, _ = self._scope(request, "env", f"{owner}/{repo}/{env}")
        return self._delete(scope, name)

    @route("DELETE", "/orgs/{org}/{kind}/secrets/{name}")
    def delete_org_secret(self, request: Request, org: str, kind: str, name: str) -> Response:
        scope, _ = self._scope(request, self._org_kind(kind), org)
        return self._delete(scope, name)

    @route("GET", "/orgs/{org}/{kind}/secrets/{name}/repositories")
    def get_selected(self, request: Request, org: str, kind: str, name: str) -> Response:
        scope, _ = self._scope(request, self._org_kind(kind), org)
        with self.lock:
            stored = scope.secrets.get(name.upper())
            if stored is None:
                return _not_found()
            if stored.visibility != "selected":
                return json_response({"message": "visibility is not selected"}, 409)
            repos = [
                {"id": r["id"], "name": r["name"], "full_name": f"{r['owner']}/{r['name']}"}
                for r in self.repos.values()
                if r["id"] in stored.selected
            ]
        return json_response({"total_count": len(repos), "repositories": repos})

    @route("PUT", "/orgs/{org}/{kind}/secrets/{name}/repositories")
    def put_selected(self, request: Request, org: str, kind: str, name: str) -> Response:
        scope, _ = self._scope(request, self._org_kind(kind), org)
        ids = _json(request).get("selected_repository_ids")
        with self.lock:
            stored = scope.secrets.get(name.upper())
            if stored is None:
                return _not_found()
            if stored.visibility != "selected":
                return json_response({"message": "visibility is not selected"}, 409)
            stored.selected = tuple(sorted(int(i) for i in ids or []))
        return empty_response(204)

    def selected(self, organization: str, name: str, kind: str = "actions") -> list[str]:
        """The full names of the repositories an org secret is shared with."""
        scope = self.scope(organization=organization, kind=kind)
        with self.lock:
            ids = scope.secrets[name.upper()].selected
            return sorted(
                f"{r['owner']}/{r['name']}" for r in self.repos.values() if r["id"] in ids
            )

    def visibility(self, organization: str, name: str, kind: str = "actions") -> str:
        return self.scope(organization=organization, kind=kind).secrets[name.upper()].visibility

    def _entry(self, stored: Stored, org: bool) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": stored.name,
            "created_at": _iso(stored.created_at),
            "updated_at": _iso(stored.updated_at),
        }
        if org:
            entry["visibility"] = stored.visibility
        return entry

    def _list(self, request: Request, scope: Scope, *, org: bool = False) -> Response:
        try:
            per_page = min(100, max(1, int((request.query.get("per_page") or ["30"])[0])))
            page = max(1, int((request.query.get("page") or ["1"])[0]))
        except ValueError:
            return json_response({"message": "Invalid request"}, 422)
        with self.lock:
            items = [self._entry(scope.secrets[n], org) for n in sorted(scope.secrets)]
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            query = urlencode({"per_page": per_page, "page": page + 1})
            headers["Link"] = f'<{self._base(request)}{request.path}?{query}>; rel="next"'
        return json_response({"total_count": len(items), "secrets": chunk}, headers=headers)

    def _get(self, request: Request, scope: Scope, name: str, *, org: bool = False) -> Response:
        if name == "public-key":
            return json_response({"key_id": scope.key_id, "key": scope.public_key})
        with self.lock:
            stored = scope.secrets.get(name.upper())
            if stored is None:
                return _not_found()
            return json_response(self._entry(stored, org))

    def _put(self, request: Request, scope: Scope, name: str, *, org: str = "") -> Response:
        body = _json(request)
        problem = name_error(name)
        if problem:
            return _invalid(problem)
        sealed_b64, key_id = body.get("encrypted_value"), body.get("key_id")
        if not isinstance(sealed_b64, str) or not isinstance(key_id, str):
            return _invalid("encrypted_value and key_id are required strings")
        with self.lock:
            if key_id != scope.key_id:
                return _invalid("key_id does not match the current public key")
            try:
                sealed = base64.b64decode(sealed_b64, validate=True)
                plaintext = scope.open(sealed)
            except (ValueError, CryptoError):
                return _invalid("encrypted_value is not a sealed box for this key")
            if len(plaintext.encode()) > MAX_VALUE_BYTES:
                return _invalid("Secret value is too large (48 KB)")
            visibility, selected = "", ()
            if org:
                visibility = body.get("visibility")
                if visibility not in ("all", "private", "selected"):
                    return _invalid("visibility must be all, private or selected")
                ids = body.get("selected_repository_ids") or []
                want = int if scope.kind == "org" else (str, int)
                if not isinstance(ids, list) or not all(isinstance(i, want) for i in ids):
                    return _invalid("selected_repository_ids has the wrong type")
                if ids and visibility != "selected":
                    return _invalid("selected_repository_ids needs visibility selected")
                known = {r["id"] for r in self.repos.values() if r["owner"].lower() == org.lower()}
                if any(int(i) not in known for i in ids):
                    return _invalid("selected_repository_ids has an unknown repository")
                selected = tuple(sorted(int(i) for i in ids))
            key = name.upper()
            created = key not in scope.secrets
            if created and len(scope.secrets) >= LIMITS[scope.kind]:
                return _invalid("Too many secrets")
            now = self.now()
            old = scope.secrets.get(key)
            scope.secrets[key] = Stored(
                key, sealed, old.created_at if old else now, now, visibility, selected
            )
        return json_response({}, 201) if created else empty_response(204)

    def _delete(self, scope: Scope, name: str) -> Response:
        with self.lock:
            if scope.secrets.pop(name.upper(), None) is None:
                return _not_found()
        return empty_response(204)

    # ------------------------------------------------------------------ variables

    def _vars(self, request: Request, owner: str, org: bool) -> dict[str, dict[str, Any]]:
        key = f"org:{owner.lower()}" if org else f"repo:{owner.lower()}"
        store = self.variables.get(key)
        if store is None:
            raise Denied(_not_found())
        permission = "organization_variables" if org else "variables"
        self._need(request, permission, "read" if request.method == "GET" else "write")
        return store

    @route("GET", "/repos/{owner}/{repo}/actions/variables")
    def list_repo_variables(self, request: Request, owner: str, repo: str) -> Response:
        return self._list_vars(self._vars(request, f"{owner}/{repo}", False))

    @route("POST", "/repos/{owner}/{repo}/actions/variables")
    def create_repo_variable(self, request: Request, owner: str, repo: str) -> Response:
        return self._create_var(request, self._vars(request, f"{owner}/{repo}", False))

    @route("GET", "/repos/{owner}/{repo}/actions/variables/{name}")
    def get_repo_variable(self, request: Request, owner: str, repo: str, name: str) -> Response:
        return self._get_var(self._vars(request, f"{owner}/{repo}", False), name)

    @route("PATCH", "/repos/{owner}/{repo}/actions/variables/{name}")
    def patch_repo_variable(self, request: Request, owner: str, repo: str, name: str) -> Response:
        return self._patch_var(request, self._vars(request, f"{owner}/{repo}", False), name)

    @route("DELETE", "/repos/{owner}/{repo}/actions/variables/{name}")
    def delete_repo_variable(self, request: Request, owner: str, repo: str, name: str) -> Response:
        return self._delete_var(self._vars(request, f"{owner}/{repo}", False), name)

    @route("GET", "/orgs/{org}/actions/variables")
    def list_org_variables(self, request: Request, org: str) -> Response:
        return self._list_vars(self._vars(request, org, True))

    @route("POST", "/orgs/{org}/actions/variables")
    def create_org_variable(self, request: Request, org: str) -> Response:
        body = _json(request)
        if body.get("visibility") not in ("all", "private", "selected"):
            return _invalid("visibility must be all, private or selected")
        return self._create_var(request, self._vars(request, org, True))

    @route("GET", "/orgs/{org}/actions/variables/{name}")
    def get_org_variable(self, request: Request, org: str, name: str) -> Response:
        return self._get_var(self._vars(request, org, True), name)

    @route("PATCH", "/orgs/{org}/actions/variables/{name}")
    def patch_org_variable(self, request: Request, org: str, name: str) -> Response:
        return self._patch_var(request, self._vars(request, org, True), name)

    @route("DELETE", "/orgs/{org}/actions/variables/{name}")
    def delete_org_variable(self, request: Request, org: str, name: str) -> Response:
        return self._delete_var(self._vars(request, org, True), name)

    def _list_vars(self, store: dict[str, dict[str, Any]]) -> Response:
        with self.lock:
            items = [dict(store[n]) for n in sorted(store)][:30]
        return json_response({"total_count": len(store), "variables": items})

    def _create_var(self, request: Request, store: dict[str, dict[str, Any]]) -> Response:
        body = _json(request)
        name, value = body.get("name"), body.get("value")
        if not isinstance(name, str) or not isinstance(value, str) or name_error(name):
            return _invalid("name and value are required; the name follows the secret rules")
        if len(value.encode()) > MAX_VALUE_BYTES:
            return _invalid("Variable value is too large (48 KB)")
        with self.lock:
            if name.upper() in store:
                return json_response({"message": "Already exists"}, 409)
            store[name.upper()] = _variable(name, value, self.now())
            if "visibility" in body:
                store[name.upper()]["visibility"] = body["visibility"]
        return json_response({}, 201)

    def _get_var(self, store: dict[str, dict[str, Any]], name: str) -> Response:
        with self.lock:
            entry = store.get(name.upper())
            if entry is None:
                return _not_found()
            return json_response(dict(entry))

    def _patch_var(self, request: Request, store: dict[str, dict[str, Any]], name: str) -> Response:
        body = _json(request)
        value = body.get("value")
        if not isinstance(value, str):
            return _invalid("value is required")
        if len(value.encode()) > MAX_VALUE_BYTES:
            return _invalid("Variable value is too large (48 KB)")
        with self.lock:
            entry = store.get(name.upper())
            if entry is None:
                return _not_found()
            entry["value"] = value
            entry["updated_at"] = _iso(self.now())
        return empty_response(204)

    def _delete_var(self, store: dict[str, dict[str, Any]], name: str) -> Response:
        with self.lock:
            if store.pop(name.upper(), None) is None:
                return _not_found()
        return empty_response(204)


def _variable(name: str, value: str, now: float) -> dict[str, Any]:
    return {"name": name.upper(), "value": value, "created_at": _iso(now), "updated_at": _iso(now)}


def _bearer(request: RecordedRequest) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() in ("token", "bearer") and token.strip() else None


def _json(request: Request) -> dict[str, Any]:
    try:
        data = request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _not_found() -> Response:
    return json_response(
        {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, 404
    )


def _invalid(message: str) -> Response:
    return json_response(
        {"message": message, "documentation_url": "https://docs.github.com/rest"}, 422
    )
