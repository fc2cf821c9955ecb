"""``homelab-secrets rotate FILE``: a new data key, every value re-encrypted
(like ``sops rotate``); ``--add-age``/``--rm-age`` change recipients on the way."""

from __future__ import annotations

import argparse

from homelab_secrets.commands import _sops
from homelab_secrets.errors import ExitCode, UserError, about

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
    from homelab_secrets.sops import engine
    from homelab_secrets.sops.cipher import Cipher
    from homelab_secrets.sops.config import store_options
    from homelab_secrets.sops.metadata import AgeKey
    from homelab_secrets.sops.stores import get_store

    path = args.file
    data = _sops.read_input(path)
    in_fmt, out_fmt = _sops.formats(path, args)
    result = engine.decrypt(
        data, in_fmt, engine.environment_identities(), ignore_mac=args.ignore_mac
    )
    metadata = result.metadata
    groups = metadata.key_groups
    for key in (k for g in groups for k in g):
        if not isinstance(key, AgeKey):
            raise UserError(
                f"cannot rotate {path}: it has a {key.type} key ({key.name}) and homelab-secrets "
                "wraps data keys for age recipients only; use sops for this file",
                ExitCode.ERROR_GENERIC,
            )
    if args.add_age:
        groups[0].extend(AgeKey(r.strip()) for r in args.add_age.split(","))
    if args.rm_age:
        remove = {r.strip() for r in args.rm_age.split(",")}
        metadata.key_groups = groups = [
            [k for k in g if not (isinstance(k, AgeKey) and k.recipient in remove)] for g in groups
        ]
    metadata.key_groups = [[AgeKey(k.recipient) for k in g] for g in groups]  # type: ignore[union-attr]
    data_key = engine.new_data_key()
    engine.wrap_data_key(data_key, metadata)
    engine.seal(result.branches, metadata, Cipher(data_key))
    lookup = _sops.load_sops_config(args.config)
    store = get_store(out_fmt, **store_options(out_fmt, lookup.config))
    output = store.emit_encrypted(result.branches, metadata.to_branch())
    _sops.emit(
        output,
        output=args.output,
        in_place_path=path if args.in_place else None,
        private=False,
    )
    return 0
