"""``homelab-secrets init``: the roadmap's SOPS + age plan for a repository
in one command (:mod:`homelab_secrets.onboard`).

An age key pair (or ``--age-recipient``), the private key stored in Doppler
or Infisical (``--age-key-secret``, default ``SOPS_AGE_KEY``) and read back;
``.sops.yaml`` from the presets of the repository's kinds, or merged into;
every plaintext file those rules cover encrypted in place (or moved, saying
where and why), each verified by a decrypt before its original is touched;
the pre-commit hook and the caller workflows; ``--local-key keychain|file``
for your own copy; then what is left to do by hand.  ``--dry-run`` shows
every change and makes none; a second run changes nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from homelab_secrets.commands import _keystore

if TYPE_CHECKING:
    from homelab_secrets.onboard.plan import Plan

NAME = "init"
HELP = "set a repository up for SOPS + age: key in the manager, .sops.yaml, files, guard, CI"
KINDS = ("terraform", "ansible", "dotenv")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir", default=".", metavar="DIR", help="the repository's root (default: here)"
    )
    parser.add_argument(
        "--kind",
        action="append",
        choices=KINDS,
        default=[],
        help="presets to apply (repeatable; default: recognised from the files)",
    )
    parser.add_argument(
        "--age-recipient",
        default="",
        metavar="AGE1...",
        help="use this age public key (its private key is yours: nothing is generated or stored)",
    )
    parser.add_argument(
        "--local-key",
        choices=("none", "keychain", "file"),
        default="none",
        help="keep your own copy: keychain (macOS security / Secret Service secret-tool; "
        "prints the SOPS_AGE_KEY_CMD that reads it) or file (sops' keys.txt, 0600)",
    )
    parser.add_argument(
        "--local-key-name",
        default="",
        metavar="ITEM",
        help="the keychain item (default <folder name>/<age key secret>)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="leave these files alone (repeatable)",
    )
    parser.add_argument(
        "--action-repo",
        default="org/homelab-secrets",
        metavar="OWNER/NAME",
        help="your copy of homelab-secrets, for the workflows and the hook",
    )
    parser.add_argument(
        "--action-ref", default="v1", metavar="REF", help="its release tag or commit SHA"
    )
    parser.add_argument(
        "--default-branch", default="", metavar="BRANCH", help="default: origin's, else this one"
    )
    parser.add_argument("--no-pre-commit", action="store_true", help="no pre-commit entry")
    parser.add_argument("--no-workflows", action="store_true", help="no caller workflows")
    parser.add_argument(
        "--dry-run", action="store_true", help="show every change (diffs, names) and make none"
    )
    _keystore.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from homelab_secrets.onboard import guard, plan
    from homelab_secrets.onboard.init import InitOptions
    from homelab_secrets.onboard.init import plan as make_plan

    provider = _keystore.provider_of(args, "none" if args.age_recipient else "doppler")
    options = InitOptions(
        root=Path(args.dir),
        kinds=tuple(dict.fromkeys(args.kind)),
        recipient=args.age_recipient,
        local_key=args.local_key,
        local_item=args.local_key_name,
        excludes=tuple(args.exclude),
        action=guard.ActionRef(args.action_repo, args.action_ref),
        branch=args.default_branch,
        pre_commit=not args.no_pre_commit,
        workflows=not args.no_workflows,
        ci=_keystore.ci_key(args, provider),
    )
    environ = dict(os.environ)
    with _keystore.open_store(args, environ, provider) as store:
        result = make_plan(options, store, environ, dry_run=args.dry_run)
        _header(result, args.dry_run)
        if args.dry_run:
            _show(result)
        elif result.steps:
            print("Changes:")
            plan.apply(result.steps, lambda title: print(f"  - {title}", flush=True))
        else:
            print("Nothing to change: this repository is set up.")
    _footer(result)
    return 0


def _header(result: Plan, dry_run: bool) -> None:
    from homelab_secrets.onboard.init import NEW_KEY

    new = dry_run and result.key_source.startswith("new")
    source = (
        result.key_source.replace("new, stored", "new, would be stored")
        if new
        else (result.key_source)
    )
    print(f"homelab-secrets init: {result.root} ({', '.join(result.kinds)})")
    print(f"age key: {NEW_KEY if new else result.recipient} ({source})")


def _show(result: Plan) -> None:
    if not result.steps:
        print("Nothing to change: this repository is set up.")
        return
    print("Changes (--dry-run: none made):")
    for step in result.steps:
        print(f"  - {step.title}")
        for line in step.diff.splitlines():
            print(f"      {line}")


def _footer(result: Plan) -> None:
    if result.skipped:
        print("Left alone:")
        for skipped in result.skipped:
            print(f"  - {skipped.path}: {skipped.why}")
    if result.manual:
        print("Left to do by hand:")
        for number, note in enumerate(result.manual, 1):
            print(f"  {number}. {note}")
    sys.stdout.flush()
