"""``homelab-secrets decrypt [FILE]``: what ``sops decrypt`` prints, byte for byte."""

from __future__ import annotations

from homelab_secrets.commands import _sops
from homelab_secrets.errors import about

TYPE_CHECKING = False  # (start-up time: neither typing nor argparse on the fast path)
if TYPE_CHECKING:
    import argparse

NAME = "decrypt"
HELP = "decrypt a SOPS file (same flags, output and exit codes as `sops decrypt`)"


OPTIONS = (
    *_sops.TYPE_OPTIONS,
    _sops.Option(
        "--extract",
        metavar="PATH",
        help='print only this part of the tree, e.g. \'["db"]["password"]\' or \'["list"][0]\'',
    ),
    _sops.Option("--ignore-mac", kind="switch", help="do not verify the MAC (integrity check)"),
    *_sops.OUTPUT_OPTIONS,
    _sops.filename_override(stdin_needs_it=False),
    _sops.CONFIG_OPTION,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", metavar="FILE", nargs="?", help="the encrypted file (default: standard input)"
    )
    _sops.add_options(parser, OPTIONS)


def parse_fast(argv: list[str]) -> argparse.Namespace | None:
    return _sops.parse_fast(argv, NAME, OPTIONS, "file")


def run(args: argparse.Namespace) -> int:
    with about(args.file or args.filename_override or _sops.STDIN_NAME):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from homelab_secrets.sops import engine, pipeline
    from homelab_secrets.sops.tree import format_path
    from homelab_secrets.sops.treepath import parse_extract_path

    source = _sops.source(args, stdin_needs_override=False)
    extract_path = parse_extract_path(args.extract) if args.extract else None
    in_fmt, out_fmt = _sops.formats(source.name, args)
    config = _sops.load_sops_config(args.config).config
    plain = pipeline.decrypt(
        source.read(),
        in_fmt=in_fmt,
        out_fmt=out_fmt,
        config=config,
        identities=engine.environment_identities(),
        ignore_mac=args.ignore_mac,
        extract=extract_path,
    )
    for comment_path in plain.plain_comments:
        _sops.warn(
            f"{source.label}: a comment under '{format_path(comment_path)}' is not encrypted "
            "(kept as is)"
        )
    _sops.emit(
        plain.plaintext,
        output=args.output,
        in_place_path=source.path if args.in_place else None,
        private=True,
    )
    return 0
