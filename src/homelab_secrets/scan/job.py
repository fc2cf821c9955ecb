"""One scan as the command line and the action ask for it: choose the files
(PATHs on disk, the repository's tracked files, a diff range, or the
index), apply the configuration, scan (:mod:`.runner`), and keep what must
be reported: findings on changed lines (unless whole files are asked for),
not accepted by an ``allow`` entry, not in the baseline.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.scan import baseline as baselines
from homelab_secrets.scan import config as scan_config
from homelab_secrets.scan import gitsource
from homelab_secrets.scan.fingerprint import DEFAULT_KEY
from homelab_secrets.scan.matcher import Backend
from homelab_secrets.scan.model import Finding
from homelab_secrets.scan.policy import CONFIG_NAME as SOPS_CONFIG
from homelab_secrets.scan.policy import FORBIDDEN, UNENCRYPTED_FILE
from homelab_secrets.scan.runner import Settings, Target, disk_targets, scan_files

#: Findings about a whole file: reported for any changed file, whatever lines changed.
FILE_LEVEL_RULES = frozenset({FORBIDDEN.id, UNENCRYPTED_FILE.id})


@dataclass(frozen=True)
class Request:
    paths: tuple[str, ...] = ()
    diff: str | None = None
    staged: bool = False
    whole_files: bool = False
    baseline: str | None = None
    config: str | None = None
    jobs: int = 0
    backend: Backend = "auto"
    fingerprint_key: bytes = DEFAULT_KEY  #: the command line's, from the environment


@dataclass
class Result:
    root: Path
    findings: list[Finding]  #: to report
    accepted: list[tuple[Finding, str]] = field(default_factory=list)  #: (finding, reason)
    baselined: int = 0
    files_scanned: int = 0
    mode: str = "paths"


def _root(cwd: Path, need_git: bool) -> tuple[Path, bool]:
    try:
        return gitsource.repo_root(cwd), True
    except UserError:
        if need_git:
            raise
        return cwd, False


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _walk(root: Path, cwd: Path, given: tuple[str, ...]) -> list[tuple[str, Path]]:
    """(reported path, disk path) for PATH arguments; folders recursively."""
    out: list[tuple[str, Path]] = []
    for arg in given:
        path = Path(arg) if os.path.isabs(arg) else cwd / arg
        if path.is_dir():
            top = path.resolve()
            base = _rel(top, root)
            prefix = "" if base in ("", ".") else base + "/"
            for folder, dirs, files in os.walk(top):
                dirs[:] = sorted(d for d in dirs if d != ".git")
                sub = os.path.relpath(folder, top).replace(os.sep, "/")
                sub = "" if sub == "." else sub + "/"
                for name in sorted(files):
                    out.append((f"{prefix}{sub}{name}", Path(folder, name)))
        elif path.exists() or path.is_symlink():
            out.append((_rel(path, root), path))
        else:
            raise UserError(f"{arg}: no such file or folder", ExitCode.USAGE)
    return out


def _config_dirs(root: Path, paths: list[str]) -> tuple[str, ...]:
    """Folders (relative to ``root``) holding a ``.sops.yaml`` above any scanned file."""
    seen: dict[str, bool] = {}
    for rel in paths:
        folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
        while folder not in seen:
            seen[folder] = (root / folder / SOPS_CONFIG).is_file()
            if not folder:
                break
            folder = folder.rsplit("/", 1)[0] if "/" in folder else ""
    return tuple(sorted(f for f, present in seen.items() if present))


def _load_config(request: Request, root: Path) -> scan_config.ScanConfig:
    if request.config:
        return scan_config.load(Path(request.config))
    default = root / scan_config.CONFIG_NAME
    return scan_config.load(default) if default.is_file() else scan_config.ScanConfig()


def run(request: Request, cwd: Path) -> Result:
    if request.diff and request.staged:
        raise UserError("--diff and --staged cannot be combined", ExitCode.USAGE)
    git_mode = bool(request.diff or request.staged or not request.paths)
    root, _ = _root(cwd, need_git=git_mode)
    config = _load_config(request, root)
    changed: dict[str, set[int]] | None = None
    targets: list[Target]
    mode = "paths"
    if git_mode:
        targets, changed, mode = _git_targets(request, root, cwd, config)
    else:
        targets = disk_targets(
            [
                (rel, path)
                for rel, path in _walk(root, cwd, request.paths)
                if not config.excluded(rel)
            ]
        )
    settings = Settings(
        root=str(root),
        config_dirs=_config_dirs(root, [t.path for t in targets]),
        fingerprint_key=request.fingerprint_key,
        backend=request.backend,
        max_file_size=config.max_file_size,
    )
    found = scan_files(targets, settings, request.jobs)
    if changed is not None and not request.whole_files:
        found = [
            f for f in found if f.rule in FILE_LEVEL_RULES or f.line in changed.get(f.file, set())
        ]
    result = Result(root, [], files_scanned=len(targets), mode=mode)
    known = _baseline(request, config, root)
    for finding in found:
        allow = config.allowed(finding)
        if allow is not None:
            result.accepted.append((finding, allow.reason))
        elif finding.fingerprint in known:
            result.baselined += 1
        else:
            result.findings.append(finding)
    return result


def _baseline(request: Request, config: scan_config.ScanConfig, root: Path) -> frozenset[str]:
    if request.baseline:
        return baselines.load(Path(request.baseline))
    if config.baseline:
        return baselines.load(root / config.baseline)
    return frozenset()


def _git_targets(
    request: Request, root: Path, cwd: Path, config: scan_config.ScanConfig
) -> tuple[list[Target], dict[str, set[int]] | None, str]:
    only = {_rel(cwd / p if not os.path.isabs(p) else Path(p), root) for p in request.paths}

    def wanted(rel: str) -> bool:
        if config.excluded(rel):
            return False
        return not only or any(rel == o or rel.startswith(o.rstrip("/") + "/") for o in only)

    if request.staged or request.diff:
        if request.staged:
            changes, rev, mode = gitsource.changed_staged(root), "", "staged"
        else:
            span = gitsource.resolve_range(root, request.diff or "")
            if span is None:  # a new branch: nothing to compare against, scan everything
                return _tracked(root, wanted), None, "tracked"
            changes, rev, mode = gitsource.changed_between(root, *span), span[1], "diff"
        picked = [c for c in changes if wanted(c.path)]
        blobs = dict(gitsource.read_blobs(root, [f"{rev}:{c.path}" for c in picked]))
        targets = []
        for c in picked:
            data = blobs.get(f"{rev}:{c.path}")
            if data is not None:
                targets.append(Target(c.path, data=data, size=len(data)))
        return targets, {c.path: c.lines for c in picked}, mode
    return _tracked(root, wanted), None, "tracked"


def _tracked(root: Path, wanted: Callable[[str], bool]) -> list[Target]:
    return disk_targets([(p, root / p) for p in gitsource.tracked_files(root) if wanted(p)])
