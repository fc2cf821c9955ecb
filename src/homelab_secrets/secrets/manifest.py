"""What a job writes, and the record that lets ``cleanup`` undo it.

All or nothing: a job decides everything it writes first (a
:class:`WritePlan`), then :func:`write_plan` writes each file atomically,
plaintext ``0600`` in ``0700`` folders, recording each in the *manifest*
**before** it is written, so that ``cleanup`` (or the rollback of a failed
write) can always find it.  A failed write removes what this run wrote and
restores files it changed in place (content, mode and, where allowed, owner).

The manifest lives under ``$RUNNER_TEMP`` in Actions (composite actions have
no post step: ``actions/sops-cleanup`` runs ``cleanup`` at the end of the job).

A SOPS file decrypted in place keeps, beside the copy of its original, its
data key (``0600`` like everything here, removed with the copy): so that
``sops-encrypt`` can encrypt it again the way ``sops edit`` does, with the
same data key and the same ciphertext for every value that did not change
(:meth:`Manifest.original_of`), even in a later step that has no age key.
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

#: Data keys of the SOPS files this process decrypted (resolved path → key),
#: for :func:`write_plan` to keep beside the original of a file it decrypts
#: in place.  Memory only; :func:`remember_data_key` fills it.
_DATA_KEYS: dict[str, bytes] = {}


def remember_data_key(path: Path, data_key: bytes) -> None:
    """The decrypt path tells us a file's data key, in case the job writes
    the file in place (see the module docstring)."""
    if data_key:
        _DATA_KEYS[str(path.resolve())] = data_key


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
        data_key: Path | None = None,
    ) -> dict[str, Any]:
        """Append one entry (before the file is written) and return it."""
        self._ensure()
        entry: dict[str, Any] = {"path": str(path), "kind": kind}
        if original is not None:
            entry["original"] = str(original)
        if data_key is not None:
            entry["data_key"] = str(data_key)
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
        copy = self.directory / ("original-" + _path_hash(path))
        write_atomic(str(copy), path.read_bytes(), mode=0o600)
        return copy

    def save_data_key(self, path: Path) -> Path | None:
        """Keep the data key of ``path`` (if this process decrypted it) beside
        its original; ``None`` when there is none to keep."""
        key = _DATA_KEYS.get(str(path.resolve()))
        if key is None:
            return None
        self._ensure()
        sidecar = self.directory / ("datakey-" + _path_hash(path))
        write_atomic(str(sidecar), key, mode=0o600)
        return sidecar

    def original_of(self, path: Path) -> tuple[bytes, bytes | None] | None:
        """The encrypted original of a file decrypted in place, and its data
        key when it was kept (``None`` when the file was not decrypted in
        place, or its original is gone)."""
        target = str(path)
        for entry in reversed(self.entries()):
            if entry["path"] != target or entry.get("kind") != "in-place":
                continue
            try:
                original = Path(entry["original"]).read_bytes()
            except (KeyError, OSError, TypeError):
                return None
            key: bytes | None = None
            if isinstance(entry.get("data_key"), str):
                with contextlib.suppress(OSError):
                    key = Path(entry["data_key"]).read_bytes()
            return original, key
        return None

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


def _path_hash(path: Path) -> str:
    import hashlib

    return hashlib.sha256(str(path).encode()).hexdigest()[:24]


def _forget_sidecars(entry: dict[str, Any]) -> None:
    """Remove what an in-place entry kept: the original's copy, its data key."""
    for field_name in ("original", "data_key"):
        value = entry.get(field_name)
        if isinstance(value, str):
            with contextlib.suppress(OSError):
                Path(value).unlink()


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
                    report.restored.append(str(path))
                _forget_sidecars(entry)  # (a data key without its original too)
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
                entry = manifest.record(
                    path, kind, original, ownership, manifest.save_data_key(path)
                )
                done.append(entry)
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
        if entry["path"] in drop:
            _forget_sidecars(entry)
    text = "".join(json.dumps(e) + "\n" for e in keep)
    write_atomic(str(manifest.path), text.encode("utf-8"), mode=0o600)
