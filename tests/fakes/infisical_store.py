"""The fake Infisical's data and Infisical's rules about it, without HTTP.

A :class:`Project` has environments; an environment has folders keyed by
path (``/`` always exists); a folder has secrets and imports of other
folders.  The rules (contract: ``shared/reference/secret-managers.md`` §5):

* a listing is one folder, plus every sub-folder with ``recursive``; each
  secret carries its folder as ``secretPath``;
* ``include_imports`` adds, per listed folder, one ``imports`` entry per
  imported folder, in import order (clients apply them: direct secrets win,
  then imports from the last to the first);
* ``expandSecretReferences`` resolves ``${KEY}`` (same folder) and
  ``${env.a.b.KEY}`` (environment ``env``, folder ``/a/b``), nested up to
  :data:`MAX_REFERENCE_DEPTH`; an unknown reference becomes empty;
* writes trim values, keeping one trailing newline (:func:`trimmed`), and
  are all or nothing; an environment under a change-approval policy answers
  with an approval request and changes nothing.

Callers hold the fake's lock around every method here.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

MAX_REFERENCE_DEPTH = 5
_REFERENCE = re.compile(r"\$\{([^}]+)\}")
#: ``mode`` of a batch update; ``create`` is ours, for the create routes
WRITE_MODES = ("create", "failOnNotFound", "upsert", "ignore")


class ApiError(Exception):
    """An error answer: becomes ``{reqId, statusCode, message, error}``."""

    def __init__(self, status: int, error: str, message: Any) -> None:
        super().__init__(status, error, message)
        self.status, self.error, self.message = status, error, message


def invalid(*issues: tuple[str, str]) -> ApiError:
    """422 whose ``message`` is an array of zod-style issues: (field, message) each."""
    body = [{"code": "custom", "path": [name], "message": message} for name, message in issues]
    return ApiError(422, "ValidationFailure", body)


def trimmed(value: str) -> str:
    """What the server stores for ``value``: trimmed, keeping one trailing newline."""
    return f"{value.strip()}\n" if value.endswith("\n") else value.strip()


def folder_path(raw: str) -> str:
    """``apps/web/`` -> ``/apps/web``; ``""`` -> ``/`` (trailing slash removed like the server)."""
    return "/" + "/".join(part for part in raw.strip().split("/") if part)


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Secret:
    key: str
    value: str
    comment: str = ""
    version: int = 1
    skip_multiline: bool = False
    id: str = field(default_factory=_new_id)
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)


@dataclass
class Folder:
    id: str = field(default_factory=_new_id)
    secrets: dict[str, Secret] = field(default_factory=dict)
    #: (environment, path) of imported folders, in import order
    imports: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Project:
    id: str
    slug: str
    #: environment slug -> folder path -> folder
    folders: dict[str, dict[str, Folder]] = field(default_factory=dict)
    #: environments under a change-approval policy: writes open an approval request
    approval_environments: set[str] = field(default_factory=set)
    #: names whose values are hidden from every identity (``secretValueHidden``)
    hidden: set[str] = field(default_factory=set)

    # -- finding

    def environment(self, environment: Any) -> dict[str, Folder]:
        if not isinstance(environment, str) or not environment:
            raise ApiError(400, "BadRequest", "Missing project id or environment")
        folders = self.folders.get(environment)
        if folders is None:
            raise ApiError(
                404, "NotFound", f"Environment with slug '{environment}' in project not found"
            )
        return folders

    def folder(self, environment: Any, path: str) -> Folder:
        folder = self.environment(environment).get(path)
        if folder is None:
            raise ApiError(
                404,
                "NotFound",
                f"Folder with path '{path}' in environment with slug '{environment}' not found",
            )
        return folder

    # -- reading

    def expand(self, env: str, path: str, value: str, depth: int = 0) -> str:
        if depth >= MAX_REFERENCE_DEPTH:
            return value

        def resolve(match: re.Match[str]) -> str:
            parts = match[1].strip().split(".")
            if len(parts) == 1:
                ref_env, ref_path = env, path
            else:
                ref_env, ref_path = parts[0], "/" + "/".join(parts[1:-1])
            folder = self.folders.get(ref_env, {}).get(ref_path)
            secret = folder.secrets.get(parts[-1]) if folder else None
            if secret is None:
                return ""
            return self.expand(ref_env, ref_path, secret.value, depth + 1)

        return _REFERENCE.sub(resolve, value)

    def secret_json(
        self, env: str, path: str, secret: Secret, *, expand: bool = False, times: bool = True
    ) -> dict[str, Any]:
        """The shape the SDK requires (``id, _id, workspace, …``); imported
        secrets come without ``createdAt``/``updatedAt`` (``times=False``) as in v4."""
        hidden = secret.key in self.hidden
        value = self.expand(env, path, secret.value) if expand else secret.value
        out: dict[str, Any] = {
            "id": secret.id,
            "_id": secret.id,
            "workspace": self.id,
            "environment": env,
            "version": secret.version,
            "type": "shared",
            "secretKey": secret.key,
            "secretValue": "<hidden-by-infisical>" if hidden else value,
            "secretComment": secret.comment,
            "secretReminderNote": None,
            "secretReminderRepeatDays": None,
            "skipMultilineEncoding": secret.skip_multiline,
            "secretPath": path,
            "secretValueHidden": hidden,
            "secretMetadata": [],
            "tags": [],
        }
        if times:
            out["createdAt"] = secret.created_at
            out["updatedAt"] = secret.updated_at
        return out

    def listing(
        self, env: str, path: str, *, recursive: bool, include_imports: bool, expand: bool
    ) -> dict[str, Any]:
        folders = self.environment(env)
        self.folder(env, path)
        prefix = "/" if path == "/" else path + "/"
        paths = [path]
        if recursive:
            paths += sorted(p for p in folders if p != path and p.startswith(prefix))
        secrets = [
            self.secret_json(env, p, secret, expand=expand)
            for p in paths
            for secret in folders[p].secrets.values()
        ]
        imports = []
        for p in paths if include_imports else []:
            for imp_env, imp_path in folders[p].imports:
                source = self.folders.get(imp_env, {}).get(imp_path)
                if source is None:
                    continue
                shown = [
                    self.secret_json(imp_env, imp_path, s, expand=expand, times=False)
                    for s in source.secrets.values()
                ]
                imports.append(
                    {
                        "secretPath": imp_path,
                        "environment": imp_env,
                        "folderId": source.id,
                        "secrets": shown,
                    }
                )
        return {"secrets": secrets, "imports": imports}

    def find(
        self, env: str, path: str, name: str, *, include_imports: bool, expand: bool
    ) -> dict[str, Any]:
        """One secret; with imports, the last import holding ``name`` wins."""
        folder = self.folder(env, path)
        if name in folder.secrets:
            return self.secret_json(env, path, folder.secrets[name], expand=expand)
        for imp_env, imp_path in reversed(folder.imports if include_imports else []):
            source = self.folders.get(imp_env, {}).get(imp_path)
            if source is not None and name in source.secrets:
                return self.secret_json(imp_env, imp_path, source.secrets[name], expand=expand)
        raise ApiError(404, "NotFound", f"Secret with name '{name}' not found")

    # -- writing

    def write(self, env: str, path: str, items: list[dict[str, Any]], mode: str) -> dict[str, Any]:
        """Create (``mode="create"``) or update ``items`` (``{secretKey,
        secretValue?, secretComment?}``), all or nothing; the answer body."""
        issues = []
        for i, item in enumerate(items):
            key = item.get("secretKey")
            if not isinstance(key, str) or not key.strip() or re.search(r"\s", key.strip()):
                issues.append((f"secrets.{i}.secretKey", "Invalid secret name"))
            value = item.get("secretValue")
            if not isinstance(value, str) and (mode == "create" or value is not None):
                issues.append((f"secrets.{i}.secretValue", "Expected string"))
        if mode not in WRITE_MODES:
            issues.append(("mode", "Invalid enum value"))
        if issues or not items:
            raise invalid(*(issues or [("secrets", "Array must contain at least 1 item")]))
        folder = self.folder(env, path)
        keys = [item["secretKey"].strip() for item in items]
        if mode == "create" and any(key in folder.secrets for key in keys):
            raise ApiError(400, "BadRequest", "Secret already exist")
        absent = [key for key in keys if key not in folder.secrets]
        if mode == "failOnNotFound" and absent:
            raise ApiError(404, "NotFound", f"Secret not found: {', '.join(absent)}")
        if env in self.approval_environments:
            return {"approval": self._approval(folder)}
        written = []
        for key, item in zip(keys, items, strict=True):
            secret = folder.secrets.get(key)
            value, comment = item.get("secretValue"), item.get("secretComment")
            if secret is None:
                if mode == "ignore":
                    continue
                secret = folder.secrets[key] = Secret(key, trimmed(value or ""), comment or "")
            else:
                if value is not None:
                    secret.value = trimmed(value)
                if isinstance(comment, str):
                    secret.comment = comment
                secret.version += 1
                secret.updated_at = now_iso()
            written.append(self.secret_json(env, path, secret))
        return {"secrets": written}

    def _approval(self, folder: Folder) -> dict[str, Any]:
        return {
            "id": _new_id(),
            "slug": f"change-{uuid.uuid4().hex[:8]}",
            "projectId": self.id,
            "folderId": folder.id,
            "status": "open",
            "hasMerged": False,
            "conflicts": [],
            "committerUserId": None,
            "createdAt": now_iso(),
            "updatedAt": now_iso(),
        }
