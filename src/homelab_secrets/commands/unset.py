"""``homelab-secrets unset FILE INDEX``: remove one key or list item of an
encrypted file in place, like ``sops unset`` (the other values keep their
ciphertext).  A key or position that is not there fails (exit 1), unless
``--idempotent``; a malformed index is exit 7, as sops.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from homelab_secrets.commands import _sops
from homelab_secrets.errors import ExitCode, UserError, about

if TYPE_CHECKING:
    from homelab_secrets.sops.model import Branch

NAME = "unset"
HELP = "remove one key or list item of an encrypted file (like `sops unset`)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "args", metavar="FILE INDEX", nargs="*", help="the file and the tree path to remove"
    )
    _sops.add_type_options(parser)
    parser.add_argument(
        "--idempotent", action="store_true", help="succeed without writing when it is not there"
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
    if len(args.args) != 2:
        raise UserError("no file specified, or index is missing", ExitCode.NO_FILE_SPECIFIED)
    with about(args.args[0]):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from homelab_secrets.commands.set import read_encrypted
    from homelab_secrets.sops import engine, pipeline, treepath

    path, index = args.args
    in_fmt, out_fmt = _sops.formats(path, args)
    config = _sops.load_sops_config(args.config).config
    try:
        tree_path = treepath.parse_tree_path(index)
    except treepath.TreePathError:
        raise UserError("Invalid unset index format", ExitCode.INVALID_SET_FORMAT) from None

    def change(branches: list[Branch]) -> None:
        branches[0] = treepath.unset_path(branches[0], tree_path)

    try:
        output, _ = pipeline.update(
            read_encrypted(path),
            change,
            in_fmt=in_fmt,
            out_fmt=out_fmt,
            config=config,
            identities=engine.environment_identities(),
            ignore_mac=args.ignore_mac,
        )
    except treepath.KeyNotFound:
        if args.idempotent:
            return 0
        raise
    _sops.emit(output, output=None, in_place_path=path, private=False)
    return 0
