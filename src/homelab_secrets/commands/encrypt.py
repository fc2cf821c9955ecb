"""``homelab-secrets encrypt FILE``: files the real ``sops`` opens, with sops' flags."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from homelab_secrets.commands import _sops
from homelab_secrets.errors import ExitCode, UserError, about

if TYPE_CHECKING:
    from homelab_secrets.sops.model import Branch
    from homelab_secrets.sops.stores import Store

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
    from homelab_secrets.sops import engine
    from homelab_secrets.sops.config import store_options
    from homelab_secrets.sops.metadata import AgeKey, MasterKey
    from homelab_secrets.sops.stores import get_store
    from homelab_secrets.sops.tree import RULE_NAMES, Rules

    path = args.file
    data = _sops.read_input(path)
    in_fmt, out_fmt = _sops.formats(path, args)
    rule_path = args.filename_override or path
    lookup = _sops.load_sops_config(args.config)
    if lookup.warning:
        _sops.warn(lookup.warning)
    rule = lookup.config.rule_for(rule_path) if lookup.config else None

    key_groups: list[list[MasterKey]]
    if args.age:
        key_groups = [[AgeKey(r.strip()) for r in args.age.split(",")]]
    elif rule is not None:
        key_groups = rule.key_groups
    else:
        raise UserError(
            "config file not found, or has no creation rules, and no keys provided through "
            "command line options (give --age or add a .sops.yaml)",
            ExitCode.ERROR_GENERIC,
        )

    cli_rules = {name: getattr(args, name) or "" for name in RULE_NAMES}
    if sum(1 for v in cli_rules.values() if v) > 1:
        raise UserError(
            "cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, "
            "unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex in the "
            "same file",
            ExitCode.CONFLICTING_RULE_FLAGS,
        )
    merged = dict(cli_rules)
    if rule is not None:
        for name in RULE_NAMES:
            if not merged[name]:
                merged[name] = getattr(rule.rules, name)
    if sum(1 for v in merged.values() if v) > 1:
        raise UserError(
            "cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, "
            "unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex in the "
            "same file (the command line and the .sops.yaml rule together)",
            ExitCode.CONFLICTING_RULE_FLAGS,
        )
    mac_only = args.mac_only_encrypted or bool(rule and rule.rules.mac_only_encrypted)
    threshold = args.shamir_secret_sharing_threshold
    if threshold is None:
        threshold = rule.shamir_threshold if rule is not None else 0

    in_store = get_store(in_fmt)
    branches = in_store.load_plain(data)
    _refuse_encrypted(in_store, branches, path)
    metadata = engine.encrypt(
        branches,
        key_groups,
        rules=Rules(mac_only_encrypted=mac_only, **merged),
        shamir_threshold=threshold,
        binary=in_fmt == "binary",
    )
    out_store = get_store(out_fmt, **store_options(out_fmt, lookup.config, args.indent))
    output = out_store.emit_encrypted(branches, metadata.to_branch())
    _sops.emit(
        output,
        output=args.output,
        in_place_path=path if args.in_place else None,
        private=False,
    )
    return 0


def _refuse_encrypted(store: Store, branches: list[Branch], path: str) -> None:
    """sops refuses a file whose first document has a top-level ``sops`` entry
    (``[sops]`` for INI, ``sops_*`` keys for dotenv): it is already encrypted,
    and a second layer would be a trap."""
    if branches and store.has_sops_top_level_key(branches[0]):
        raise UserError(
            f"{path}: the file has a top-level entry called 'sops' (or, for flat file "
            "formats, entries starting with 'sops_'): it is probably already encrypted; "
            "decrypt it first",
            ExitCode.FILE_ALREADY_ENCRYPTED,
        )
