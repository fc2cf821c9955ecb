"""Which Doppler config goes where in Infisical.

A mapping file (YAML; names only, never values or tokens)::

    from:                         # defaults for every mapping (Doppler)
      project: iac-conf-mgmt
      api-host: https://api.doppler.com   # default: $DOPPLER_API_HOST, else Doppler's
    to:                           # defaults for every mapping (Infisical)
      api-url: https://infisical.lan      # the server root (default: $INFISICAL_API_URL)
      project-id: 6f1c0d2e-...            # or project-slug
      path: /
    mappings:
      - from: { config: dev }
        to: { environment: dev }
      - from: { config: prd, token-env: DOPPLER_TOKEN_PRD }   # a service token per config
        to: { environment: prod, path: /terraform }

``token-env`` names the environment variable that holds that config's
Doppler token (default ``DOPPLER_TOKEN``).  Without a file, the flags give
one mapping.  Every problem is reported at once with its line (unknown
keys, wrong types, two mappings into one Infisical folder).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.sync.config import ConfigError, Problem

_FROM_KEYS = ("project", "config", "api-host", "token-env")
_TO_KEYS = ("api-url", "project-id", "project-slug", "environment", "path")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Source:
    project: str = ""
    config: str = ""
    api_host: str = ""
    token_env: str = ""  #: default DOPPLER_TOKEN


@dataclass(frozen=True)
class Target:
    api_url: str = ""
    project_id: str = ""
    project_slug: str = ""
    environment: str = ""
    path: str = "/"


@dataclass(frozen=True)
class Mapping:
    source: Source
    target: Target
    line: int = 0

    @property
    def label(self) -> str:
        s, t = self.source, self.target
        project = t.project_id or t.project_slug
        config = f"{s.project}/{s.config}" if s.project or s.config else "(the token's config)"
        return f"doppler {config} -> infisical {project}/{t.environment}:{t.path or '/'}"


def _merge(base: Any, override: dict[str, str]) -> Any:
    given = {k.replace("-", "_"): v for k, v in override.items() if v}
    return replace(base, **given)


def from_flags(source: dict[str, str], target: dict[str, str]) -> list[Mapping]:
    """One mapping from flags (keys as in the file, values "" when not given)."""
    mapping = Mapping(_merge(Source(), source), _merge(Target(), target))
    problems = _check(mapping)
    if problems:
        raise UserError("; ".join(p.message for p in problems), ExitCode.USAGE)
    return [mapping]


def load(path: str, source: dict[str, str], target: dict[str, str]) -> list[Mapping]:
    """The mappings of the file; ``source``/``target`` flags override its defaults."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot be read ({type(exc).__name__})", ExitCode.USAGE) from None
    return parse(text, path, source, target)


def parse(
    text: str, path: str, source: dict[str, str] | None = None, target: dict[str, str] | None = None
) -> list[Mapping]:
    from homelab_secrets.sync.config_reader import Reader

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(path, [Problem(mark.line + 1 if mark else 0, "not valid YAML")]) from None
    except yaml.YAMLError:
        raise ConfigError(path, [Problem(0, "not valid YAML")]) from None
    reader = Reader()
    if root is None:
        raise ConfigError(path, [Problem(0, "nothing in it")])
    top = reader.mapping(root, "the file", ("from", "to", "mappings"))

    def block(node: Any, where: str, keys: tuple[str, ...]) -> dict[str, str]:
        return {
            k: reader.text(v, f"{where}.{k}") for k, v in reader.mapping(node, where, keys).items()
        }

    base_source = _merge(Source(), block(top["from"], "from", _FROM_KEYS) if "from" in top else {})
    base_target = _merge(Target(), block(top["to"], "to", _TO_KEYS) if "to" in top else {})
    base_source = _merge(base_source, source or {})
    base_target = _merge(base_target, target or {})
    mappings: list[Mapping] = []
    entries = top.get("mappings")
    if not isinstance(entries, yaml.SequenceNode) or not entries.value:
        reader.fail(entries if entries is not None else root, "mappings: must be a non-empty list")
    else:
        for index, node in enumerate(entries.value):
            where = f"mappings[{index}]"
            item = reader.mapping(node, where, ("from", "to"))
            src = block(item["from"], f"{where}.from", _FROM_KEYS) if "from" in item else {}
            dst = block(item["to"], f"{where}.to", _TO_KEYS) if "to" in item else {}
            mapping = Mapping(
                _merge(base_source, src), _merge(base_target, dst), node.start_mark.line + 1
            )
            for problem in _check(mapping):
                reader.fail(node, f"{where}: {problem.message}")
            mappings.append(mapping)
    seen: dict[tuple[str, str, str], int] = {}
    for mapping in mappings:
        t = mapping.target
        key = (t.project_id or t.project_slug, t.environment, t.path.rstrip("/") or "/")
        if key in seen:
            reader.problems.append(
                Problem(mapping.line, f"goes to the same Infisical folder as line {seen[key]}")
            )
        seen.setdefault(key, mapping.line)
    if reader.problems:
        raise ConfigError(path, reader.problems)
    return mappings


def _check(mapping: Mapping) -> list[Problem]:
    out = []
    s, t = mapping.source, mapping.target
    if s.token_env and not _ENV_NAME.match(s.token_env):
        out.append(Problem(mapping.line, "token-env must be an environment variable's name"))
    if bool(s.project) != bool(s.config):
        out.append(Problem(mapping.line, "give the Doppler project and config together"))
    if bool(t.project_id) == bool(t.project_slug):
        out.append(Problem(mapping.line, "give the Infisical project-id or project-slug (one)"))
    if not t.environment:
        out.append(Problem(mapping.line, "give the Infisical environment (slug, e.g. prod)"))
    return out
