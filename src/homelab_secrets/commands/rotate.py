"""``homelab-secrets rotate FILE``: a new data key, every value re-encrypted
(like ``sops rotate``); ``--add-age``/``--rm-age`` change recipients on the way."""

from __future__ import annotations

import argparse

from homelab_secrets.commands import _sops
from homelab_secrets.errors import about

NAME = "rotate"
HELP = "generate a new data key and re-encrypt every value (like `sops rotate`)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE")
    _sops.add_type_options(parser)
    parser.add_argument(
        "--add-age", metavar="RECIPIENTS", help="comma-separated age recipients to add"
    )
    parser.add_argument(
        "--rm-age", metavar="RECIPIENTS", help="comma-separated age recipients to remove"
    )
    parser.add_argument(
        "--ignore-mac", action="store_true", help="do not verify the MAC before rotating"
    )
    _sops.add_output_options(parser)
    _sops.add_config_option(parser)


def run(args: argparse.Namespace) -> int:
    with about(args.file):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from homelab_secrets.sops import engine, pipeline

    path = args.file
    _sops.source(args, stdin_needs_override=False)  # --in-place with --output: exit 8
    data = _sops.read_input(path)
    in_fmt, out_fmt = _sops.formats(path, args)
    output = pipeline.rotate(
        data,
        in_fmt=in_fmt,
        out_fmt=out_fmt,
        config=_sops.load_sops_config(args.config).config,
        identities=engine.environment_identities(),
        ignore_mac=args.ignore_mac,
        add_age=[r.strip() for r in args.add_age.split(",")] if args.add_age else [],
        rm_age=[r.strip() for r in args.rm_age.split(",")] if args.rm_age else [],
    )
    _sops.emit(
        output,
        output=args.output,
        in_place_path=path if args.in_place else None,
        private=False,
    )
    return 0
