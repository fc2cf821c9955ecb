"""A fake self-hosted Infisical: machine-identity logins and the secrets API.

Written from the verified contract (``shared/reference/secret-managers.md``
§0 and §5), proven against the official Python SDK in
``test_infisical_fake_vs_sdk.py``.  Three modules, one job each: this one
(the secrets routes and arranging a test's state),
:mod:`fakes.infisical_auth` (identities, tokens, logins, error shapes) and
:mod:`fakes.infisical_store` (projects, folders, imports, references, writes).

Secrets API (besides the logins; every call needs a Bearer access token)::

    GET   /api/v3/secrets/raw   workspaceId | workspaceSlug, environment, secretPath,
                                include_imports, recursive, expandSecretReferences
    GET   /api/v4/secrets       projectId, includeImports | include_imports, the same; ETag/304
          -> {secrets: [...], imports: [{secretPath, environment, folderId, secrets}]}
    GET|POST|PATCH  /api/v3/secrets/raw/{name}   workspaceId | workspaceSlug (query),
                                                 workspaceId | projectSlug (body)
    GET|POST|PATCH  /api/v4/secrets/{name}       projectId
    POST|PATCH      /api/v4/secrets/batch (projectId), /api/v3/secrets/batch/raw
                    (workspaceId | projectSlug); PATCH ``mode``: failOnNotFound (default),
                    upsert, ignore

An unknown project, environment or folder is 404 ``NotFound``, a project the
identity may not use 403 ``PermissionDenied``, a query flag other than
``true``/``false`` 422 with ``message`` an array, a duplicate create 400.
Faults (429 with or without ``Retry-After``, HTML 5xx, resets, malformed
JSON) come from :meth:`~fakes.base.FakeService.inject`; :meth:`FakeInfisical.rate_limit`
injects Infisical's own 429.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from fakes.base import Fault, Request, Response, json_response, route
from fakes.infisical_auth import DEFAULT_OIDC_KEY, GITHUB_ISSUER, InfisicalAuth, make_jwt
from fakes.infisical_store import ApiError, Folder, Project, Secret, folder_path, invalid, trimmed

__all__ = ["FakeInfisical", "Project", "Secret", "make_jwt", "trimmed"]


class FakeInfisical(InfisicalAuth):
    """State lives on ``self`` (under ``self.lock``); tests arrange it with the
    methods below and read it back with :meth:`values`."""

    _LIST_FLAGS: ClassVar[dict[str, bool]] = {
        "include_imports": False,
        "recursive": False,
        "expandSecretReferences": False,
    }

    def __init__(
        self,
        *,
        oidc_key: str | bytes = DEFAULT_OIDC_KEY,
        oidc_issuer: str | None = GITHUB_ISSUER,
        token_ttl: int = 7200,
        latency: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            oidc_key=oidc_key, oidc_issuer=oidc_issuer, token_ttl=token_ttl, clock=clock
        )
        self.latency = latency  #: seconds every request waits before its answer
        self.projects: dict[str, Project] = {}

    # -- arranging

    def add_project(
        self, project_id: str, slug: str, environments: Iterable[str] = ("dev", "staging", "prod")
    ) -> Project:
        with self.lock:
            project = Project(project_id, slug, {env: {"/": Folder()} for env in environments})
            self.projects[project_id] = project
            return project

    def add_folder(self, project_id: str, environment: str, path: str) -> Folder:
        """The folder at ``path``, created with its parents as needed."""
        with self.lock:
            folders = self.projects[project_id].folders[environment]
            current = ""
            for part in folder_path(path).split("/")[1:]:
                current += "/" + part
                folders.setdefault(current, Folder())
            return folders[folder_path(path)]

    def set_secret(
        self, project_id: str, environment: str, path: str, key: str, value: str, **kw: Any
    ) -> Secret:
        """Store ``value`` as given (trimming is the write API's job)."""
        with self.lock:
            secret = Secret(key, value, **kw)
            self.add_folder(project_id, environment, path).secrets[key] = secret
            return secret

    def add_import(
        self, project_id: str, environment: str, path: str, *, from_env: str, from_path: str
    ) -> None:
        with self.lock:
            folder = self.add_folder(project_id, environment, path)
            folder.imports.append((from_env, folder_path(from_path)))

    def require_approval(self, project_id: str, environment: str) -> None:
        with self.lock:
            self.projects[project_id].approval_environments.add(environment)

    def rate_limit(
        self, *, retry_after: int | None = 2, times: int | None = 1, path: str | None = None
    ) -> None:
        """Answer the next ``times`` requests (matching ``path``) with Infisical's 429."""
        wait = 60 if retry_after is None else retry_after
        headers = {
            "x-ratelimit-limit": "600",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(wait),
        }
        # the error name is not verified against a live server
        body = self.error_body(
            429, "RateLimitExceeded", f"Rate limit exceeded. Please try again in {wait} seconds"
        )
        fault = Fault.error(429, body, retry_after=retry_after, headers=headers)
        self.inject(fault, path=path, times=times)

    def values(self, project_id: str, environment: str, path: str = "/") -> dict[str, str]:
        """The stored values of one folder (no imports, no expansion)."""
        with self.lock:
            folder = self.projects[project_id].folders[environment][folder_path(path)]
            return {key: secret.value for key, secret in folder.secrets.items()}

    # -- plumbing

    def _dispatch(self, request: Any) -> Response:
        if self.latency:
            time.sleep(self.latency)
        return super()._dispatch(request)

    def _project(self, request: Request, project_id: Any, slug: Any) -> Project:
        """Authenticate, then find the project by id (preferred) or slug."""
        identity = self.identity(request)
        with self.lock:
            if project_id:
                project = self.projects.get(project_id)
                missing = f"Project with ID '{project_id}' not found"
            elif slug:
                project = next((p for p in self.projects.values() if p.slug == slug), None)
                missing = f"Project with slug '{slug}' not found"
            else:
                raise ApiError(400, "BadRequest", "Missing project id or environment")
        if project is None:
            raise ApiError(404, "NotFound", missing)
        if identity.projects is not None and project.id not in identity.projects:
            raise ApiError(403, "PermissionDenied", "You are not allowed to access this project")
        return project

    @staticmethod
    def _flags(
        request: Request, defaults: Mapping[str, bool], aliases: Mapping[str, str] | None = None
    ) -> dict[str, bool]:
        """Query booleans: ``true``/``false`` only (else 422); ``aliases`` maps a
        name to its other spelling."""
        out, issues = {}, []
        for name, default in defaults.items():
            spellings = [name, *([aliases[name]] if aliases and name in aliases else [])]
            raw = next((request.query[k][-1] for k in spellings if k in request.query), None)
            if raw is None:
                out[name] = default
            elif raw in ("true", "false"):
                out[name] = raw == "true"
            else:
                issues.append((name, "Invalid enum value. Expected 'true' | 'false'"))
        if issues:
            raise invalid(*issues)
        return out

    @staticmethod
    def _query(request: Request) -> dict[str, str]:
        return {key: values[-1] for key, values in request.query.items()}

    def _list(self, request: Request, project_id: Any, slug: Any, flags: dict[str, bool]) -> Any:
        q = self._query(request)
        project = self._project(request, project_id, slug)
        with self.lock:
            return project.listing(
                q.get("environment", ""),
                folder_path(q.get("secretPath", "/")),
                recursive=flags["recursive"],
                include_imports=flags["include_imports"],
                expand=flags["expandSecretReferences"],
            )

    def _get(self, request: Request, name: str, project_id: Any, slug: Any) -> Response:
        flags = self._flags(request, {"include_imports": False, "expandSecretReferences": False})
        q = self._query(request)
        project = self._project(request, project_id, slug)
        with self.lock:
            secret = project.find(
                q.get("environment", ""),
                folder_path(q.get("secretPath", "/")),
                name,
                include_imports=flags["include_imports"],
                expand=flags["expandSecretReferences"],
            )
        return json_response({"secret": secret})

    def _write(
        self, request: Request, name: str | None, mode: str, id_field: str, slug_field: str | None
    ) -> Response:
        """One secret (``name``) or a batch (``name`` None) by project id or slug."""
        body = self.body(request)
        if name is None:
            items = body.get("secrets")
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise invalid(("secrets", "Expected array"))
            if mode != "create":
                mode = str(body.get("mode", "failOnNotFound"))
        else:
            items = [{**body, "secretKey": name}]
        project = self._project(request, body.get(id_field), slug_field and body.get(slug_field))
        env = body.get("environment")
        if not isinstance(env, str):
            raise invalid(("environment", "Required"))
        path = folder_path(body.get("secretPath") or "/")
        with self.lock:
            answer = project.write(env, path, items, mode)
        if name is not None and "secrets" in answer:
            answer = {"secret": answer["secrets"][0]}
        return json_response(answer)

    # -- lists

    @route("GET", "/api/v3/secrets/raw")
    def list_v3(self, request: Request) -> Response:
        flags = self._flags(request, self._LIST_FLAGS)
        q = self._query(request)
        return json_response(
            self._list(request, q.get("workspaceId"), q.get("workspaceSlug"), flags)
        )

    @route("GET", "/api/v4/secrets")
    def list_v4(self, request: Request) -> Response:
        # the router read validates include_imports; CLI 0.43 sends includeImports
        flags = self._flags(request, self._LIST_FLAGS, {"include_imports": "includeImports"})
        project_id = self._query(request).get("projectId")
        if not project_id:  # v4 takes no slug
            raise ApiError(400, "BadRequest", "Missing project id or environment")
        body = json.dumps(self._list(request, project_id, None, flags)).encode()
        etag = 'W/"' + hashlib.sha256(body).hexdigest()[:27] + '"'
        if request.headers.get("if-none-match") == etag:
            return Response(304, b"", (("ETag", etag),))
        return Response(200, body, (("Content-Type", "application/json"), ("ETag", etag)))

    # -- v3 raw: project by workspaceId, or slug (workspaceSlug in a query, projectSlug in a body)

    @route("GET", "/api/v3/secrets/raw/{name}")
    def get_v3(self, request: Request, name: str) -> Response:
        q = self._query(request)
        return self._get(request, name, q.get("workspaceId"), q.get("workspaceSlug"))

    @route("POST", "/api/v3/secrets/raw/{name}")
    def create_v3(self, request: Request, name: str) -> Response:
        return self._write(request, name, "create", "workspaceId", "projectSlug")

    @route("PATCH", "/api/v3/secrets/raw/{name}")
    def update_v3(self, request: Request, name: str) -> Response:
        return self._write(request, name, "failOnNotFound", "workspaceId", "projectSlug")

    @route("POST", "/api/v3/secrets/batch/raw")
    def create_many_v3(self, request: Request) -> Response:
        return self._write(request, None, "create", "workspaceId", "projectSlug")

    @route("PATCH", "/api/v3/secrets/batch/raw")
    def update_many_v3(self, request: Request) -> Response:
        return self._write(request, None, "failOnNotFound", "workspaceId", "projectSlug")

    # -- v4: projectId only; ``batch`` is a static segment, matched before
    # ``{name}`` as fastify does

    @route("GET", "/api/v4/secrets/{name}")
    def get_v4(self, request: Request, name: str) -> Response:
        return self._get(request, name, self._query(request).get("projectId"), None)

    @route("POST", "/api/v4/secrets/{name}")
    def create_v4(self, request: Request, name: str) -> Response:
        return self._write(request, None if name == "batch" else name, "create", "projectId", None)

    @route("PATCH", "/api/v4/secrets/{name}")
    def update_v4(self, request: Request, name: str) -> Response:
        one = None if name == "batch" else name
        return self._write(request, one, "failOnNotFound", "projectId", None)
