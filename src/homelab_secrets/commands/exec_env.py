"""``homelab-secrets exec-env FILE COMMAND``: run one command with the file's
top-level values in its environment, like ``sops exec-env``.

``COMMAND`` runs through ``/bin/sh -c`` (sops' contract: it may use ``$NAME``
and pipes).  The values reach that command only, never this process's own
environment or a file.  Values are written as sops writes them (numbers in
Go's ``%G`` form, ``true``/``false``, times in RFC 3339, null as
``<nil>``); a nested value, or a key with ``=``, fails (exit 1).  The exit
status is the command's (255 when a signal ended it).  ``--pristine``: only
the file's values; ``--user NAME``: run as that user (needs root);
``--same-process``: replace this process with the shell (``exec``);
``--background``: start it and return at once (deprecated in sops too).
"""

from __future__ import annotations

import argparse
import os
import sys

from homelab_secrets.commands import _sops
from homelab_secrets.errors import ExitCode, UserError, about

NAME = "exec-env"
HELP = "run a command with the decrypted values in its environment only (like `sops exec-env`)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "args", metavar="FILE COMMAND", nargs="*", help="the file and the shell command to run"
    )
    parser.add_argument(
        "--background",
        action="store_true",
        help="start the command and return at once (deprecated, as in sops)",
    )
    parser.add_argument(
        "--pristine",
        action="store_true",
        help="give the command only the decrypted values, not this environment",
    )
    parser.add_argument("--user", metavar="NAME", help="run the command as this user (root only)")
    parser.add_argument(
        "--same-process",
        action="store_true",
        help="replace this process with the command instead of starting a child",
    )


def run(args: argparse.Namespace) -> int:
    if len(args.args) != 2:
        raise UserError("error: missing file to decrypt", ExitCode.ERROR_GENERIC)
    path, command = args.args
    if args.background:
        _sops.warn("exec-env's --background option is deprecated (as in sops)")
        if args.same_process:
            raise UserError(
                "The --same-process flag cannot be used with --background",
                ExitCode.CONFLICTING_PARAMETERS,
            )
    with about(path):
        values = decrypted_env(path)
    from homelab_secrets.commands import _private

    if args.user:
        _private.switch_user(args.user)
    env: dict[str, str] = {} if args.pristine else dict(os.environ)
    env.update(values)
    shell = _private.SHELL
    argv = [shell, "-c", command]
    if args.same_process:
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execve(shell, argv, env)  # noqa: S606 - sops runs COMMAND with /bin/sh -c
        except (OSError, ValueError) as exc:
            raise UserError(f"could not run {shell}: {exc}", ExitCode.ERROR_GENERIC) from None
    try:
        return _private.run_child(argv, env=env, background=args.background)
    except (OSError, ValueError) as exc:
        raise UserError(f"could not run the command: {exc}", ExitCode.ERROR_GENERIC) from None


def decrypted_env(path: str) -> dict[str, str]:
    """``NAME: value`` of the file's first document, as sops puts them in
    the environment."""
    from homelab_secrets.commands.set import read_encrypted
    from homelab_secrets.sops import engine, pipeline
    from homelab_secrets.sops.model import Branch, Comment
    from homelab_secrets.sops.stores import format_for_path
    from homelab_secrets.sops.stores.flatten import val_to_string

    branches = pipeline.decrypt_tree(
        read_encrypted(path),
        in_fmt=format_for_path(path),
        identities=engine.environment_identities(),
    )
    env: dict[str, str] = {}
    for key, value in branches[0] if branches else ():
        if isinstance(value, (Branch, list)):
            raise UserError(
                f"cannot use complex value in environment; offending key {key}",
                ExitCode.ERROR_GENERIC,
            )
        if isinstance(key, Comment):
            continue
        if not isinstance(key, str):
            raise UserError("cannot use non-string keys in environment", ExitCode.ERROR_GENERIC)
        if "=" in key:
            raise UserError(
                f"cannot use keys with '=' in environment: {key}", ExitCode.ERROR_GENERIC
            )
        env[key] = val_to_string(value)
    return env
