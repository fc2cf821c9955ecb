"""``homelab-secrets exec-file FILE COMMAND``: run one command with the
decrypted file at a temporary path, like ``sops exec-file``.

``{}`` in ``COMMAND`` (run through ``/bin/sh -c``) becomes the path.  By
default the path is a FIFO in a private folder: the plaintext is handed
over through it and never stored on disk; ``--no-fifo`` writes a ``0600``
file instead (for a command that reads it twice or seeks).  Either way the
folder is removed when the command ends, whatever happens (errors, Ctrl-C,
SIGTERM).  ``--filename NAME`` names the file (default ``tmp-file``);
``--output-type`` chooses the format as with ``decrypt``; ``--user NAME``
runs as that user (needs root); ``--background`` starts the command and
returns at once (the file goes with us: deprecated in sops too).  The exit
status is the command's (255 when a signal ended it).
"""

from __future__ import annotations

import argparse
import errno
import os
import threading

from homelab_secrets.commands import _sops
from homelab_secrets.errors import ExitCode, UserError, about

NAME = "exec-file"
HELP = "run a command with the decrypted file at a temporary path (like `sops exec-file`)"
FALLBACK_FILENAME = "tmp-file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "args", metavar="FILE COMMAND", nargs="*", help="the file and the shell command ({} = path)"
    )
    parser.add_argument(
        "--background",
        action="store_true",
        help="start the command and return at once (deprecated, as in sops)",
    )
    parser.add_argument(
        "--no-fifo",
        action="store_true",
        help="use a regular 0600 file instead of a FIFO for the decrypted contents",
    )
    parser.add_argument("--user", metavar="NAME", help="run the command as this user (root only)")
    _sops.add_type_options(parser)
    parser.add_argument(
        "--filename",
        metavar="NAME",
        help=f"name of the temporary file (default: {FALLBACK_FILENAME})",
    )


def run(args: argparse.Namespace) -> int:
    if len(args.args) != 2:
        raise UserError("error: missing file to decrypt", ExitCode.ERROR_GENERIC)
    path, command = args.args
    with about(path):
        plaintext = _decrypt(path, args)
    if args.background:
        _sops.warn("exec-file's --background option is deprecated (as in sops)")
    from homelab_secrets.commands import _private  # (before --user: see switch_user)

    if args.user:
        _private.switch_user(args.user)
    with _private.private_dir(prefix=".sops") as folder:
        if args.no_fifo:
            target = _private.private_file(folder, args.filename or None, plaintext)
            return _run(command, target, args.background)
        target = os.path.join(folder, args.filename or FALLBACK_FILENAME)
        os.mkfifo(target, 0o600)
        writer = _FifoWriter(target, plaintext)
        writer.start()
        try:
            return _run(command, target, args.background)
        finally:
            writer.stop()


def _decrypt(path: str, args: argparse.Namespace) -> bytes:
    from homelab_secrets.commands.set import read_encrypted
    from homelab_secrets.sops import engine, pipeline

    in_fmt, out_fmt = _sops.formats(path, args)
    return pipeline.decrypt(
        read_encrypted(path),
        in_fmt=in_fmt,
        out_fmt=out_fmt,
        config=_sops.load_sops_config(None).config,
        identities=engine.environment_identities(),
    ).plaintext


def _run(command: str, target: str, background: bool) -> int:
    from homelab_secrets.commands import _private

    argv = [_private.SHELL, "-c", command.replace("{}", target)]
    try:
        return _private.run_child(argv, background=background)
    except (OSError, ValueError) as exc:
        raise UserError(f"could not run the command: {exc}", ExitCode.ERROR_GENERIC) from None


class _FifoWriter:
    """Writes the plaintext into the FIFO once a reader opens it (in a
    thread: opening a FIFO for writing waits for a reader), and gives up
    when the command is done without reading it."""

    POLL = 0.01

    def __init__(self, path: str, data: bytes) -> None:
        self.path = path
        self.data = data
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._write, name="exec-file-fifo", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.done.set()
        self.thread.join(timeout=1.0)

    def _write(self) -> None:
        fd = -1
        while not self.done.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                    return
            self.done.wait(self.POLL)
        if fd < 0:
            return
        try:
            os.set_blocking(fd, True)
            view = memoryview(self.data)
            while view and not self.done.is_set():
                view = view[os.write(fd, view) :]
        except OSError:
            pass  # the reader went away: it had what it wanted
        finally:
            os.close(fd)
