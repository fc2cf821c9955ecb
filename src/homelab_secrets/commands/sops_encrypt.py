"""``homelab-secrets sops-encrypt``: encrypt a set of files for a CI job.

The Python side of ``actions/sops-encrypt`` (with ``--gha``), for workflows
that produce secrets (rotated credentials, generated keys).  Every file is
encrypted in memory first; a failure in any file writes nothing, so plaintext
is never left half-replaced in the workspace.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from homelab_secrets import gha
from homelab_secrets.commands import _job
from homelab_secrets.errors import ExitCode, UserError

NAME = "sops-encrypt"
HELP = "encrypt files (paths/globs) for age recipients or per .sops.yaml, for a CI job"


@dataclass(frozen=True, kw_only=True)
class SopsEncryptInputs:
    """Inputs of actions/sops-encrypt (see its action.yml)."""

    files: tuple[str, ...] = gha.lines("files", required=True)
    age_recipients: tuple[str, ...] = gha.lines("age-recipients")
    in_place: bool = gha.boolean("in-place", default=False)
    output_dir: str = gha.text("output-dir")


GHA_INPUTS = SopsEncryptInputs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE", help="paths or globs (** recursive)")
    parser.add_argument(
        "--age",
        metavar="RECIPIENTS",
        help="comma-separated age recipients (default: each file's .sops.yaml creation rule)",
    )
    parser.add_argument(
        "--in-place", action="store_true", help="replace each file with its encryption"
    )
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        help="where encrypted copies go, keeping relative paths "
        "(default: $RUNNER_TEMP/homelab-secrets-encrypted)",
    )
    parser.add_argument(
        "--manifest-dir", metavar="DIR", help="the cleanup record (see sops-decrypt)"
    )
    parser.add_argument(
        "--gha", action="store_true", help="run as actions/sops-encrypt (INPUT_* in, outputs out)"
    )


def _default_output_dir() -> Path:
    runner_temp = os.environ.get("RUNNER_TEMP")
    if runner_temp:
        return Path(runner_temp) / "homelab-secrets-encrypted"
    return _job.workspace() / "encrypted"


def encrypt_job(
    files: tuple[str, ...],
    recipients: list[str],
    *,
    in_place: bool,
    output_dir: Path,
    manifest_dir: Path,
    root: Path,
) -> list[tuple[str, str]]:
    """Encrypt everything in memory, then write; returns (source, written) pairs."""
    from homelab_secrets.fsutil import write_atomic
    from homelab_secrets.secrets import sopsfiles
    from homelab_secrets.secrets.manifest import Manifest, forget_in_place

    targets = sopsfiles.resolve_files(files, root)
    sealed = sopsfiles.encrypt_files(
        targets,
        recipients,
        sopsfiles.find_workspace_config(root),
        manifest=Manifest(manifest_dir),  # files decrypted in place keep their data key
        environ=os.environ,
    )
    written: list[tuple[str, str]] = []
    for item in sealed:
        dest = item.target.path if in_place else output_dir / item.target.rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(str(dest), item.data, mode=None)
        written.append((item.target.rel, str(dest)))
    if in_place:
        forget_in_place(Manifest(manifest_dir), [item.target.path for item in sealed])
    return written


def _recipients(values: tuple[str, ...] | list[str]) -> list[str]:
    return [r.strip() for v in values for r in v.split(",") if r.strip()]


def run(args: argparse.Namespace) -> int:
    from homelab_secrets.secrets.manifest import default_manifest_dir

    manifest_dir = (
        Path(args.manifest_dir) if args.manifest_dir else default_manifest_dir(os.environ)
    )
    root = _job.workspace()
    if args.gha:
        with gha.annotate_failures("sops-encrypt"):
            inputs = gha.read_inputs(SopsEncryptInputs)
            output_dir = Path(inputs.output_dir) if inputs.output_dir else _default_output_dir()
            if not output_dir.is_absolute():
                output_dir = root / output_dir
            written = encrypt_job(
                inputs.files,
                _recipients(inputs.age_recipients),
                in_place=inputs.in_place,
                output_dir=output_dir,
                manifest_dir=manifest_dir,
                root=root,
            )
            gha.set_output("paths", [dest for _, dest in written], secret=False)
            rows = [[src, gha.workspace_path(dest)] for src, dest in written]
            gha.append_summary(
                "### homelab-secrets sops-encrypt\n\n"
                + gha.md_table(["file", "encrypted to"], rows)
            )
        return 0
    if not args.files:
        raise UserError("give at least one FILE (path or glob)", ExitCode.USAGE)
    output_dir = Path(args.output_dir) if args.output_dir else _default_output_dir()
    written = encrypt_job(
        tuple(args.files),
        _recipients([args.age] if args.age else []),
        in_place=args.in_place,
        output_dir=output_dir if output_dir.is_absolute() else root / output_dir,
        manifest_dir=manifest_dir,
        root=root,
    )
    for _, dest in written:
        sys.stderr.write(f"wrote {dest}\n")
    return 0
