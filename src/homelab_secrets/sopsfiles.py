"""Decrypting and encrypting *sets* of SOPS files for a job, and cleaning up after.

This is the core of ``actions/sops-decrypt``, ``actions/sops-encrypt`` and
``homelab-secrets cleanup`` (and of the same commands run locally).  It knows
the file system but not GitHub Actions: the command modules map inputs to
these functions and their results to outputs.

All or nothing:

* every file is decrypted (or encrypted) in memory first; a failure in any
  file writes nothing;
* then files are written atomically, plaintext 0600 in 0700 folders, each
  recorded in the *manifest* **before** it is written, so that ``cleanup``
  (or the rollback of a failed write) can always find it;
* a failed write removes what this run wrote and restores files it changed in
  place.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homelab_secrets.errors import ExitCode, UserError, about
from homelab_secrets.fsutil import PRIVATE_DIR, Ownership, write_atomic
from homelab_secrets.sops.model import Branch, Comment, GoTime

FORMATS = ("none", "tfvars-json", "dotenv", "ansible-vars")
MANIFEST_NAME = "manifest.jsonl"
_ENV_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
_DATA_EXTENSIONS = (".yaml", ".yml", ".json", ".env", ".ini")
_ENC_MARKERS = (".enc", ".sops", ".encrypted")


# ---------------------------------------------------------------- finding files
@dataclass(frozen=True)
class Target:
    path: Path  #: absolute
    rel: str  #: relative to the workspace, POSIX separators


def resolve_files(patterns: Sequence[str], root: Path) -> list[Target]:
    """Expand paths and globs (``**`` recursive) relative to ``root``.

    A pattern that matches no file is an error (a typo must not silently skip
    a secret), as is one that reaches outside ``root``.
    """
    root = root.resolve()
    found: dict[Path, Target] = {}
    for pattern in patterns:
        full = pattern if os.path.isabs(pattern) else os.path.join(root, pattern)
        matches = sorted(glob.glob(full, recursive=True)) if glob.has_magic(pattern) else [full]
        files = [Path(m) for m in matches if os.path.isfile(m)]
        if not files:
            what = "glob" if glob.has_magic(pattern) else "file"
            raise UserError(
                f"files: {what} {pattern!r} matches no file under {root}",
                ExitCode.NO_FILE_SPECIFIED,
                path=pattern,
            )
        for file in files:
            resolved = file.resolve()
            try:
                rel = resolved.relative_to(root).as_posix()
            except ValueError:
                raise UserError(
                    f"files: {pattern!r} points outside the workspace ({root})",
                    ExitCode.NO_FILE_SPECIFIED,
                    path=pattern,
                ) from None
            found.setdefault(resolved, Target(resolved, rel))
    return list(found.values())


def stem(rel: str) -> str:
    """The name tool-shaped files are called after: without the folder, the
    ``.enc``/``.sops`` marker and what follows it, or else the data extension,
    and without ``.tfvars``/``.auto``.

    ``secrets/prd.enc.yaml`` → ``prd``; ``terraform.tfvars.enc.json`` →
    ``terraform``; ``id_rsa.enc`` → ``id_rsa``; ``app.yaml`` → ``app``.
    """
    name = rel.rsplit("/", 1)[-1]
    lower = name.lower()
    for marker in _ENC_MARKERS:
        at = lower.find(marker + ".")
        if at > 0:
            name = name[:at]
            break
        if lower.endswith(marker) and len(name) > len(marker):
            name = name[: -len(marker)]
            break
    else:
        for ext in _DATA_EXTENSIONS:
            if lower.endswith(ext) and len(name) > len(ext):
                name = name[: -len(ext)]
                break
    for suffix in (".auto", ".tfvars", ".auto"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return name


# ---------------------------------------------------------------- decrypting
@dataclass
class PlainFile:
    """One decrypted file, in memory."""

    target: Target
    fmt: str
    branches: list[Branch] = field(repr=False)
    plaintext: bytes = field(repr=False)
    #: (name for messages, value) of every value that was encrypted: to mask
    secrets: list[tuple[str, str]] = field(default_factory=list, repr=False)


def secret_text(value: Any) -> str | None:
    """The text a decrypted value can show up as in a log (None: nothing to mask)."""
    if value is None or isinstance(value, bool):
        return None  # one bit of information; masking "true" would wreck every log
    if isinstance(value, Comment):
        return value.value.strip() or None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, GoTime):
        return value.text
    if isinstance(value, float):
        from homelab_secrets.sops.cipher import go_format_float

        return go_format_float(value)
    text = str(value)
    return text or None


def decrypt_files(targets: Sequence[Target], environ: Mapping[str, str]) -> list[PlainFile]:
    """Decrypt every target in memory (sops' output bytes), or fail naming the file."""
    from homelab_secrets.sops import engine
    from homelab_secrets.sops.stores import format_for_path, get_store
    from homelab_secrets.sops.tree import format_path

    identities = engine.environment_identities(environ)
    out: list[PlainFile] = []
    for target in targets:
        fmt = format_for_path(target.rel)
        with about(target.rel, _hint):
            result = engine.decrypt(_read(target), fmt, identities, collect_secrets=True)
            plaintext = get_store(fmt).emit_plain(result.branches)
        secrets = []
        for key_path, value in result.secrets:
            text = secret_text(value)
            if text is not None:
                secrets.append((f"{target.rel}:{format_path(key_path)}", text))
        out.append(PlainFile(target, fmt, result.branches, plaintext, secrets))
    return out


def _read(target: Target) -> bytes:
    try:
        return target.path.read_bytes()
    except OSError as exc:
        raise UserError(
            f"cannot read: {exc.strerror}", ExitCode.COULD_NOT_READ_INPUT_FILE
        ) from None


def _hint(code: int) -> str:
    if code == ExitCode.COULD_NOT_RETRIEVE_KEY:
        return (
            " — give the age identity that matches one of the file's recipients "
            "(age-key input or SOPS_AGE_KEY)"
        )
    if code == ExitCode.MAC_MISMATCH:
        return " — the file was changed without sops; re-encrypt it from a trusted copy"
    if code == ExitCode.ERROR_DECRYPTING_TREE:
        return " — a value was tampered with or was not encrypted by sops"
    return ""


# ---------------------------------------------------------------- env export
def _leaf_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return secret_text(value) or ""


def env_items(plain: PlainFile, prefix: str = "") -> list[tuple[str, str, str]]:
    """``(env name, value, where)`` for every leaf of a decrypted file.

    Names: map keys joined by ``_``, list indices as numbers, upper-cased, every
    other character ``_``; dotenv keys as they are; INI's ``DEFAULT`` section
    dropped; a binary file is one value named after the file.
    """
    items: list[tuple[str, str, str]] = []

    def name_of(parts: list[str]) -> str:
        return prefix + _ENV_UNSAFE.sub("_", "_".join(parts).upper())

    def visit(value: Any, parts: list[str]) -> None:
        if isinstance(value, Branch):
            for key, child in value:
                if isinstance(key, Comment):
                    continue
                visit(child, [*parts, str(key)])
        elif isinstance(value, list):
            index = 0
            for child in value:
                if isinstance(child, Comment):
                    continue
                visit(child, [*parts, str(index)])
                index += 1
        else:
            where = f"{plain.target.rel}:{'.'.join(parts)}"
            items.append((name_of(parts), _leaf_text(value), where))

    if plain.fmt == "binary":
        data = plain.branches[0].get("data") if plain.branches else ""
        items.append((name_of([stem(plain.target.rel)]), _leaf_text(data), plain.target.rel))
        return items
    for branch in plain.branches:
        if plain.fmt == "dotenv":
            for key, value in branch:
                if not isinstance(key, Comment):
                    items.append(
                        (prefix + str(key), _leaf_text(value), f"{plain.target.rel}:{key}")
                    )
        elif plain.fmt == "ini":
            for section, value in branch:
                if isinstance(section, Comment):
                    continue
                visit(value, [] if section == "DEFAULT" else [str(section)])
        else:
            visit(branch, [])
    return items


def export_env(plains: Sequence[PlainFile], prefix: str = "") -> list[tuple[str, str]]:
    """All ``(name, value)`` pairs to export; a name used twice is an error listing them."""
    seen: dict[str, list[str]] = {}
    pairs: list[tuple[str, str]] = []
    for plain in plains:
        for name, value, where in env_items(plain, prefix):
            seen.setdefault(name, []).append(where)
            pairs.append((name, value))
    clashes = {n: w for n, w in seen.items() if len(w) > 1}
    if clashes:
        listed = "; ".join(f"{n} ({', '.join(w)})" for n, w in sorted(clashes.items()))
        raise UserError(
            f"export-env: these environment variable names would be set more than once: "
            f"{listed}. Rename the keys, or decrypt the files in separate steps with "
            "different name-prefix values",
        )
    return pairs


# ---------------------------------------------------------------- tool-shaped files
def _plain_data(value: Any) -> Any:
    """A tree as JSON-able data (comments dropped)."""
    if isinstance(value, Branch):
        return {str(k): _plain_data(v) for k, v in value if not isinstance(k, Comment)}
    if isinstance(value, list):
        return [_plain_data(v) for v in value if not isinstance(v, Comment)]
    if isinstance(value, GoTime):
        return value.text
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def render_format(kind: str, plain: PlainFile) -> bytes:
    """The content of a tool-shaped file made from one decrypted file."""
    if plain.fmt == "binary":
        raise UserError(
            f"format {kind}: {plain.target.rel} is a binary file; tool-shaped files need "
            "YAML, JSON, dotenv or INI",
            path=plain.target.rel,
        )
    if kind == "tfvars-json":
        merged: dict[str, Any] = {}
        for branch in plain.branches:
            merged.update(_plain_data(branch))
        return (json.dumps(merged, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if kind == "dotenv":
        from homelab_secrets.secrets.env import render_dotenv

        with about(plain.target.rel):
            return render_dotenv((name, value) for name, value, _ in env_items(plain))
    if kind == "ansible-vars":
        from homelab_secrets.sops.stores import get_store

        if plain.fmt == "yaml":
            merged_branch = Branch(
                item
                for branch in plain.branches
                for item in branch
                if not isinstance(item[0], Comment)
            )
        else:
            merged_branch = Branch(
                item for item in plain.branches[0] if not isinstance(item[0], Comment)
            )
        return get_store("yaml", indent=2).emit_plain([merged_branch])
    raise UserError(f"unknown format {kind!r}: use one of {', '.join(FORMATS)}", ExitCode.USAGE)


def format_path(kind: str, plain: PlainFile, format_dir: Path, terraform_dir: Path) -> Path:
    """Where a tool-shaped file goes: ``terraform_dir/<name>.auto.tfvars.json``,
    or ``format_dir/<relative dir>/<name>.env|.vars.yml``.  ``format_dir`` is
    not the folder of the decrypted copies, so the two can never collide (an
    encrypted ``app.env`` with format dotenv gives a copy ``app.env`` *and* a
    tool file ``app.env``, in different folders)."""
    name = stem(plain.target.rel)
    if kind == "tfvars-json":
        return terraform_dir / f"{name}.auto.tfvars.json"
    rel_dir = Path(plain.target.rel).parent
    suffix = ".env" if kind == "dotenv" else ".vars.yml"
    return format_dir / rel_dir / f"{name}{suffix}"


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


# ---------------------------------------------------------------- encrypting
@dataclass
class SealedFile:
    target: Target
    data: bytes = field(repr=False)


def encrypt_files(
    targets: Sequence[Target],
    recipients: Sequence[str],
    *,
    config_start: Path,
) -> list[SealedFile]:
    """Encrypt every target in memory with ``recipients`` (else its matching
    ``.sops.yaml`` creation rule, looked up from ``config_start`` like sops
    looks from its working directory).  A failure in any file writes nothing."""
    from homelab_secrets.sops import engine
    from homelab_secrets.sops.config import find_config, load_config, store_options
    from homelab_secrets.sops.metadata import AgeKey, MasterKey
    from homelab_secrets.sops.stores import format_for_path, get_store
    from homelab_secrets.sops.tree import Rules

    config_path, _warning = find_config(str(config_start))
    config = load_config(config_path) if config_path else None
    out: list[SealedFile] = []
    for target in targets:
        fmt = format_for_path(target.rel)
        with about(target.rel):
            rule = config.rule_for(str(target.path)) if config else None
            groups: list[list[MasterKey]]
            if recipients:
                groups = [[AgeKey(r) for r in recipients]]
            elif rule is not None:
                groups = rule.key_groups
            else:
                raise UserError(
                    "no age-recipients given and no .sops.yaml creation rule found for it",
                    ExitCode.ERROR_GENERIC,
                )
            store = get_store(fmt)
            branches = store.load_plain(_read(target))
            if branches and store.has_sops_top_level_key(branches[0]):
                raise UserError(
                    "it is already encrypted (it has a top-level 'sops' entry)",
                    ExitCode.FILE_ALREADY_ENCRYPTED,
                )
            metadata = engine.encrypt(
                branches,
                groups,
                rules=rule.rules if rule is not None else Rules(),
                shamir_threshold=rule.shamir_threshold if rule is not None else 0,
                binary=fmt == "binary",
            )
            options = store_options(fmt, config)
            data = get_store(fmt, **options).emit_encrypted(branches, metadata.to_branch())
        out.append(SealedFile(target, data))
    return out


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
