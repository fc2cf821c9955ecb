"""SOPS files in a workspace, as sources of secrets (and encrypted back).

* :func:`resolve_files`: paths and globs (``**`` recursive) relative to the
  workspace; a pattern matching no file, or one reaching outside the
  workspace, is an error (a typo must not silently skip a secret);
* :func:`decrypt_sources`: every file decrypted in memory through the one
  decrypt path (:mod:`homelab_secrets.sops.pipeline`, with the workspace's
  ``.sops.yaml`` store options), as :class:`~.model.Source` objects: the
  plaintext ``sops decrypt`` prints, the tree, one entry per leaf (its
  environment name, see :func:`entries`), and a mask for every value that
  was encrypted.  A failure in any file fails them all, naming the file;
* :func:`encrypt_files`: the other way, through the one encrypt path, each
  file with its ``.sops.yaml`` creation rule or the recipients given; a file
  this job decrypted in place keeps its original data key and the ciphertext
  of every value that did not change (a minimal ``git diff``), as long as its
  keys are the same (the manifest kept the original and its data key).
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homelab_secrets.errors import ExitCode, UserError, about
from homelab_secrets.secrets.model import Entry, Mask, Source
from homelab_secrets.sops.model import Branch, Comment, GoTime

if TYPE_CHECKING:
    from homelab_secrets.secrets.manifest import Manifest
    from homelab_secrets.sops.config import SopsConfig

_ENV_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
_DATA_EXTENSIONS = (".yaml", ".yml", ".json", ".env", ".ini")
_ENC_MARKERS = (".enc", ".sops", ".encrypted")


# ---------------------------------------------------------------- finding files
@dataclass(frozen=True)
class Target:
    path: Path  #: absolute, symbolic links resolved
    rel: str  #: relative to the workspace, POSIX separators


def resolve_files(patterns: Sequence[str], root: Path) -> list[Target]:
    """Expand paths and globs (``**`` recursive) relative to ``root``."""
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


def find_workspace_config(root: Path) -> SopsConfig | None:
    """The ``.sops.yaml`` sops would use from ``root`` (its store options and
    creation rules apply to every file of the job)."""
    from homelab_secrets.sops.config import find_config, load_config

    path, _warning = find_config(str(root))
    return load_config(path) if path else None


# ---------------------------------------------------------------- values
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


def leaf_text(value: Any) -> str:
    """A leaf as an environment value: booleans ``true``/``false``, null empty."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return secret_text(value) or ""


def entries(rel: str, fmt: str, branches: list[Branch]) -> list[Entry]:
    """One :class:`Entry` per leaf of a decrypted file.

    Names: map keys joined by ``_``, list indices as numbers, upper-cased, every
    other character ``_``; dotenv keys as they are; INI's ``DEFAULT`` section
    dropped; a binary file is one value named after the file.
    """
    out: list[Entry] = []

    def name_of(parts: list[str]) -> str:
        return _ENV_UNSAFE.sub("_", "_".join(parts).upper())

    def visit(value: Any, parts: list[str]) -> None:
        if isinstance(value, Branch):
            for key, child in value:
                if not isinstance(key, Comment):
                    visit(child, [*parts, str(key)])
        elif isinstance(value, list):
            index = 0
            for child in value:
                if isinstance(child, Comment):
                    continue
                visit(child, [*parts, str(index)])
                index += 1
        else:
            out.append(Entry(name_of(parts), leaf_text(value), f"{rel}:{'.'.join(parts)}"))

    if fmt == "binary":
        data = branches[0].get("data") if branches else ""
        return [Entry(name_of([stem(rel)]), leaf_text(data), rel)]
    for branch in branches:
        if fmt == "dotenv":
            out.extend(
                Entry(str(key), leaf_text(value), f"{rel}:{key}")
                for key, value in branch
                if not isinstance(key, Comment)
            )
        elif fmt == "ini":
            for section, value in branch:
                if not isinstance(section, Comment):
                    visit(value, [] if section == "DEFAULT" else [str(section)])
        else:
            visit(branch, [])
    return out


# ---------------------------------------------------------------- decrypting
def decrypt_sources(
    targets: Sequence[Target], environ: Mapping[str, str], config: SopsConfig | None
) -> list[Source]:
    """Decrypt every target in memory (sops' output bytes), or fail naming the file."""
    from homelab_secrets.secrets.manifest import remember_data_key
    from homelab_secrets.sops import engine, pipeline
    from homelab_secrets.sops.stores import format_for_path
    from homelab_secrets.sops.tree import format_path

    identities = engine.environment_identities(environ)
    out: list[Source] = []
    for target in targets:
        fmt = format_for_path(target.rel)
        with about(target.rel, _hint):
            plain = pipeline.decrypt(
                _read(target),
                in_fmt=fmt,
                out_fmt=fmt,
                config=config,
                identities=identities,
                collect_secrets=True,
            )
        remember_data_key(target.path, plain.data_key)  # for an in-place decrypt
        masks = []
        for key_path, value in plain.secrets:
            text = secret_text(value)
            if text is not None:
                masks.append(Mask(f"{target.rel}:{format_path(key_path)}", text))
        folder = Path(target.rel).parent.as_posix()
        out.append(
            Source(
                label=target.rel,
                stem=stem(target.rel),
                folder="" if folder == "." else folder,
                entries=entries(target.rel, fmt, plain.branches),
                masks=masks,
                documents=None if fmt == "binary" else plain.branches,
                copy=plain.plaintext,
                path=target.path,
                fmt=fmt,
            )
        )
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


# ---------------------------------------------------------------- encrypting
@dataclass
class SealedFile:
    target: Target
    data: bytes = field(repr=False)


def encrypt_files(
    targets: Sequence[Target],
    recipients: Sequence[str],
    config: SopsConfig | None,
    *,
    manifest: Manifest | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[SealedFile]:
    """Encrypt every target in memory with ``recipients`` (else its matching
    creation rule in ``config``).  A failure in any file writes nothing.

    A target that ``manifest`` says was decrypted in place is encrypted with
    its original's data key (kept there, else recovered with the age
    identities of ``environ``) when its keys did not change: unchanged values
    keep their ciphertext."""
    from homelab_secrets.sops import engine, pipeline
    from homelab_secrets.sops.stores import format_for_path

    identities = engine.environment_identities(environ)
    out: list[SealedFile] = []
    for target in targets:
        fmt = format_for_path(target.rel)
        previous = None
        kept = manifest.original_of(target.path) if manifest is not None else None
        if kept is not None:
            original, data_key = kept
            previous = pipeline.Previous(original, fmt, data_key=data_key, identities=identities)
        with about(target.rel):
            plan = pipeline.plan_encryption(config, str(target.path), age=recipients)
            data = pipeline.encrypt(
                _read(target),
                in_fmt=fmt,
                out_fmt=fmt,
                plan=plan,
                config=config,
                previous=previous,
            )
        out.append(SealedFile(target, data))
    return out
