"""``homelab-secrets encrypt FILE``: files the real ``sops`` opens, with sops' flags."""

from __future__ import annotations

import argparse

from homelab_secrets.commands import _sops
from homelab_secrets.errors import about

NAME = "encrypt"
HELP = "encrypt a file for age recipients (same flags and .sops.yaml rules as `sops encrypt`)"

RULE_FLAGS = (
    ("unencrypted_suffix", "leave values whose key (or an ancestor's) ends with it in clear"),
    ("encrypted_suffix", "encrypt only values whose key (or an ancestor's) ends with it"),
    ("unencrypted_regex", "leave values whose key (or an ancestor's) matches it in clear"),
    ("encrypted_regex", "encrypt only values whose key (or an ancestor's) matches it"),
    ("unencrypted_comment_regex", "leave values under a comment matching it in clear"),
    ("encrypted_comment_regex", "encrypt only values under a comment matching it"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE")
    parser.add_argument(
        "--age",
        metavar="RECIPIENTS",
        help="comma-separated age recipients (default: the keys of the matching .sops.yaml rule)",
    )
    _sops.add_type_options(parser)
    for dest, text in RULE_FLAGS:
        flag = "--" + dest.replace("_", "-")
        parser.add_argument(flag, dest=dest, metavar="VALUE", help=text)
    parser.add_argument(
        "--mac-only-encrypted",
        action="store_true",
        help="authenticate only the encrypted values in the MAC",
    )
    parser.add_argument(
        "--shamir-secret-sharing-threshold",
        type=int,
        metavar="N",
        help="number of key groups needed to decrypt (with several key groups)",
    )
    parser.add_argument("--indent", type=int, metavar="N", help="indentation of YAML/JSON output")
    parser.add_argument(
        "--filename-override",
        metavar="PATH",
        help="use this path (not FILE's) to pick the format and the .sops.yaml rule",
    )
    _sops.add_output_options(parser)
    _sops.add_config_option(parser)


def run(args: argparse.Namespace) -> int:
    with about(args.file):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from homelab_secrets.sops import pipeline
    from homelab_secrets.sops.tree import RULE_NAMES

    path = args.file
    data = _sops.read_input(path)
    in_fmt, out_fmt = _sops.formats(path, args)
    lookup = _sops.load_sops_config(args.config)
    if lookup.warning:
        _sops.warn(lookup.warning)
    plan = pipeline.plan_encryption(
        lookup.config,
        args.filename_override or path,
        age=args.age.split(",") if args.age else (),
        cli_rules={name: getattr(args, name) or "" for name in RULE_NAMES},
        mac_only_encrypted=args.mac_only_encrypted,
        shamir_threshold=args.shamir_secret_sharing_threshold,
    )
    output = pipeline.encrypt(
        data, in_fmt=in_fmt, out_fmt=out_fmt, plan=plan, config=lookup.config, indent=args.indent
    )
    _sops.emit(
        output,
        output=args.output,
        in_place_path=path if args.in_place else None,
        private=False,
    )
    return 0
