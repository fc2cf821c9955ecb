"""``homelab-secrets cleanup``: remove every plaintext file this job wrote.

Composite actions have no post step, so ``sops-decrypt`` records each file it
writes (decrypted copies, tool-shaped files, the env file) in a manifest under
``$RUNNER_TEMP``, and keeps a copy of each file it decrypted in place.  This
command removes the former and restores the latter.  Run it last, with
``if: always()`` (``actions/sops-cleanup``).  Running it twice is harmless.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from homelab_secrets import gha

NAME = "cleanup"
HELP = "remove the decrypted files this job wrote and restore files decrypted in place"


@dataclass(frozen=True, kw_only=True)
class CleanupInputs:
    """actions/sops-cleanup takes no inputs."""


GHA_INPUTS = CleanupInputs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--manifest-dir",
        metavar="DIR",
        help="the record written by sops-decrypt (default: $RUNNER_TEMP/homelab-secrets-state)",
    )
    parser.add_argument(
        "--gha", action="store_true", help="run as actions/sops-cleanup (outputs and summary)"
    )


def run(args: argparse.Namespace) -> int:
    from homelab_secrets.errors import UserError
    from homelab_secrets.secrets.manifest import Manifest, cleanup, default_manifest_dir

    directory = Path(args.manifest_dir) if args.manifest_dir else default_manifest_dir(os.environ)
    with gha.annotate_failures("cleanup") if args.gha else contextlib.nullcontext():
        report = cleanup(Manifest(directory))
        if report.failed:
            raise UserError(
                f"cleanup could not remove {len(report.failed)} file(s): "
                + ", ".join(report.failed)
            )
        if args.gha:
            gha.set_output("removed", len(report.removed), secret=False)
            gha.set_output("restored", len(report.restored), secret=False)
            gha.append_summary(
                f"### homelab-secrets cleanup\n\nRemoved {len(report.removed)} decrypted "
                f"file(s), restored {len(report.restored)} file(s) decrypted in place.\n"
            )
    sys.stderr.write(
        f"removed {len(report.removed)} decrypted file(s), "
        f"restored {len(report.restored)} file(s) decrypted in place\n"
    )
    return 0
