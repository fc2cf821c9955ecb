"""The `homelab-secrets` command line.

Each subcommand lives in :mod:`homelab_secrets.commands` as one module with

* ``NAME`` and ``HELP``,
* ``add_arguments(parser)`` (argparse only; no heavy imports at module level),
* ``run(args) -> int`` returning the exit code.

Errors are raised as :class:`~homelab_secrets.errors.UserError` and rendered
here, in one place, as one line on stderr.  Start-up time matters (a CI job
calls us many times; ``decrypt`` races the Go ``sops`` binary), so this module
and the command modules import nothing heavy: the work modules are imported
inside ``run``.  Even argparse waits: ``--version`` needs nothing, ``--help``
reads each command's ``HELP`` without importing its module, and a command
may offer ``parse_fast(argv)``, which handles the common command lines itself
(anything else, ``None``: argparse parses, with its messages).
"""

from __future__ import annotations

import os
import sys

from homelab_secrets import __version__
from homelab_secrets.errors import PROG, ExitCode, render

TYPE_CHECKING = False  # (importing typing costs start-up time)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from types import ModuleType

#: Subcommand name → module in :mod:`homelab_secrets.commands`, in the order
#: ``--help`` lists them.
COMMANDS: dict[str, str] = {
    "decrypt": "decrypt",
    "encrypt": "encrypt",
    "edit": "edit",
    "set": "set",
    "unset": "unset",
    "exec-env": "exec_env",
    "exec-file": "exec_file",
    "filestatus": "filestatus",
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
    module = f"homelab_secrets.commands.{name}"
    __import__(module)  # (importlib.import_module brings in importlib and warnings)
    return sys.modules[module]


def _selected(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (top-level options take no value)."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def _help_of(module_name: str) -> str:
    """A command's ``HELP`` line, read from its source (importing every
    command module for ``--help`` would cost what they import)."""
    import importlib.util

    spec = importlib.util.find_spec(f"homelab_secrets.commands.{module_name}")
    try:
        with open(spec.origin or "", encoding="utf-8") as fh:  # type: ignore[union-attr]
            for line in fh:
                if line.startswith("HELP = "):
                    literal = line[7:].rstrip()
                    quote, text = literal[:1], literal[1:-1]
                    # a plain one-line literal; anything fancier: import it
                    plain = quote in ("'", '"') and literal.endswith(quote)
                    if plain and quote not in text and "\\" not in text:
                        return text
                    break
    except (AttributeError, OSError):
        pass
    help_text: str = _load(module_name).HELP
    return help_text


def _formatter(prog: str) -> argparse.HelpFormatter:
    """argparse's formatter, told the terminal width (it would import shutil,
    and shutil the compression modules, for that)."""
    import argparse

    try:
        width = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        try:
            width = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            width = 80
    return argparse.HelpFormatter(prog, width=max(width - 2, 11))


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only``, just that subcommand's (start-up time:
    each command module imports what it needs, and a run needs one of them).
    Without, the commands are listed (``--help``, a wrong command) but their
    modules are not imported."""
    import argparse

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="One safe way to handle secrets in a homelab's CI.",
        formatter_class=_formatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on failure, also print a traceback (code locations only; never values)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        if only is None:
            sub.add_parser(name, help=_help_of(module_name), formatter_class=_formatter)
            continue
        if name != only:
            continue
        module = _load(module_name)
        cmd = sub.add_parser(
            module.NAME, help=module.HELP, description=module.HELP, formatter_class=_formatter
        )
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    try:
        if args_list == ["--version"]:
            sys.stdout.write(f"{PROG} {__version__}\n")
            return 0
        selected = _selected(args_list)
        if selected is not None:
            module = _load(COMMANDS[selected])
            parse_fast = getattr(module, "parse_fast", None)
            fast = parse_fast(args_list) if parse_fast is not None else None
            if fast is not None:
                fast_code: int = module.run(fast)
                return fast_code
        parser = build_parser(selected)
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
