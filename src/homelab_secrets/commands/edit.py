"""``homelab-secrets edit FILE``: sops' editor mode.

The file is decrypted into a ``0600`` file in a private temporary folder
(named like the file, for the editor's syntax highlighting), ``$SOPS_EDITOR``
or ``$EDITOR`` (split like a shell would, run without one; else ``vim``,
``nano`` or ``vi``) opens it, and what was saved is encrypted again with the
**same data key**: a value whose text did not change keeps its ciphertext
byte for byte (sops' stash), so ``git diff`` shows the changed values,
``lastmodified`` and ``mac`` only.  Like sops: exit 200 when the file was
saved unchanged (nothing is written), 201 when the editor cannot be run or
fails, and a file that does not exist starts from sops' example document,
encrypted for ``--age`` or the ``.sops.yaml`` creation rule.

An edit that no longer parses is offered again after a key press when this
runs in a terminal (sops' behaviour); otherwise it fails (exit 2) without
touching the file (sops would wait for a key forever).  The temporary folder
is removed whatever happens, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from homelab_secrets.commands import _sops
from homelab_secrets.errors import ExitCode, UserError, about

if TYPE_CHECKING:
    from homelab_secrets.sops.pipeline import Opened

NAME = "edit"
HELP = "edit an encrypted file in $SOPS_EDITOR/$EDITOR (same data key, minimal diff; like sops)"

#: The rule flags sops' ``edit`` takes for a new file.
RULE_FLAGS = ("unencrypted_suffix", "encrypted_suffix", "unencrypted_regex", "encrypted_regex")
DEFAULT_EDITORS = ("vim", "nano", "vi")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", nargs="?", help="the file (created if missing)")
    parser.add_argument(
        "-a",
        "--age",
        metavar="RECIPIENTS",
        help="for a new file: comma-separated age recipients (default: the .sops.yaml rule's)",
    )
    _sops.add_type_options(parser)
    for dest in RULE_FLAGS:
        parser.add_argument(
            "--" + dest.replace("_", "-"), dest=dest, metavar="VALUE", help="for a new file"
        )
    parser.add_argument(
        "--shamir-secret-sharing-threshold",
        type=int,
        metavar="N",
        help="for a new file: key groups needed to decrypt",
    )
    parser.add_argument(
        "--ignore-mac", action="store_true", help="do not verify the MAC before editing"
    )
    _sops.add_config_option(parser)


def run(args: argparse.Namespace) -> int:
    if not args.file:
        raise UserError("Error: no file specified", ExitCode.NO_FILE_SPECIFIED)
    with about(args.file):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from homelab_secrets.fsutil import write_atomic
    from homelab_secrets.sops import engine, pipeline
    from homelab_secrets.sops.tree import RULE_NAMES

    path = args.file
    in_fmt, out_fmt = _sops.formats(path, args)
    lookup = _sops.load_sops_config(args.config)
    if os.path.exists(path):
        opened = pipeline.open_file(
            _sops.read_input(path),
            in_fmt=in_fmt,
            out_fmt=out_fmt,
            config=lookup.config,
            identities=engine.environment_identities(),
            ignore_mac=args.ignore_mac,
        )
    else:
        if lookup.warning:
            _sops.warn(lookup.warning)
        plan = pipeline.plan_encryption(
            lookup.config,
            path,
            age=args.age.split(",") if args.age else (),
            cli_rules={name: getattr(args, name, None) or "" for name in RULE_NAMES},
            shamir_threshold=args.shamir_secret_sharing_threshold,
        )
        opened = pipeline.new_file(plan, in_fmt=in_fmt, out_fmt=out_fmt, config=lookup.config)
    output = edit_until_ok(opened, os.path.basename(path))
    write_atomic(path, output, mode=None, follow_symlinks=True)
    return 0


def edit_until_ok(opened: Opened, name: str) -> bytes:
    """sops' ``editTree`` + ``runEditorUntilOk``: the encrypted file once the
    editor saved something that parses."""
    import hashlib

    from homelab_secrets.commands import _private
    from homelab_secrets.sops import pipeline
    from homelab_secrets.sops.stores import StoreError

    original = hashlib.sha256(opened.text).digest()
    with _private.private_dir() as folder:
        tmp = _private.private_file(folder, name, opened.text)
        while True:
            run_editor(tmp)
            with open(tmp, "rb") as fh:
                edited = fh.read()
            if hashlib.sha256(edited).digest() == original:
                raise UserError(
                    "File has not changed, exiting.", ExitCode.FILE_HAS_NOT_BEEN_MODIFIED
                )
            try:
                return pipeline.seal_text(opened, edited)
            except StoreError as exc:
                if not (sys.stdin is not None and sys.stdin.isatty()):
                    raise UserError(
                        f"Could not load tree, probably due to invalid syntax ({exc.message}); "
                        "the file was not changed",
                        ExitCode.COULD_NOT_READ_INPUT_FILE,
                    ) from None
                sys.stderr.write(
                    f"homelab-secrets: error: Could not load tree, probably due to invalid "
                    f"syntax ({exc.message}). Press Enter to return to the editor, or Ctrl+C "
                    "to exit.\n"
                )
                sys.stderr.flush()
                sys.stdin.readline()


def editor_command(environ: dict[str, str] | None = None) -> list[str]:
    """``$SOPS_EDITOR``, else ``$EDITOR``, split like a shell would; else the
    first of vim, nano, vi on ``PATH`` (exit 201 when there is none)."""
    import shlex
    import shutil

    env = os.environ if environ is None else environ
    for var in ("SOPS_EDITOR", "EDITOR"):
        value = env.get(var, "")
        if value:
            try:
                parts = shlex.split(value)
            except ValueError:
                raise UserError(
                    f"Could not run editor: invalid ${var} (it does not split like a shell "
                    "command line)",
                    ExitCode.NO_EDITOR_FOUND,
                ) from None
            if not parts:
                raise UserError(f"Could not run editor: invalid ${var}", ExitCode.NO_EDITOR_FOUND)
            return parts
    for name in DEFAULT_EDITORS:
        found = shutil.which(name)
        if found:
            return [found]
    raise UserError(
        "Could not run editor: no editor available: set SOPS_EDITOR or EDITOR, or install "
        f"one of {', '.join(DEFAULT_EDITORS)}",
        ExitCode.NO_EDITOR_FOUND,
    )


def run_editor(path: str) -> None:
    """Run the editor on ``path``; any failure to run it, or a non-zero exit,
    is sops' exit 201."""
    from homelab_secrets.commands import _private

    argv = [*editor_command(), path]
    try:
        code = _private.run_child(argv)
    except OSError as exc:
        raise UserError(
            f"Could not run editor: {argv[0]}: {exc.strerror}", ExitCode.NO_EDITOR_FOUND
        ) from None
    if code != 0:
        raise UserError(f"Could not run editor: exit status {code}", ExitCode.NO_EDITOR_FOUND)
