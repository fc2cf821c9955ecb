"""Writing files safely: atomically (temp file in the same folder, then rename)
and, for plaintext, with mode 0600.  On any failure the target is untouched
and the temp file is removed, so no partial plaintext is ever left behind."""

from __future__ import annotations

import contextlib
import os

from homelab_secrets.errors import ExitCode, UserError

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def write_atomic(path: str, data: bytes, *, mode: int | None = PRIVATE_FILE) -> None:
    """Write ``data`` to ``path`` atomically.

    ``mode=None`` keeps the mode of an existing ``path`` (0644 minus umask for
    a new file): for encrypted output, which is meant to be committed.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if mode is None:
        try:
            mode = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
    fd = -1
    tmp = ""
    try:
        tmp = os.path.join(directory, f".homelab-secrets-{os.urandom(8).hex()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
        tmp = ""
    except OSError as exc:
        raise UserError(
            f"could not write {path}: {exc.strerror or exc}", ExitCode.COULD_NOT_WRITE_OUTPUT_FILE
        ) from None
    finally:
        if fd >= 0:
            os.close(fd)
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def make_private_dirs(path: str) -> None:
    """Create ``path`` (and parents) with mode 0700 for new folders."""
    os.makedirs(path, mode=PRIVATE_DIR, exist_ok=True)
