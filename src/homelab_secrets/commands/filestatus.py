"""``homelab-secrets filestatus FILE``: ``{"encrypted": true}`` or
``{"encrypted": false}`` on one line, like ``sops filestatus``.

A file is encrypted when its store finds sops metadata in it, with a
``version`` and a ``mac``; nothing is decrypted (no key is needed).  A file
without metadata is ``false``; one that cannot be read, or whose metadata is
broken, fails (exit 1), as with sops.
"""

from __future__ import annotations

import argparse

from homelab_secrets.commands import _sops
from homelab_secrets.errors import ExitCode, UserError, about

NAME = "filestatus"
HELP = 'print {"encrypted": true|false} for a file (like `sops filestatus`)'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", nargs="?", help="the file to look at")
    parser.add_argument(
        "--input-type",
        choices=_sops.FORMATS,
        help="format of FILE (default: from its extension; unknown → binary)",
    )


def run(args: argparse.Namespace) -> int:
    if not args.file:
        raise UserError("Error: no file specified", ExitCode.NO_FILE_SPECIFIED)
    with about(args.file):
        encrypted = is_encrypted(args.file, args.input_type)
    _sops.write_stdout(b'{"encrypted":true}\n' if encrypted else b'{"encrypted":false}\n')
    return 0


def is_encrypted(path: str, input_type: str | None = None) -> bool:
    """sops' ``filestatus.cfs``: the file's metadata loads and has a version
    and a MAC.  Any failure but "no metadata" is an error (exit 1)."""
    from homelab_secrets.sops import pipeline
    from homelab_secrets.sops.stores import format_for_path

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise UserError(
            f"cannot check file status: Error reading file: {exc.strerror}",
            ExitCode.ERROR_GENERIC,
        ) from None
    try:
        return pipeline.is_encrypted(data, fmt=input_type or format_for_path(path))
    except UserError as exc:
        raise UserError(
            f"cannot check file status: {exc.message}", ExitCode.ERROR_GENERIC
        ) from None
