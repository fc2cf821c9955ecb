"""``homelab-secrets set FILE INDEX VALUE``: one value of an encrypted file,
changed in place like ``sops set``.

``INDEX`` is sops' tree path (``'["db"]["password"]'``, ``'["list"][0]'``),
``VALUE`` is JSON (``'"s3cret"'``, ``'42'``, ``'{"a": true}'``); with
``--value-file`` the last argument names a file holding the JSON, with
``--value-stdin`` it comes from standard input (neither shows the value in
process listings).  The data key stays, and every other value keeps its
ciphertext: ``git diff`` shows that value, ``lastmodified`` and ``mac``.
With ``--idempotent`` nothing is written when the value is already there.
Exit 7 for a malformed index or a value that is not JSON, as sops.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from homelab_secrets.commands import _sops
from homelab_secrets.errors import ExitCode, UserError, about

if TYPE_CHECKING:
    from homelab_secrets.sops.model import Branch

NAME = "set"
HELP = "set one value of an encrypted file, keeping the others' ciphertext (like `sops set`)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "args",
        metavar="FILE INDEX [VALUE]",
        nargs="*",
        help="the file, the tree path (e.g. '[\"a\"][0]') and the JSON value",
    )
    _sops.add_type_options(parser)
    parser.add_argument(
        "--value-file",
        action="store_true",
        help="the last argument is a file holding the value (kept out of process listings)",
    )
    parser.add_argument(
        "--value-stdin",
        action="store_true",
        help="read the value from standard input (kept out of process listings)",
    )
    parser.add_argument(
        "--idempotent",
        action="store_true",
        help="write nothing when the value is already there (same JSON type and value)",
    )
    parser.add_argument(
        "--ignore-mac", action="store_true", help="do not verify the MAC before changing"
    )
    parser.add_argument(
        "--shamir-secret-sharing-threshold",
        type=int,
        metavar="N",
        help="accepted for sops compatibility (the file's threshold is kept)",
    )
    _sops.add_config_option(parser)


def run(args: argparse.Namespace) -> int:
    if args.value_file and args.value_stdin:
        raise UserError("cannot use both --value-file and --value-stdin", ExitCode.ERROR_GENERIC)
    if args.value_stdin and len(args.args) != 2:
        raise UserError(
            "file specified, or index and value are missing. Need precisely 2 positional "
            "arguments since --value-stdin is used.",
            ExitCode.NO_FILE_SPECIFIED,
        )
    if not args.value_stdin and len(args.args) != 3:
        raise UserError(
            "no file specified, or index and value are missing. Need precisely 3 positional "
            "arguments.",
            ExitCode.NO_FILE_SPECIFIED,
        )
    with about(args.args[0]):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    import sys

    from homelab_secrets.sops import engine, pipeline, treepath

    path, index = args.args[0], args.args[1]
    in_fmt, out_fmt = _sops.formats(path, args)
    config = _sops.load_sops_config(args.config).config
    try:
        tree_path = treepath.parse_tree_path(index)
    except treepath.TreePathError:
        raise UserError("Invalid set index format", ExitCode.INVALID_SET_FORMAT) from None
    if args.value_stdin:
        raw = sys.stdin.buffer.read() if sys.stdin is not None else b""
    elif args.value_file:
        raw = _read_value_file(args.args[2])
    else:
        raw = args.args[2].encode("utf-8", "surrogateescape")
    treepath.json_value(raw)  # exit 7 before the file is even read, like sops

    def change(branches: list[Branch]) -> bool:
        branch, changed = treepath.set_path(branches[0], tree_path, treepath.json_value(raw))
        branches[0] = branch
        return changed

    data = read_encrypted(path)
    output, changed = pipeline.update(
        data,
        change,
        in_fmt=in_fmt,
        out_fmt=out_fmt,
        config=config,
        identities=engine.environment_identities(),
        ignore_mac=args.ignore_mac,
    )
    if not changed and args.idempotent:
        return 0
    _sops.emit(output, output=None, in_place_path=path, private=False)
    return 0


def _read_value_file(name: str) -> bytes:
    try:
        with open(name, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise UserError(
            f"could not read the value file {name}: {exc.strerror}", ExitCode.ERROR_GENERIC
        ) from None


def read_encrypted(path: str) -> bytes:
    """sops' ``LoadEncryptedFile`` read: a missing file is exit 2 (not 100)."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise UserError(
            f"Error reading file: {exc.strerror}", ExitCode.COULD_NOT_READ_INPUT_FILE
        ) from None
