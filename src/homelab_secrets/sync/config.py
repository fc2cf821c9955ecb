"""``sync.yaml``: what to copy from the secrets manager into which GitHub targets.

Schema (every key but ``source`` and ``targets`` is optional; unknown keys are
errors, so a typo never silently changes what is synced)::

    name: homelab            # names this sync's state variables (letters, digits, _);
                             # default: none -> HOMELAB_SECRETS_SYNC_STATE...
    source:                  # where values come from (as `homelab-secrets fetch`)
      provider: doppler      # doppler (default) | infisical
      project: iac-conf-mgmt # doppler: project + config (not with a service token)
      config: prd
      api-host: https://api.doppler.com   # default: $DOPPLER_API_HOST, else Doppler's
      # infisical: api-url, project-id | project-slug, environment, path, recursive
    targets:                 # one entry per GitHub secret store
      - repository: owner/terraform-proxmox   # repository Actions secrets
        include: ["PROXMOX_VE_*", "SPLUNK_*"] # globs over source names; default: all
        exclude: []                           # globs, applied after include
        rename: { SPLUNK_HEC_TOKEN: HEC_TOKEN }
      - repository: owner/ansible-splunk
        environment: production               # environment secrets (must exist)
      - repository: owner/ansible-proxmox
        type: dependabot                      # actions (default) | dependabot
      - organization: owner
        visibility: selected                  # all | private (default) | selected
        repositories: [terraform-proxmox, ansible-proxmox]   # with selected only
        name: org-owner                       # any target: its --target name
        prune: true                           # any target: overrides the top level
    prune: false             # delete secrets this sync created that left the source
    limits:
      concurrency: 4         # targets worked on at once (1..16)
      writes-per-minute: 80  # never more writes than this in any 60 s, all targets
                             # together (GitHub's content limit); 0: unpaced
      max-writes: 500        # writes per run; the rest waits for the next run

A target's default ``--target`` name says what it is: ``repo:owner/name``,
``env:owner/name/production``, ``dependabot:owner/name``, ``org:owner``,
``org-dependabot:owner``.

Every problem is reported at once, each as ``sync.yaml:LINE: where: what``
(a :class:`ConfigError`, exit code 2).  The file holds names only, never values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from homelab_secrets.errors import ExitCode, UserError

App = Literal["actions", "dependabot"]
Scope = Literal["repository", "environment", "organization"]

PROVIDERS = ("doppler", "infisical")
VISIBILITIES = ("all", "private", "selected")
TYPES = ("actions", "dependabot")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the file, at a line (1-based; 0: the file as a whole)."""

    line: int
    message: str


class ConfigError(UserError):
    """``sync.yaml`` is invalid: every problem, each with its line."""

    def __init__(self, path: str, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: p.line)
        text = "; ".join(
            f"{path}:{p.line}: {p.message}" if p.line else f"{path}: {p.message}"
            for p in self.problems
        )
        super().__init__(text, ExitCode.USAGE, path=path)


@dataclass(frozen=True)
class SourceConfig:
    """The ``source`` block, as written (credentials come from the environment)."""

    provider: str = "doppler"
    project: str = ""
    config: str = ""
    api_host: str = ""
    project_id: str = ""
    project_slug: str = ""
    environment: str = ""
    path: str = "/"
    recursive: bool = False


@dataclass(frozen=True)
class Target:
    """One GitHub secret store to fill."""

    name: str  #: what ``--target`` and reports call it
    scope: Scope
    owner: str  #: the repository owner, or the organization
    repository: str = ""  #: the repository's name (not for organizations)
    environment: str = ""
    app: App = "actions"
    visibility: str = ""  #: organizations: all | private | selected
    repositories: tuple[str, ...] = ()  #: organizations, visibility selected: repository names
    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    rename: Mapping[str, str] = field(default_factory=dict)
    prune: bool = False
    line: int = 0

    @property
    def key(self) -> str:
        """A stable identity, case-folded as GitHub folds these names (the
        default name, in lower case): it binds fingerprints and the state."""
        return default_name(self).lower()

    @property
    def full_repository(self) -> str:
        return f"{self.owner}/{self.repository}"


@dataclass(frozen=True)
class Limits:
    concurrency: int = 4
    writes_per_minute: int = 80
    max_writes: int = 500


@dataclass(frozen=True)
class SyncConfig:
    path: str
    source: SourceConfig
    targets: tuple[Target, ...]
    name: str = ""
    prune: bool = False
    limits: Limits = Limits()

    def target_names(self) -> list[str]:
        return [t.name for t in self.targets]


def default_name(target: Target) -> str:
    if target.scope == "organization":
        prefix = "org" if target.app == "actions" else "org-dependabot"
        return f"{prefix}:{target.owner}"
    if target.scope == "environment":
        return f"env:{target.full_repository}/{target.environment}"
    prefix = "repo" if target.app == "actions" else "dependabot"
    return f"{prefix}:{target.full_repository}"


# --------------------------------------------------------------------------- reading


def load_config(path: str | Path) -> SyncConfig:
    """Read and validate ``path`` (see the module docstring)."""
    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(
            f"{shown}: no such file (give the sync file with --config)",
            ExitCode.USAGE,
            path=shown,
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(
            f"{shown}: cannot be read ({type(exc).__name__})", ExitCode.USAGE, path=shown
        ) from None
    return parse_config(text, shown)


def parse_config(text: str, path: str = "sync.yaml") -> SyncConfig:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise ConfigError(path, [Problem(line, f"not valid YAML: {exc.problem}")]) from None
    except yaml.YAMLError:
        raise ConfigError(path, [Problem(0, "not valid YAML")]) from None
    from homelab_secrets.sync.config_reader import Reader

    reader = Reader()
    config = reader.document(root, path)
    if reader.problems or config is None:
        raise ConfigError(path, reader.problems or [Problem(0, "nothing in it")])
    return config
