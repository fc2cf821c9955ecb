"""``homelab-secrets encrypt [FILE]``: files the real ``sops`` opens, with sops' flags."""

from __future__ import annotations

from homelab_secrets.commands import _sops
from homelab_secrets.errors import about

TYPE_CHECKING = False  # (start-up time: neither typing nor argparse on the fast path)
if TYPE_CHECKING:
    import argparse

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


OPTIONS = (
    _sops.Option(
        "--age",
        metavar="RECIPIENTS",
        help="comma-separated age recipients (default: the keys of the matching .sops.yaml rule)",
    ),
    *_sops.TYPE_OPTIONS,
    *(
        _sops.Option("--" + dest.replace("_", "-"), metavar="VALUE", help=text)
        for dest, text in RULE_FLAGS
    ),
    _sops.Option(
        "--mac-only-encrypted",
        kind="switch",
        help="authenticate only the encrypted values in the MAC",
    ),
    _sops.Option(
        "--shamir-secret-sharing-threshold",
        kind="int",
        metavar="N",
        help="number of key groups needed to decrypt (with several key groups)",
    ),
    _sops.Option("--indent", kind="int", metavar="N", help="indentation of YAML/JSON output"),
    _sops.filename_override(stdin_needs_it=True),
    *_sops.OUTPUT_OPTIONS,
    _sops.CONFIG_OPTION,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        metavar="FILE",
        nargs="?",
        help="the plain file (default: standard input, with --filename-override)",
    )
    _sops.add_options(parser, OPTIONS)


def parse_fast(argv: list[str]) -> argparse.Namespace | None:
    return _sops.parse_fast(argv, NAME, OPTIONS, "file")


def run(args: argparse.Namespace) -> int:
    with about(args.file or args.filename_override or _sops.STDIN_NAME):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from homelab_secrets.sops import pipeline
    from homelab_secrets.sops.tree import RULE_NAMES

    source = _sops.source(args, stdin_needs_override=True)
    in_fmt, out_fmt = _sops.formats(source.name, args)
    lookup = _sops.load_sops_config(args.config)
    if lookup.warning:
        _sops.warn(lookup.warning)
    plan = pipeline.plan_encryption(
        lookup.config,
        source.name,
        age=args.age.split(",") if args.age else (),
        cli_rules={name: getattr(args, name) or "" for name in RULE_NAMES},
        mac_only_encrypted=args.mac_only_encrypted,
        shamir_threshold=args.shamir_secret_sharing_threshold,
    )
    output = pipeline.encrypt(
        source.read(),
        in_fmt=in_fmt,
        out_fmt=out_fmt,
        plan=plan,
        config=lookup.config,
        indent=args.indent,
    )
    _sops.emit(
        output,
        output=args.output,
        in_place_path=source.path if args.in_place else None,
        private=False,
    )
    return 0
