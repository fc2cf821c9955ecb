"""The `homelab-secrets` command line.

Each subcommand lives in :mod:`homelab_secrets.commands` as one module with

* ``NAME`` and ``HELP``,
* ``add_arguments(parser)`` (argparse only; no heavy imports at module level),
* ``run(args) -> int`` returning the exit code.

Errors are raised as :class:`~homelab_secrets.errors.UserError` and rendered
here, in one place, as one line on stderr.  Start-up time matters (a CI job
calls us many times; ``decrypt`` races the Go ``sops`` binary), so this module
and the command modules import nothing heavy: the work modules are imported
inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from homelab_secrets import __version__
from homelab_secrets.errors import PROG, ExitCode, render

#: Subcommand name → module in :mod:`homelab_secrets.commands`, in the order
#: ``--help`` lists them.
COMMANDS: dict[str, str] = {
    "decrypt": "decrypt",
    "encrypt": "encrypt",
    "updatekeys": "updatekeys",
    "rotate": "rotate",
    "sops-decrypt": "sops_decrypt",
    "sops-encrypt": "sops_encrypt",
    "cleanup": "cleanup",
    "fetch": "fetch",
    "run": "run",
    "load": "load",
    "doctor": "doctor",
    "scan": "scan",
    "sync": "sync",
    "plan-keygen": "plan_keygen",
    "plan-summary": "plan_summary",
    "plan-seal": "plan_seal",
    "plan-open": "plan_open",
    "pr-comment": "pr_comment",
    "ansible-summary": "ansible_summary",
    "ssh-agent-add": "ssh_agent_add",
    "init": "init",
    "rekey": "rekey",
    "migrate": "migrate",
}


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"homelab_secrets.commands.{name}")


def _selected(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (top-level options take no value)."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only``, just that subcommand's (start-up time:
    each command module imports what it needs, and a run needs one of them)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="One safe way to handle secrets in a homelab's CI.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on failure, also print a traceback (code locations only; never values)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        if only is not None and name != only:
            continue
        module = _load(module_name)
        cmd = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    try:
        parser = build_parser(_selected(args_list))
        args = parser.parse_args(args_list)
        run = getattr(args, "_run", None)
        if run is None:
            parser.print_help(sys.stderr)
            return ExitCode.USAGE
        code: int = run(args)
        return code
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else ExitCode.USAGE
    except BaseException as exc:
        return render(exc, debug=debug)
