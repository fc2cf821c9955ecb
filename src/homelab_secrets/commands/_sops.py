"""Shared plumbing of the SOPS commands (decrypt, encrypt, updatekeys, rotate):
reading the input, choosing stores, honouring ``.sops.yaml`` store options,
and writing output atomically.  Imports stay light: this runs on every start."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, NamedTuple

from homelab_secrets.errors import ExitCode, UserError

if TYPE_CHECKING:
    from homelab_secrets.sops.config import SopsConfig

FORMATS = ("yaml", "json", "dotenv", "ini", "binary")


def add_type_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--input-type",
        choices=FORMATS,
        help="format of the input file (default: from its extension; unknown → binary)",
    )
    parser.add_argument(
        "--output-type",
        choices=FORMATS,
        help="format of the output (default: the input format)",
    )


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="the .sops.yaml to use (default: looked up from the current directory upwards)",
    )


def read_input(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise UserError(
            f'cannot operate on non-existent file "{os.path.abspath(path)}"',
            ExitCode.NO_FILE_SPECIFIED,
        ) from None
    except IsADirectoryError:
        raise UserError(f"{path} is a directory", ExitCode.COULD_NOT_READ_INPUT_FILE) from None
    except OSError as exc:
        raise UserError(
            f"could not read {path}: {exc.strerror}", ExitCode.COULD_NOT_READ_INPUT_FILE
        ) from None


def formats(path: str, args: argparse.Namespace) -> tuple[str, str]:
    from homelab_secrets.sops.stores import format_for_path

    in_fmt = args.input_type or format_for_path(getattr(args, "filename_override", None) or path)
    out_fmt = args.output_type or in_fmt
    return in_fmt, out_fmt


class ConfigLookup(NamedTuple):
    config: SopsConfig | None
    warning: str | None = None


def load_sops_config(explicit: str | None) -> ConfigLookup:
    from homelab_secrets.sops.config import find_config, load_config

    if explicit:
        if not os.path.isfile(explicit):
            raise UserError(f"config file not found: {explicit}", ExitCode.CONFIG_FILE_NOT_FOUND)
        return ConfigLookup(load_config(explicit))
    path, warning = find_config()
    return ConfigLookup(load_config(path) if path else None, warning)


def warn(message: str) -> None:
    sys.stderr.write(f"homelab-secrets: warning: {message}\n")


def emit(data: bytes, *, output: str | None, in_place_path: str | None, private: bool) -> None:
    """Write ``data`` to stdout, ``--output`` or the input file (atomically).

    ``private``: plaintext (0600: tighter than sops, which keeps the mode of
    the file it overwrites; see README "SOPS compatibility"); otherwise
    encrypted output keeps the target's mode.  Like sops, a symbolic link is
    written through, and a file this process may not write is refused (exit 3).
    """
    from homelab_secrets.fsutil import write_atomic

    target = in_place_path or output
    if target:
        write_atomic(target, data, mode=0o600 if private else None, follow_symlinks=True)
        return
    out = sys.stdout.buffer
    out.write(data)
    out.flush()


def add_output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--output", metavar="PATH", help="write to PATH (atomically) instead of stdout"
    )
    group.add_argument(
        "-i", "--in-place", action="store_true", help="write the result back to FILE (atomically)"
    )
