"""Plaintext that must not outlive the command (``edit``, ``exec-file``), and
the child processes it is handed to (``edit``, ``exec-env``, ``exec-file``).

* :func:`private_dir`: a ``0700`` temporary folder, removed with everything
  in it when the block ends: on return, on an error, on Ctrl-C, and on
  SIGTERM/SIGHUP (turned into an exception for the cleanup to run, then the
  process ends by that same signal, as it would have).
* :func:`private_file`: a new ``0600`` file in it (never an existing one,
  never through a symbolic link).
* :func:`run_child`: runs a command and waits for it; a Ctrl-C meanwhile
  reaches the child (same terminal) and is acted on once the child is done,
  so the child is never left writing into a folder we removed.  The exit
  status is sops': the child's code, 255 when a signal ended it.
* :func:`switch_user`: ``exec-env``/``exec-file --user``, for this process
  and so for what it starts (sops' ``SwitchUser``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence

from homelab_secrets.errors import ExitCode, UserError

#: sops' status for a child ended by a signal (Go's ``ExitCode()`` is -1).
KILLED_BY_SIGNAL = 255
#: sops runs ``exec-env``/``exec-file`` commands with ``/bin/sh -c``.
SHELL = "/bin/sh"


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived while plaintext was on disk."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def private_dir(prefix: str = "tmp") -> Iterator[str]:
    """A private temporary folder that never outlives the block."""
    with _terminations_raise():
        path = tempfile.mkdtemp(prefix=prefix)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _terminations_raise() -> Iterator[None]:
    if not _main_thread():  # signal handlers live in the main thread only
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        raise Terminated(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    except Terminated as exc:
        for s, h in previous.items():
            signal.signal(s, h)
        previous = {}
        sys.stdout.flush()
        signal.signal(exc.signum, signal.SIG_DFL)
        os.kill(os.getpid(), exc.signum)
        raise SystemExit(128 + exc.signum) from None  # only if the signal did not end us
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def private_file(directory: str, name: str | None = None, data: bytes = b"") -> str:
    """Create ``directory/name`` (``0600``, exclusively) holding ``data``;
    without a name, ``tmp-file`` plus random digits (sops' ``CreateTemp``)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    while True:
        path = os.path.join(directory, name or f"tmp-file{secrets.randbelow(10**10)}")
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            if name:
                raise
            continue
        break
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    return path


def run_child(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    background: bool = False,
) -> int:
    """Run ``argv`` with our stdin/stdout/stderr and wait for it (unless
    ``background``); its exit status as sops reports it.  Raises OSError when
    it cannot be started."""
    sys.stdout.flush()
    sys.stderr.flush()
    if background:
        subprocess.Popen(list(argv), env=dict(env) if env is not None else None)
        return 0
    interrupted = False
    deferred = None
    if _main_thread():
        # before the child starts: a Ctrl-C from then on waits for the child
        # (there is no moment where it would end us with the child running)

        def defer(_signum: int, _frame: object) -> None:
            nonlocal interrupted
            interrupted = True

        deferred = signal.signal(signal.SIGINT, defer)
    try:
        child = subprocess.Popen(list(argv), env=dict(env) if env is not None else None)
    except BaseException:
        if deferred is not None:
            signal.signal(signal.SIGINT, deferred)
        raise
    try:
        code = child.wait()
    except BaseException:
        with contextlib.suppress(OSError):
            child.terminate()
        raise
    finally:
        if deferred is not None:
            signal.signal(signal.SIGINT, deferred)
    if interrupted:
        raise KeyboardInterrupt
    return code if code >= 0 else KILLED_BY_SIGNAL


def switch_user(name: str) -> None:
    """Become user ``name`` (needs root), before plaintext is written or a
    command started, as sops does: the temporary file is then the user's.
    Unlike sops (which keeps root's supplementary groups and takes the uid
    as the gid) the user's own groups are used."""
    # What this process may need afterwards is imported while it can still
    # read our installation (the user may not: a root-only venv or pyenv):
    # this module's imports, and what renders an error.
    import traceback  # noqa: F401

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise UserError(f"--user: unknown user {name!r}", ExitCode.ERROR_GENERIC) from None
    try:
        os.initgroups(entry.pw_name, entry.pw_gid)
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)
    except OSError as exc:
        raise UserError(
            f"--user: cannot become {name!r}: {exc.strerror} (this needs root)",
            ExitCode.ERROR_GENERIC,
        ) from None
