"""``homelab-secrets decrypt FILE``: what ``sops decrypt`` prints, byte for byte."""

from __future__ import annotations

import argparse

from homelab_secrets.commands import _sops
from homelab_secrets.errors import about

NAME = "decrypt"
HELP = "decrypt a SOPS file (same flags, output and exit codes as `sops decrypt`)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE")
    _sops.add_type_options(parser)
    parser.add_argument(
        "--extract",
        metavar="PATH",
        help='print only this part of the tree, e.g. \'["db"]["password"]\' or \'["list"][0]\'',
    )
    parser.add_argument(
        "--ignore-mac", action="store_true", help="do not verify the MAC (integrity check)"
    )
    _sops.add_output_options(parser)
    _sops.add_config_option(parser)


def run(args: argparse.Namespace) -> int:
    with about(args.file):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from homelab_secrets.sops import engine, pipeline
    from homelab_secrets.sops.extract import parse_tree_path
    from homelab_secrets.sops.tree import format_path

    path = args.file
    extract_path = parse_tree_path(args.extract) if args.extract else None
    data = _sops.read_input(path)
    in_fmt, out_fmt = _sops.formats(path, args)
    plain = pipeline.decrypt(
        data,
        in_fmt=in_fmt,
        out_fmt=out_fmt,
        config=_sops.load_sops_config(args.config).config,
        identities=engine.environment_identities(),
        ignore_mac=args.ignore_mac,
        extract=extract_path,
    )
    for comment_path in plain.plain_comments:
        _sops.warn(
            f"{path}: a comment under '{format_path(comment_path)}' is not encrypted (kept as is)"
        )
    _sops.emit(
        plain.plaintext,
        output=args.output,
        in_place_path=path if args.in_place else None,
        private=True,
    )
    return 0
