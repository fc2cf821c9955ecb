"""What a job writes, and the record that lets ``cleanup`` undo it.

All or nothing: a job decides everything it writes first (a
:class:`WritePlan`), then :func:`write_plan` writes each file atomically,
plaintext ``0600`` in ``0700`` folders, recording each in the *manifest*
**before** it is written, so that ``cleanup`` (or the rollback of a failed
write) can always find it.  A failed write removes what this run wrote and
restores files it changed in place (content, mode and, where allowed, owner).

The manifest lives under ``$RUNNER_TEMP`` in Actions (composite actions have
no post step: ``actions/sops-cleanup`` runs ``cleanup`` at the end of the job).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homelab_secrets.errors import UserError
from homelab_secrets.fsutil import PRIVATE_DIR, Ownership, write_atomic

MANIFEST_NAME = "manifest.jsonl"


# ---------------------------------------------------------------- manifest
def default_manifest_dir(environ: Mapping[str, str]) -> Path:
    """Where this job's manifest lives: ``$RUNNER_TEMP/homelab-secrets-state``
    in Actions, else a per-user folder under the temp dir."""
    runner_temp = environ.get("RUNNER_TEMP")
    if runner_temp:
        return Path(runner_temp) / "homelab-secrets-state"
    import tempfile

    return Path(tempfile.gettempdir()) / f"homelab-secrets-state-{os.getuid()}"


@dataclass
class Manifest:
    """An append-only record of every plaintext file written (and every file
    changed in place, with a copy of its original) so that they can be removed."""

    directory: Path

    @property
    def path(self) -> Path:
        return self.directory / MANIFEST_NAME

    def _ensure(self) -> None:
        self.directory.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        os.chmod(self.directory, PRIVATE_DIR)

    def record(
        self,
        path: Path,
        kind: str,
        original: Path | None = None,
        ownership: Ownership | None = None,
    ) -> dict[str, Any]:
        """Append one entry (before the file is written) and return it."""
        self._ensure()
        entry: dict[str, Any] = {"path": str(path), "kind": kind}
        if original is not None:
            entry["original"] = str(original)
        if ownership is not None:
            entry.update(mode=ownership.mode, uid=ownership.uid, gid=ownership.gid)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (json.dumps(entry) + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return entry

    def save_original(self, path: Path) -> Path:
        """Keep a copy of an encrypted file about to be decrypted in place."""
        self._ensure()
        import hashlib

        copy = self.directory / ("original-" + hashlib.sha256(str(path).encode()).hexdigest()[:24])
        write_atomic(str(copy), path.read_bytes(), mode=0o600)
        return copy

    def entries(self) -> list[dict[str, Any]]:
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return []
        out = []
        for line in text.splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                    out.append(entry)
        return out


@dataclass
class CleanupReport:
    removed: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def cleanup(manifest: Manifest, entries: Iterable[dict[str, Any]] | None = None) -> CleanupReport:
    """Remove every plaintext file the manifest lists and restore files
    decrypted in place (content, mode and, where allowed, owner); then forget
    them.  Safe to run twice."""
    report = CleanupReport()
    todo = list(manifest.entries() if entries is None else entries)
    for entry in reversed(todo):
        path = Path(entry["path"])
        try:
            if entry.get("kind") == "dir":
                with contextlib.suppress(OSError):
                    path.rmdir()  # a folder we created, once empty
                continue
            if entry.get("kind") == "in-place" and entry.get("original"):
                original = Path(entry["original"])
                if original.exists():
                    mode = entry.get("mode")
                    write_atomic(
                        str(path),
                        original.read_bytes(),
                        mode=mode if isinstance(mode, int) else None,
                        follow_symlinks=True,
                    )
                    if isinstance(mode, int):
                        Ownership(mode, int(entry["uid"]), int(entry["gid"])).restore(str(path))
                    original.unlink()
                    report.restored.append(str(path))
                continue
            if path.exists() or path.is_symlink():
                path.unlink()
                report.removed.append(str(path))
        except (OSError, UserError, KeyError, ValueError):
            report.failed.append(str(path))
    if entries is None and not report.failed:
        with contextlib.suppress(FileNotFoundError):
            manifest.path.unlink()
        with contextlib.suppress(OSError):
            manifest.directory.rmdir()
    return report


# ---------------------------------------------------------------- writing
@dataclass
class WritePlan:
    """What a decrypt run writes: (path, bytes, kind) with kind ``plaintext``
    (a new file) or ``in-place`` (replaces an encrypted file)."""

    items: list[tuple[Path, bytes, str]] = field(default_factory=list, repr=False)

    def add(self, path: Path, data: bytes, kind: str = "plaintext") -> None:
        self.items.append((path, data, kind))

    @property
    def paths(self) -> list[Path]:
        return [p for p, _, _ in self.items]


def _make_private_parents(path: Path, manifest: Manifest, done: list[dict[str, Any]]) -> None:
    """Create the missing folders above ``path`` (0700), recording each so that
    cleanup removes it once empty."""
    missing = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        done.append(manifest.record(directory, "dir"))
        directory.mkdir(mode=PRIVATE_DIR)
        os.chmod(directory, PRIVATE_DIR)


def write_plan(plan: WritePlan, manifest: Manifest) -> None:
    """Write every file of ``plan`` (0600, atomic), recording each in the
    manifest first.  On failure, undo this run's writes and re-raise."""
    done: list[dict[str, Any]] = []
    try:
        for path, data, kind in plan.items:
            if kind == "in-place":
                ownership = Ownership.of(str(path))
                original = manifest.save_original(path)
                done.append(manifest.record(path, kind, original, ownership))
                write_atomic(str(path), data, mode=0o600, follow_symlinks=True)
            else:
                _make_private_parents(path, manifest, done)
                done.append(manifest.record(path, kind))
                write_atomic(str(path), data, mode=0o600)
    except BaseException:
        cleanup(manifest, done)
        raise


def forget_in_place(manifest: Manifest, paths: Iterable[Path]) -> None:
    """Drop manifest entries of files that were decrypted in place and are now
    encrypted again (cleanup must not restore the older ciphertext over them)."""
    drop = {str(p) for p in paths}
    entries = manifest.entries()
    keep = [e for e in entries if e["path"] not in drop]
    if len(keep) == len(entries):
        return
    for entry in entries:
        if entry["path"] in drop and entry.get("original"):
            with contextlib.suppress(OSError):
                Path(entry["original"]).unlink()
    text = "".join(json.dumps(e) + "\n" for e in keep)
    write_atomic(str(manifest.path), text.encode("utf-8"), mode=0o600)
