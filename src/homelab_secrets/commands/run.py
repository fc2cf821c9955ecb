"""``homelab-secrets run [options] -- CMD ARGS...``: one command with the
secrets in *its* environment only, and none of them in its output.

The values (a provider scope, ``--sops-file`` files, or both) are added to
the child's environment, nowhere else: not to the shell, not to
``$GITHUB_ENV``.  Everything the child writes to stdout and stderr passes
through a :class:`~homelab_secrets.secrets.redact.Redactor` that replaces
every value (each line of it, and its JSON-escaped form) with ``***``,
line by line, so a value written in pieces is still caught; an unfinished
line (a prompt) is shown after a short pause, minus any tail that could be
the start of a value.  The child's exit code is ours (a signal: 128 + its
number); Ctrl-C and SIGTERM reach the child, and we wait for it.

Composes with aws-vault, the roadmap's local flow::

    aws-vault exec homelab -- homelab-secrets run -- terraform plan
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from homelab_secrets.commands import _gather, _provider
from homelab_secrets.errors import ExitCode, UserError

if TYPE_CHECKING:
    from homelab_secrets.secrets.redact import Redactor

NAME = "run"
HELP = "run one command with the secrets in its environment only, masked in its output"

#: how long an unfinished line waits before what is safe of it is shown
PROMPT_DELAY = 0.1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _provider.add_arguments(parser, allow_none=True)
    _provider.add_selection_arguments(parser)
    _gather.add_arguments(parser)
    parser.add_argument("--name-prefix", default="", help="prefix for the variables' names")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD ARGS")


def run(args: argparse.Namespace) -> int:
    from homelab_secrets.secrets.job import export_pairs
    from homelab_secrets.secrets.redact import Redactor

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UserError("give the command to run after --", ExitCode.USAGE)
    settings = None if args.provider == "none" else _provider.settings_from_args(args)
    if settings is None and not args.sops_file:
        raise UserError("--provider none needs at least one --sops-file", ExitCode.USAGE)
    sources, hidden = _gather.gather(
        settings,
        _gather.Selection.of(args.only, args.required, args.name_transform),
        args.sops_file,
        age_key_secret=args.age_key_secret,
        environ=os.environ,
        root=Path.cwd(),
        cache=_provider.cache_from_args(args, os.environ),
    )
    pairs = export_pairs(sources, args.name_prefix)
    env = dict(os.environ)
    env.update((name, value) for name, value, _ in pairs)
    return run_redacted(command, env, Redactor(hidden))


def run_redacted(command: Sequence[str], env: dict[str, str], redactor: Redactor) -> int:
    """Run ``command`` with ``env``; its stdout/stderr through a copy of
    ``redactor`` each; return its exit code."""
    forwarder = _SignalForwarder()  # before the child starts: no signal is lost
    try:
        try:
            child = subprocess.Popen(
                list(command),
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except FileNotFoundError:
            raise UserError(f"run: command not found: {command[0]}", 127) from None
        except PermissionError:
            raise UserError(f"run: permission denied: {command[0]}", 126) from None
        forwarder.attach(child)
        pumps = [
            threading.Thread(
                target=_pump, args=(child.stdout, sys.stdout, redactor.copy()), daemon=True
            ),
            threading.Thread(
                target=_pump, args=(child.stderr, sys.stderr, redactor.copy()), daemon=True
            ),
        ]
        for pump in pumps:
            pump.start()
        code = child.wait()
        for pump in pumps:
            pump.join()
    finally:
        forwarder.restore()
    return code if code >= 0 else 128 - code


def _pump(source: IO[bytes] | None, target: IO[str], redactor: Redactor) -> None:
    import select

    if source is None:
        return
    out = target.buffer if hasattr(target, "buffer") else None
    fd = source.fileno()

    def write(data: bytes) -> None:
        if not data:
            return
        if out is not None:
            out.write(data)
            out.flush()
        else:
            target.write(data.decode("utf-8", "replace"))
            target.flush()

    try:
        while True:
            ready, _, _ = select.select([fd], [], [], PROMPT_DELAY)
            if not ready:
                write(redactor.pending())
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            write(redactor.feed(chunk))
        write(redactor.flush())
    finally:
        source.close()


class _SignalForwarder:
    """SIGINT, SIGTERM and SIGHUP go to the child (which a terminal's Ctrl-C
    reaches anyway); we stay to pass on its output and exit code.  A signal
    that arrives before the child exists is passed on as soon as it does."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self._child: subprocess.Popen[bytes] | None = None
        self._pending: list[int] = []
        self._previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        if self._child is None:
            self._pending.append(signum)
        elif self._child.poll() is None:
            self._child.send_signal(signum)

    def attach(self, child: subprocess.Popen[bytes]) -> None:
        self._child = child
        for signum in self._pending:
            child.send_signal(signum)
        self._pending.clear()

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
