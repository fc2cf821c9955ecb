"""Encrypting a plaintext file where it is (or where it moves), proven by a
decrypt before the original is touched.

:func:`seal` encrypts through the one encrypt path
(:func:`homelab_secrets.sops.pipeline.encrypt`, with the creation rule of
the file's final name and format), decrypts the result in memory with the
key CI will use, and compares it with what ``sops decrypt`` prints for the
original (sops re-emits YAML/JSON/dotenv in its own layout: the same data,
and, for most files, the same bytes).  Only then does :func:`write` replace
the file (atomically, keeping its mode) or write the new name and remove the
plaintext; it reads the written file back and decrypts it once more, and
puts the original back should that ever fail.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homelab_secrets.errors import ExitCode, UserError, about
from homelab_secrets.onboard.discover import RETIRED_DIR, Candidate

if TYPE_CHECKING:
    from collections.abc import Callable

    from homelab_secrets.sops.config import SopsConfig

    Identities = Callable[[], Any]


class Sealed:
    """A file encrypted in memory and verified, not yet written."""

    __slots__ = ("candidate", "data", "original", "reformatted")

    def __init__(self, candidate: Candidate, data: bytes, original: bytes, reformatted: bool):
        self.candidate = candidate
        self.data = data
        self.original = original
        #: ``sops decrypt`` will print it in sops' layout, not byte for byte as it was
        self.reformatted = reformatted

    def __repr__(self) -> str:
        return f"Sealed({self.candidate.source} -> {self.candidate.target})"


def _formats(target: str) -> str:
    from homelab_secrets.sops.stores import format_for_path

    return format_for_path(target)


def normalized(data: bytes, fmt: str, config: SopsConfig | None) -> bytes:
    """What ``sops decrypt`` prints for a file whose plaintext is ``data``."""
    from homelab_secrets.sops import pipeline
    from homelab_secrets.sops.config import store_options
    from homelab_secrets.sops.stores import get_store

    store = get_store(fmt, **store_options(fmt, config))
    out: bytes = store.emit_plain(pipeline.load_plain_checked(data, fmt))
    return out


def verify(
    encrypted: bytes, fmt: str, config: SopsConfig | None, identities: Identities, expected: bytes
) -> None:
    """``encrypted`` must decrypt, with ``identities``, to ``expected``."""
    from homelab_secrets.sops import pipeline

    plain = pipeline.decrypt(
        encrypted, in_fmt=fmt, out_fmt=fmt, config=config, identities=identities
    )
    if plain.plaintext != expected:
        raise UserError(
            "decrypting the encrypted form does not give the file's content back; "
            "nothing was written (please report this)",
            ExitCode.ERROR_ENCRYPTING_TREE,
        )


def seal(root: Path, candidate: Candidate, config: SopsConfig, identities: Identities) -> Sealed:
    """Encrypt ``candidate`` in memory and verify it (see the module docstring)."""
    from homelab_secrets.sops import pipeline

    fmt = _formats(candidate.target)
    with about(candidate.source):
        try:
            data = (root / candidate.source).read_bytes()
        except OSError as exc:
            raise UserError(
                f"cannot read: {exc.strerror}", ExitCode.COULD_NOT_READ_INPUT_FILE
            ) from None
        plan = pipeline.plan_encryption(config, str(root / candidate.target))
        encrypted = pipeline.encrypt(data, in_fmt=fmt, out_fmt=fmt, plan=plan, config=config)
        expected = normalized(data, fmt, config)
        verify(encrypted, fmt, config, identities, expected)
    return Sealed(candidate, encrypted, data, expected != data)


def write(root: Path, sealed: Sealed, config: SopsConfig, identities: Identities) -> None:
    """Put ``sealed`` in place (see the module docstring)."""
    from homelab_secrets.fsutil import write_atomic

    cand = sealed.candidate
    source, target = root / cand.source, root / cand.target
    fmt = _formats(cand.target)
    with about(cand.source):
        if source.read_bytes() != sealed.original:
            raise UserError(
                "changed while init was running; nothing was written for it: run init again",
                ExitCode.COULD_NOT_WRITE_OUTPUT_FILE,
            )
        mode = stat.S_IMODE(source.stat().st_mode)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(str(target), sealed.data, mode=mode)
        try:
            verify(
                target.read_bytes(),
                fmt,
                config,
                identities,
                normalized(sealed.original, fmt, config),
            )
        except (OSError, UserError):
            if cand.moved:
                with contextlib.suppress(OSError):
                    target.unlink()
            else:
                write_atomic(str(source), sealed.original, mode=mode)
            raise UserError(
                f"{cand.target} did not decrypt after writing it; the plaintext was put back",
                ExitCode.COULD_NOT_WRITE_OUTPUT_FILE,
            ) from None
        if cand.moved:
            source.unlink()
            folder = source.parent
            if folder.name == RETIRED_DIR and folder != root:
                with contextlib.suppress(OSError):
                    os.rmdir(folder)  # only when empty
