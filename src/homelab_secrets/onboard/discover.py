"""The files of a repository: which plaintext files the rules cover, where
each goes once encrypted, and which files are SOPS files already.

* **Walking**: every regular file under the root (symbolic links are not
  followed), except in ``.git``, ``.terraform``, virtualenvs, caches and
  ``node_modules``.  Git says which are tracked and which it ignores
  (a folder that is not a git work tree: nothing is).
* **Covered**: the first ``.sops.yaml`` rule that matches the file has a
  ``path_regex`` (sops' own matching, and the plaintext guard's rule).
* **Where it goes** (:func:`target_for`): in place, except
  - a file in a ``.env/`` folder, the gitignored pattern the roadmap retires:
    it moves to the folder above, with ``.enc`` in its name;
  - a name Terraform loads by itself (``terraform.tfvars[.json]``,
    ``*.auto.tfvars[.json]``): encrypted, it would break every plan, so it
    gets ``.enc`` before its extension (``terraform.enc.tfvars``,
    ``terraform.tfvars.enc.json``);
  - a file git ignores: an encrypted copy under that name could never be
    committed, so it gets ``.enc`` too.
* **Skipped**, with the reason: SOPS files, Ansible Vault files, empty files,
  ``--exclude`` matches, a target that exists already.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from homelab_secrets.errors import UserError

if TYPE_CHECKING:
    from homelab_secrets.sops.config import SopsConfig

SKIP_DIRS = frozenset(
    {
        ".git",
        ".terraform",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".homelab-secrets",
    }
)
RETIRED_DIR = ".env"
#: the extensions sops chooses a store by, and Terraform's HCL variables
_FORMAT_EXTENSIONS = (".json", ".yaml", ".yml", ".env", ".ini", ".tfvars")
_ENV_STAGE = ".env."
MAX_SIZE = 64 << 20


def walk(root: Path) -> list[str]:
    """Every regular file under ``root``, relative, POSIX separators, sorted."""
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        base = Path(folder).relative_to(root)
        for name in files:
            path = Path(folder, name)
            if path.is_symlink() or not path.is_file():
                continue
            found.append((base / name).as_posix())
    return sorted(found)


@dataclass
class GitView:
    """What git says about paths (all empty outside a work tree)."""

    is_repo: bool = False
    tracked: set[str] = field(default_factory=set)
    ignored: set[str] = field(default_factory=set)
    root: Path | None = None

    def check_ignored(self, paths: Iterable[str]) -> set[str]:
        """Which of ``paths`` (existing or not) git would ignore."""
        if not self.is_repo or self.root is None:
            return set()
        wanted = [p for p in paths if p not in self.tracked]
        if not wanted:
            return set()
        out = git(self.root, "check-ignore", "-z", "--stdin", stdin="\0".join(wanted) + "\0")
        return {p for p in out.split("\0") if p}


def git(root: Path, *args: str, stdin: str | None = None) -> str:
    try:
        proc = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=root,
            input=stdin.encode("utf-8", "surrogateescape") if stdin is not None else None,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        return ""
    if proc.returncode not in (0, 1):
        return ""
    return proc.stdout.decode("utf-8", "surrogateescape")


def git_view(root: Path, files: Sequence[str]) -> GitView:
    top = git(root, "rev-parse", "--show-toplevel").strip()
    if not top:
        return GitView()
    view = GitView(is_repo=True, root=root)
    view.tracked = {p for p in git(root, "ls-files", "-z", "--cached").split("\0") if p}
    view.ignored = view.check_ignored(files)
    return view


# ------------------------------------------------------------------ naming
def encrypted_name(name: str) -> str:
    """``.enc`` before the format's extension: ``terraform.tfvars`` ->
    ``terraform.enc.tfvars``, ``terraform.tfvars.json`` ->
    ``terraform.tfvars.enc.json``, ``.env`` -> ``.enc.env``,
    ``.env.production`` -> ``production.enc.env``; unchanged when the name
    has an ``.enc`` part already."""
    parts = name.split(".")
    if "enc" in parts[1:]:
        return name
    if name.startswith(_ENV_STAGE) and len(name) > len(_ENV_STAGE):
        return f"{name[len(_ENV_STAGE) :]}.enc.env"
    for ext in _FORMAT_EXTENSIONS:
        if name.endswith(ext):
            return f"{name[: -len(ext)]}.enc{ext}"
    return f"{name}.enc"


def autoloaded(name: str) -> bool:
    """Whether Terraform loads a file of this name by itself."""
    return name in ("terraform.tfvars", "terraform.tfvars.json") or name.endswith(
        (".auto.tfvars", ".auto.tfvars.json")
    )


def target_for(rel: str, ignored: bool) -> tuple[str, str]:
    """(where ``rel`` goes once encrypted, why it moves or "" for in place)."""
    parts = rel.split("/")
    folder, name = parts[:-1], parts[-1]
    if RETIRED_DIR in folder:
        at = len(folder) - 1 - folder[::-1].index(RETIRED_DIR)
        moved = [*folder[:at], *folder[at + 1 :], encrypted_name(name)]
        return "/".join(moved), f"out of the {RETIRED_DIR}/ folder, the pattern the roadmap retires"
    if autoloaded(name):
        why = "Terraform would load an encrypted file under its old name by itself"
        return "/".join([*folder, encrypted_name(name)]), why
    if ignored and encrypted_name(name) != name:
        why = "git ignores the old name, so the encrypted file could not be committed"
        return "/".join([*folder, encrypted_name(name)]), why
    return rel, ""


# ------------------------------------------------------------------ classifying
@dataclass(frozen=True)
class Candidate:
    """A plaintext file a rule covers, and where its encrypted form goes."""

    source: str
    target: str
    why: str = ""  #: why it moves ("" in place)
    tracked: bool = False  #: in git already: its old values are in the history

    @property
    def moved(self) -> bool:
        return self.source != self.target


@dataclass(frozen=True)
class Skipped:
    path: str
    why: str


def covered(config: SopsConfig, root: Path, rel: str) -> bool:
    """The first rule matching ``rel`` has a ``path_regex``."""
    from homelab_secrets.sops.config import ConfigError

    try:
        rule = config.rule_for(str(root / rel))
    except ConfigError:  # no rule matches (regexes are checked up front: check_regexes)
        return False
    return rule is not None and bool(rule.path_regex)


def check_regexes(config: SopsConfig) -> None:
    """Every ``path_regex`` of ``config`` compiles (else one error naming it)."""
    import re

    from homelab_secrets.sops.config import ConfigError

    for index, raw in enumerate(config.creation_rules or []):
        pattern = raw.get("path_regex") if isinstance(raw, dict) else None
        if pattern:
            try:
                re.compile(str(pattern))
            except re.error as exc:
                raise ConfigError(
                    f"{config.path}: creation rule {index}: can not compile path_regex "
                    f"{pattern!r}: {exc.msg}"
                ) from None


def sops_state(data: bytes, rel: str) -> str:
    """``sops``, ``plain``, or why the file is to be left alone (an Ansible
    Vault file, an empty one)."""
    from homelab_secrets.sops import pipeline
    from homelab_secrets.sops.stores import format_for_path

    if data.startswith(b"$ANSIBLE_VAULT;"):
        return "an Ansible Vault file (decrypt it with ansible-vault, then run init again)"
    if not data.strip():
        return "empty"
    if b"sops" not in data:
        return "plain"
    try:
        return "sops" if pipeline.is_encrypted(data, fmt=format_for_path(rel)) else "plain"
    except UserError:  # not even its format (HCL in a .tfvars): encrypting it will tell
        return "plain"


def candidates(
    root: Path,
    files: Sequence[str],
    config: SopsConfig,
    git: GitView,
    excludes: Sequence[str] = (),
) -> tuple[list[Candidate], list[Skipped]]:
    """The plaintext files ``config`` covers, and the covered files left alone."""
    found: list[Candidate] = []
    skipped: list[Skipped] = []
    existing = set(files)
    for rel in files:
        if rel == ".sops.yaml" or not covered(config, root, rel):
            continue
        if any(fnmatch.fnmatch(rel, pattern) for pattern in excludes):
            skipped.append(Skipped(rel, "excluded"))
            continue
        state = sops_state((root / rel).read_bytes(), rel)
        if state == "sops":
            continue
        if state != "plain":
            skipped.append(Skipped(rel, state))
            continue
        target, why = target_for(rel, rel in git.ignored)
        if target != rel and not covered(config, root, target):
            target, why = rel, ""
        found.append(Candidate(rel, target, why, rel in git.tracked))
    targets: dict[str, str] = {}
    kept: list[Candidate] = []
    for cand in found:
        if cand.moved and cand.target in existing:
            skipped.append(Skipped(cand.source, f"{cand.target} exists already (merge by hand)"))
        elif cand.target in targets:
            other = targets[cand.target]
            skipped.append(Skipped(cand.source, f"{other} goes to {cand.target} too"))
        else:
            targets[cand.target] = cand.source
            kept.append(cand)
    return kept, skipped


def sops_files(root: Path, files: Sequence[str]) -> list[str]:
    """The SOPS-encrypted files among ``files`` (files over 64 MiB are not read)."""
    out = []
    for rel in files:
        path = root / rel
        if path.stat().st_size <= MAX_SIZE and sops_state(path.read_bytes(), rel) == "sops":
            out.append(rel)
    return out
