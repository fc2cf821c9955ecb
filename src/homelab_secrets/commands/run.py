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
    parser.add_argument(
        "--sops-file",
        action="append",
        default=[],
        metavar="FILE",
        help="also decrypt this SOPS file (path or glob; repeatable) into the environment",
    )
    parser.add_argument(
        "--age-key-secret",
        default=_gather.AGE_KEY_SECRET,
        metavar="NAME",
        help="the provider's secret holding the age key for --sops-file (never passed on)",
    )
    parser.add_argument("--name-prefix", default="", help="prefix for the variables' names")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD ARGS")


def run(args: argparse.Namespace) -> int:
    from homelab_secrets.secrets.fetched import split_names
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
    cache = _provider.fallback_cache(
        args.fallback_cache, os.environ.get("HOMELAB_SECRETS_CACHE_KEY", "")
    )
    sources, hidden = _gather.gather(
        settings,
        _gather.Selection(
            tuple(split_names(args.only)), tuple(split_names(args.required)), args.name_transform
        ),
        args.sops_file,
        age_key_secret=args.age_key_secret,
        environ=os.environ,
        root=Path.cwd(),
        cache=cache,
    )
    pairs = export_pairs(sources, args.name_prefix)
    env = dict(os.environ)
    env.update((name, value) for name, value, _ in pairs)
    return run_redacted(command, env, Redactor(hidden))


def run_redacted(command: Sequence[str], env: dict[str, str], redactor: Redactor) -> int:
    """Run ``command`` with ``env``; its stdout/stderr through a copy of
    ``redactor`` each; return its exit code."""
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
    previous = _forward_signals(child)
    try:
        code = child.wait()
        for pump in pumps:
            pump.join()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
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


def _forward_signals(child: subprocess.Popen[bytes]) -> dict[int, Any]:
    """SIGINT, SIGTERM and SIGHUP go to the child (which a terminal's Ctrl-C
    reaches anyway); we stay to pass on its output and exit code."""
    previous: dict[int, Any] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous

    def forward(signum: int, _frame: object) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        previous[signum] = signal.signal(signum, forward)
    return previous
