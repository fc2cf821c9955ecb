"""Scanning many files: on disk or from git, in parallel processes.

:func:`scan_files` takes :class:`Target` objects (a relative path, and
either a file on disk or the bytes already read from git), scans them with
one :class:`~homelab_secrets.scan.engine.Engine` per worker process, and
returns the findings sorted.  Small jobs (a pre-commit run over a handful of
files) stay in this process: starting workers costs more than they save.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from homelab_secrets.scan.engine import Engine
from homelab_secrets.scan.matcher import Backend
from homelab_secrets.scan.model import Finding
from homelab_secrets.scan.policy import Policy

#: Below this many bytes in total, scan in-process.
PARALLEL_MIN_BYTES = 4 * 1024 * 1024
#: Work is handed to workers in chunks of about this many bytes.
CHUNK_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Target:
    path: str  #: relative to the scan root, with ``/``
    disk: str | None = None  #: absolute path to read, or None when ``data`` is given
    data: bytes | None = None
    size: int = 0


@dataclass(frozen=True)
class Settings:
    """What every worker needs to build its engine and policy."""

    root: str
    config_dirs: tuple[str, ...]
    fingerprint_key: bytes
    backend: Backend = "auto"
    max_file_size: int = 10 * 1024 * 1024


def read_target(target: Target, limit: int) -> bytes:
    if target.data is not None:
        return target.data[:limit]
    if target.disk is None:
        return b""
    try:
        with open(target.disk, "rb") as handle:
            return handle.read(limit)
    except OSError:
        return b""  # vanished or unreadable between listing and reading: nothing to scan


#: This process's engine, policy and size limit (set by :func:`_init`).
_WORKER: list[tuple[Engine, Policy, int]] = []


def _init(settings: Settings) -> None:
    engine = Engine(backend=settings.backend, fingerprint_key=settings.fingerprint_key)
    policy = Policy.load(settings.root, list(settings.config_dirs))
    _WORKER[:] = [(engine, policy, settings.max_file_size)]


def _scan_chunk(targets: Sequence[Target]) -> list[Finding]:
    engine, policy, limit = _WORKER[0]
    found: list[Finding] = []
    for target in targets:
        found += engine.scan(target.path, read_target(target, limit), policy)
    return found


def _chunks(targets: Sequence[Target], workers: int) -> list[list[Target]]:
    ordered = sorted(targets, key=lambda t: -t.size)
    total = sum(t.size for t in ordered)
    size = max(CHUNK_BYTES, total // (workers * 8) if workers else total)
    chunks: list[list[Target]] = [[]]
    filled = 0
    for target in ordered:
        if filled >= size and chunks[-1]:
            chunks.append([])
            filled = 0
        chunks[-1].append(target)
        filled += max(target.size, 1)
    return chunks


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def scan_files(targets: Sequence[Target], settings: Settings, jobs: int = 0) -> list[Finding]:
    """Findings for every target, sorted by file, line, column and rule."""
    jobs = jobs or default_jobs()
    total = sum(t.size for t in targets)
    if jobs <= 1 or total < PARALLEL_MIN_BYTES or len(targets) < 2:
        _init(settings)
        return sorted(_scan_chunk(targets))
    from concurrent.futures import ProcessPoolExecutor

    found: list[Finding] = []
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init, initargs=(settings,)) as pool:
        for part in pool.map(_scan_chunk, _chunks(targets, jobs)):
            found += part
    return sorted(found)


def disk_targets(files: Sequence[tuple[str, Path]]) -> list[Target]:
    """Targets for ``(reported path, file on disk)`` pairs: regular files only
    (a symbolic link is not followed: its target is scanned where it lives)."""
    out = []
    for rel, full in files:
        try:
            info = os.lstat(full)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode):
            out.append(Target(rel, disk=str(full), size=info.st_size))
    return out
