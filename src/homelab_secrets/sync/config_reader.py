"""Reads ``sync.yaml``'s YAML node tree into :mod:`~homelab_secrets.sync.config`'s
dataclasses, collecting every problem with its line (PyYAML's marks): unknown
or repeated keys, wrong types, choices, target rules.  The schema itself is
documented in :mod:`homelab_secrets.sync.config`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import yaml

from homelab_secrets.sync.config import (
    PROVIDERS,
    TYPES,
    VISIBILITIES,
    Limits,
    Problem,
    SourceConfig,
    SyncConfig,
    Target,
    default_name,
)

_OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})"
_REPO_NAME = r"[A-Za-z0-9._-]{1,100}"
_REPOSITORY = re.compile(rf"({_OWNER})/({_REPO_NAME})\Z")
_LOGIN = re.compile(rf"{_OWNER}\Z")
_SYNC_NAME = re.compile(r"[A-Za-z0-9_]{1,40}\Z")
_TARGET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,199}\Z")

_TOP_KEYS = ("name", "source", "targets", "prune", "limits")
_SOURCE_KEYS = (
    "provider",
    "project",
    "config",
    "api-host",
    "api-url",
    "project-id",
    "project-slug",
    "environment",
    "path",
    "recursive",
)
_TARGET_KEYS = (
    "repository",
    "organization",
    "environment",
    "type",
    "visibility",
    "repositories",
    "include",
    "exclude",
    "rename",
    "prune",
    "name",
)
_LIMIT_KEYS = {"concurrency": (1, 16), "writes-per-minute": (0, 10_000), "max-writes": (1, 100_000)}


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class Reader:
    """Turns the YAML node tree into the dataclasses, collecting problems."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, node: yaml.Node | None, message: str) -> None:
        self.problems.append(Problem(_line(node) if node is not None else 0, message))

    def mapping(self, node: yaml.Node, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        """{key: value node} of a mapping; unknown and repeated keys are problems."""
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{where}: must be a mapping")
            return {}
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str) or key not in allowed:
                self.fail(key_node, f"{where}: unknown key {key!r} (known: {', '.join(allowed)})")
            elif key in out:
                self.fail(key_node, f"{where}: {key} is given twice")
            else:
                out[key] = value_node
        return out

    def text(self, node: yaml.Node, where: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str":
            if isinstance(node, yaml.ScalarNode) and node.tag in (
                "tag:yaml.org,2002:int",
                "tag:yaml.org,2002:float",
            ):
                return str(node.value)  # `config: 2024` is a name too
            self.fail(node, f"{where}: must be a string")
            return ""
        return str(node.value)

    def flag(self, node: yaml.Node, where: str) -> bool:
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
            return bool(yaml.safe_load(node.value))
        self.fail(node, f"{where}: must be true or false")
        return False

    def number(self, node: yaml.Node, where: str, low: int, high: int) -> int | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:int":
            value = int(yaml.safe_load(node.value))
            if low <= value <= high:
                return value
        self.fail(node, f"{where}: must be a whole number from {low} to {high}")
        return None

    def texts(self, node: yaml.Node, where: str) -> tuple[str, ...]:
        """A list of strings (a single string is a list of one)."""
        if isinstance(node, yaml.ScalarNode):
            return (self.text(node, where),)
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{where}: must be a list of strings")
            return ()
        return tuple(self.text(item, f"{where}[{i}]") for i, item in enumerate(node.value))

    def choice(self, node: yaml.Node, where: str, choices: tuple[str, ...]) -> str:
        value = self.text(node, where)
        if value and value not in choices:
            self.fail(node, f"{where}: must be one of {', '.join(choices)}, not {value!r}")
        return value

    # ------------------------------------------------------------------ blocks

    def document(self, root: yaml.Node | None, path: str) -> SyncConfig | None:
        if root is None:
            self.fail(None, "the file is empty: give source and targets")
            return None
        top = self.mapping(root, "top level", _TOP_KEYS)
        if not top:
            return None
        name = ""
        if "name" in top:
            name = self.text(top["name"], "name")
            if name and not _SYNC_NAME.match(name):
                self.fail(top["name"], "name: use 1 to 40 letters, digits or _")
        prune = self.flag(top["prune"], "prune") if "prune" in top else False
        source = SourceConfig()
        if "source" in top:
            source = self.source(top["source"])
        else:
            self.fail(root, "source: missing (e.g. {provider: doppler, project: P, config: C})")
        targets: list[Target] = []
        if "targets" not in top:
            self.fail(root, "targets: missing (a list of repositories/organizations)")
        elif not isinstance(top["targets"], yaml.SequenceNode) or not top["targets"].value:
            self.fail(top["targets"], "targets: must be a non-empty list")
        else:
            for i, item in enumerate(top["targets"].value):
                target = self.target(item, f"targets[{i}]", prune)
                if target is not None:
                    targets.append(target)
        self.unique(targets)
        limits = self.limits(top["limits"]) if "limits" in top else Limits()
        return SyncConfig(path, source, tuple(targets), name, prune, limits)

    def source(self, node: yaml.Node) -> SourceConfig:
        keys = self.mapping(node, "source", _SOURCE_KEYS)
        values = {k: self.text(v, f"source.{k}") for k, v in keys.items() if k != "recursive"}
        provider = values.get("provider") or "doppler"
        if provider not in PROVIDERS:
            self.fail(keys["provider"], f"source.provider: must be one of {', '.join(PROVIDERS)}")
        own = {
            "doppler": ("provider", "project", "config", "api-host"),
            "infisical": (
                "provider",
                "api-url",
                "project-id",
                "project-slug",
                "environment",
                "path",
                "recursive",
            ),
        }.get(provider, _SOURCE_KEYS)
        for key, value_node in keys.items():
            if key not in own:
                self.fail(value_node, f"source.{key}: not a {provider} setting")
        if bool(values.get("project")) != bool(values.get("config")):
            self.fail(
                node,
                "source: give project and config together (or neither, with a Doppler "
                "service token, which reads its own config)",
            )
        return SourceConfig(
            provider=provider,
            project=values.get("project", ""),
            config=values.get("config", ""),
            api_host=values.get("api-host") or values.get("api-url", ""),
            project_id=values.get("project-id", ""),
            project_slug=values.get("project-slug", ""),
            environment=values.get("environment", ""),
            path=values.get("path") or "/",
            recursive=self.flag(keys["recursive"], "source.recursive")
            if "recursive" in keys
            else False,
        )

    def target(self, node: yaml.Node, where: str, prune_default: bool) -> Target | None:
        keys = self.mapping(node, where, _TARGET_KEYS)
        if not keys:
            return None
        before = len(self.problems)
        get = keys
        has_repo, has_org = "repository" in get, "organization" in get
        if has_repo == has_org:
            self.fail(node, f"{where}: give exactly one of repository (owner/name) or organization")
            return None
        app = self.choice(get["type"], f"{where}.type", TYPES) if "type" in get else ""
        app = app or "actions"
        include = self.texts(get["include"], f"{where}.include") if "include" in get else ("*",)
        exclude = self.texts(get["exclude"], f"{where}.exclude") if "exclude" in get else ()
        if "include" in get and not include:
            self.fail(get["include"], f"{where}.include: empty: leave it out to sync everything")
        rename = self.rename(get["rename"], f"{where}.rename") if "rename" in get else {}
        prune = self.flag(get["prune"], f"{where}.prune") if "prune" in get else prune_default
        common: dict[str, Any] = {
            "include": include,
            "exclude": exclude,
            "rename": rename,
            "prune": prune,
            "line": _line(node),
            "app": app,
        }
        if has_repo:
            full = self.text(get["repository"], f"{where}.repository")
            match = _REPOSITORY.match(full)
            if not match:
                self.fail(get["repository"], f"{where}.repository: must be owner/name")
                return None
            for key in ("visibility", "repositories"):
                if key in get:
                    self.fail(get[key], f"{where}.{key}: only for organization targets")
            environment = ""
            if "environment" in get:
                environment = self.text(get["environment"], f"{where}.environment").strip()
                if not environment:
                    self.fail(get["environment"], f"{where}.environment: empty")
                elif app == "dependabot":
                    self.fail(get["type"], f"{where}: Dependabot secrets have no environments")
            target = Target(
                name="",
                scope="environment" if environment else "repository",
                owner=match[1],
                repository=match[2],
                environment=environment,
                **common,
            )
        else:
            login = self.text(get["organization"], f"{where}.organization")
            if not _LOGIN.match(login):
                self.fail(get["organization"], f"{where}.organization: not an organization name")
                return None
            if "environment" in get:
                self.fail(get["environment"], f"{where}.environment: only for repositories")
            visibility = "private"
            if "visibility" in get:
                visibility = self.choice(get["visibility"], f"{where}.visibility", VISIBILITIES)
            repositories = self.org_repositories(get, where, login, visibility)
            target = Target(
                name="",
                scope="organization",
                owner=login,
                visibility=visibility or "private",
                repositories=repositories,
                **common,
            )
        name = default_name(target)
        if "name" in get:
            name = self.text(get["name"], f"{where}.name")
            if not _TARGET_NAME.match(name):
                self.fail(get["name"], f"{where}.name: use letters, digits and _.:/@-")
        if len(self.problems) > before:
            return None
        return replace(target, name=name)

    def org_repositories(
        self, get: dict[str, Any], where: str, login: str, visibility: str
    ) -> tuple[str, ...]:
        if "repositories" not in get:
            if visibility == "selected":
                self.fail(get.get("visibility"), f"{where}: visibility selected needs repositories")
            return ()
        node = get["repositories"]
        if visibility not in VISIBILITIES:
            return ()  # already reported
        if visibility != "selected":
            self.fail(node, f"{where}.repositories: only with visibility: selected")
            return ()
        names: list[str] = []
        for i, item in enumerate(node.value if isinstance(node, yaml.SequenceNode) else [node]):
            value = self.text(item, f"{where}.repositories[{i}]")
            owner, _, repo = value.rpartition("/")
            if owner and owner.lower() != login.lower():
                self.fail(item, f"{where}.repositories[{i}]: {value} is not in {login}")
            elif not re.fullmatch(_REPO_NAME, repo):
                self.fail(item, f"{where}.repositories[{i}]: not a repository name")
            elif repo.lower() in (n.lower() for n in names):
                self.fail(item, f"{where}.repositories[{i}]: {repo} is listed twice")
            else:
                names.append(repo)
        if not names and isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{where}.repositories: empty")
        return tuple(names)

    def rename(self, node: yaml.Node, where: str) -> dict[str, str]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{where}: must be a mapping SOURCE_NAME: GITHUB_NAME")
            return {}
        out: dict[str, str] = {}
        seen: set[str] = set()
        for key_node, value_node in node.value:
            old = self.text(key_node, where)
            new = self.text(value_node, f"{where}.{old}")
            if old in out:
                self.fail(key_node, f"{where}: {old} is renamed twice")
            elif new.upper() in seen:
                self.fail(value_node, f"{where}: two names are renamed to {new}")
            else:
                out[old] = new
                seen.add(new.upper())
        return out

    def limits(self, node: yaml.Node) -> Limits:
        keys = self.mapping(node, "limits", tuple(_LIMIT_KEYS))
        values: dict[str, int] = {}
        for key, value_node in keys.items():
            number = self.number(value_node, f"limits.{key}", *_LIMIT_KEYS[key])
            if number is not None:
                values[key.replace("-", "_")] = number
        return Limits(**values)

    def unique(self, targets: list[Target]) -> None:
        names: dict[str, Target] = {}
        keys: dict[str, Target] = {}
        for target in targets:
            if target.name in names:
                self.problems.append(
                    Problem(
                        target.line,
                        f"target name {target.name} is used twice "
                        f"(also line {names[target.name].line}); set name: on one",
                    )
                )
            if target.key in keys:
                self.problems.append(
                    Problem(
                        target.line,
                        f"{default_name(target)} is a target twice (also line "
                        f"{keys[target.key].line}); merge the two entries",
                    )
                )
            names.setdefault(target.name, target)
            keys.setdefault(target.key, target)
