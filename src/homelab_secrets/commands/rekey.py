"""``homelab-secrets rekey``: new data keys for every SOPS file of the
repository, wrapped for the recipients ``.sops.yaml`` lists now; with
``--new-age-key`` a new key pair moved in without a moment where CI cannot
decrypt (:mod:`homelab_secrets.rekey.flow`).  ``rotate FILE`` and
``updatekeys FILE`` stay what they are, one file at a time.
"""

from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path

from homelab_secrets.commands import _keystore
from homelab_secrets.errors import ExitCode, UserError

NAME = "rekey"
HELP = "new data keys for every SOPS file; --new-age-key rotates the age key itself"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="*", metavar="FILE", help="only these files (default: every SOPS file)"
    )
    parser.add_argument(
        "--dir", default=".", metavar="DIR", help="the repository's root (default: here)"
    )
    parser.add_argument(
        "--new-age-key",
        action="store_true",
        help="generate a new age key pair, store it in the manager next to the old one, move "
        ".sops.yaml and every file to it (a rerun after a failure finishes the job)",
    )
    parser.add_argument(
        "--retire-old-key",
        action="store_true",
        help="once no file needs the old key, keep only the new one in the manager",
    )
    parser.add_argument(
        "--local-key",
        choices=("none", "keychain", "file"),
        default="none",
        help="with --new-age-key: put the new key in your keychain or sops' keys file too",
    )
    parser.add_argument(
        "--local-key-name", default="", metavar="ITEM", help="the keychain item (as for init)"
    )
    parser.add_argument("--dry-run", action="store_true", help="show every change, make none")
    _keystore.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from homelab_secrets.onboard.init import NEW_KEY
    from homelab_secrets.rekey import flow

    if args.local_key != "none" and not args.new_age_key:
        raise UserError("--local-key goes with --new-age-key", ExitCode.USAGE)
    wants_manager = args.new_age_key or args.retire_old_key
    provider = _keystore.provider_of(args, "doppler" if wants_manager else "none")
    options = flow.RekeyOptions(
        root=Path(args.dir),
        files=tuple(args.files),
        new_key=args.new_age_key,
        retire=args.retire_old_key,
        local_key=args.local_key,
        local_item=args.local_key_name,
    )
    environ = dict(os.environ)
    with _keystore.open_store(args, environ, provider) as store:
        result = flow.plan(options, store, environ)
        print(f"homelab-secrets rekey: {result.root}")
        steps = result.all_steps()
        if result.new_recipient:
            shown = result.new_recipient
            if args.dry_run and not result.resumed:
                shown = NEW_KEY  # the real run generates its own
                for step in steps:
                    step.title = step.title.replace(result.new_recipient, shown)
                    step.diff = step.diff.replace(result.new_recipient, shown)
            resumed = " (a rotation under way: finishing it)" if result.resumed else ""
            print(f"new age key: {shown}{resumed}")
        failures: list[str] = []
        if not steps:
            print("Nothing to change.")
        elif args.dry_run:
            print("Changes (--dry-run: none made):")
            for step in steps:
                print(f"  - {step.title}")
                for line in step.diff.splitlines():
                    print(f"      {line}")
        else:
            print("Changes:")
            failures = flow.apply(result, lambda title: print(f"  - {title}", flush=True))
    if result.manual:
        print("Left to do by hand:")
        for number, note in enumerate(result.manual, 1):
            print(f"  {number}. {note}")
    if result.key_cmd:
        print(f"Your copy: export SOPS_AGE_KEY_CMD={shlex.quote(result.key_cmd)}")
    if failures:
        raise UserError(
            f"{len(failures)} file(s) could not be re-keyed (every file still opens with a key "
            "the manager holds; fix them and run rekey again): " + "; ".join(failures),
            ExitCode.ERROR,
        )
    return 0
