"""Writing files safely: atomically (temp file in the same folder, then rename)
and, for plaintext, with mode 0600.  On any failure the target is untouched
and the temp file is removed, so no partial plaintext is ever left behind.

Like sops (which opens the target for writing), an existing file this process
may not write is refused with exit code 3 rather than replaced through its
folder's permissions; ``follow_symlinks`` writes through a symbolic link (the
link stays, its target gets the content), as sops does for ``-i`` and
``--output``."""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass

from homelab_secrets.errors import ExitCode, UserError

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


@dataclass(frozen=True)
class Ownership:
    """What a file's permission bits and owner were (to put them back)."""

    mode: int
    uid: int
    gid: int

    @classmethod
    def of(cls, path: str) -> Ownership:
        st = os.stat(path)
        return cls(st.st_mode & 0o7777, st.st_uid, st.st_gid)

    def restore(self, path: str) -> None:
        """Mode always; owner where this process may (root, or the same owner)."""
        os.chmod(path, self.mode)
        st = os.stat(path)
        if (st.st_uid, st.st_gid) != (self.uid, self.gid):
            with contextlib.suppress(PermissionError):
                os.chown(path, self.uid, self.gid)


def _refuse_unwritable(path: str, *, follow_symlinks: bool) -> None:
    """Raise exit 3 when ``path`` exists and this process may not open it for
    writing (what the kernel decides: root may write a 0444 file, like sops)."""
    flags = os.O_WRONLY | os.O_NONBLOCK | (0 if follow_symlinks else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ETXTBSY, errno.EISDIR):
            raise UserError(
                f"could not write {path}: {exc.strerror}", ExitCode.COULD_NOT_WRITE_OUTPUT_FILE
            ) from None
        return  # missing, a link we replace, a FIFO without reader: the rename decides
    os.close(fd)


def write_atomic(
    path: str, data: bytes, *, mode: int | None = PRIVATE_FILE, follow_symlinks: bool = False
) -> None:
    """Write ``data`` to ``path`` atomically.

    ``mode=None`` keeps the mode of an existing ``path`` (0644 minus umask for
    a new file): for encrypted output, which is meant to be committed.
    ``follow_symlinks``: when ``path`` is a symbolic link, write its target.
    """
    if follow_symlinks:
        path = os.path.realpath(path)
    _refuse_unwritable(path, follow_symlinks=follow_symlinks)
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
