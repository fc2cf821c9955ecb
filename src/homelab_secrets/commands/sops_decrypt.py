"""``homelab-secrets sops-decrypt``: decrypt a set of SOPS files for a job.

The Python side of ``actions/sops-decrypt`` (with ``--gha``) and the same job
run locally.  Decrypted copies go to an output folder (or replace the files in
place), every value is masked before anything prints, values can be exported
as environment variables and written as tool-shaped files, and everything
written is recorded for ``homelab-secrets cleanup``.  The job itself is
:mod:`homelab_secrets.secrets.job`; the edge :mod:`._job`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from homelab_secrets import gha
from homelab_secrets.commands import _job
from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.secrets.formats import FILE_FORMATS

if TYPE_CHECKING:
    from homelab_secrets.secrets.job import Job, JobOptions
    from homelab_secrets.secrets.model import Source

NAME = "sops-decrypt"
HELP = "decrypt SOPS files (paths/globs) into a private folder or in place, for a CI job"


@dataclass(frozen=True, kw_only=True)
class SopsDecryptInputs:
    """Inputs of actions/sops-decrypt (see its action.yml)."""

    files: tuple[str, ...] = gha.lines("files", required=True)
    age_key: str = gha.text("age-key", secret=True, strip=False)
    output_dir: str = gha.text("output-dir")
    in_place: bool = gha.boolean("in-place", default=False)
    export_env: bool = gha.boolean("export-env", default=False)
    name_prefix: str = gha.text("name-prefix")
    format: str = gha.choice("format", FILE_FORMATS, default="none")
    terraform_dir: str = gha.text("terraform-dir", default=".")
    format_dir: str = gha.text("format-dir")


GHA_INPUTS = SopsDecryptInputs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE", help="paths or globs (** recursive)")
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        help="where decrypted copies go, keeping relative paths "
        "(default: $RUNNER_TEMP/homelab-secrets, else a private temp folder)",
    )
    parser.add_argument(
        "--in-place", action="store_true", help="decrypt the files in place instead"
    )
    _job.add_job_arguments(parser, tool_formats=FILE_FORMATS)
    parser.add_argument(
        "--gha",
        action="store_true",
        help="run as actions/sops-decrypt: read INPUT_*, write masks, env, outputs, summary",
    )


def decrypt(files: tuple[str, ...], environ: Mapping[str, str], root: Path) -> list[Source]:
    """The files' sources, decrypted in memory with the workspace's .sops.yaml."""
    from homelab_secrets.secrets import sopsfiles

    targets = sopsfiles.resolve_files(files, root)
    config = sopsfiles.find_workspace_config(root)
    return sopsfiles.decrypt_sources(targets, environ, config)


def decrypt_job(
    files: tuple[str, ...], options: JobOptions, environ: Mapping[str, str], root: Path
) -> tuple[list[Source], Job]:
    """Decrypt, mask (in Actions), plan: what the job will write and export."""
    from homelab_secrets.secrets.job import plan_job

    sources = decrypt(files, environ, root)
    _job.mask(sources)  # before anything else can print
    return sources, plan_job(sources, options)


def run(args: argparse.Namespace) -> int:
    if args.gha:
        return _run_gha(args)
    if not args.files:
        raise UserError("give at least one FILE (path or glob)", ExitCode.USAGE)
    if args.export_env and not args.env_file:
        raise UserError(
            "--export-env outside GitHub Actions needs --env-file PATH (a dotenv file to source)",
            ExitCode.USAGE,
        )
    root = _job.workspace()
    options = _job.job_options(
        root,
        output_dir=args.output_dir,
        manifest_dir=args.manifest_dir,
        in_place=args.in_place,
        format=args.format,
        terraform_dir=args.terraform_dir,
        format_dir=args.format_dir,
        export_env=args.export_env,
        name_prefix=args.name_prefix,
        env_file=args.env_file,
    )
    _sources, job = decrypt_job(tuple(args.files), options, os.environ, root)
    _job.run_local(job, options)
    return 0


def _run_gha(args: argparse.Namespace) -> int:
    with gha.annotate_failures("sops-decrypt"):
        inputs = gha.read_inputs(SopsDecryptInputs)  # masks age-key first, line by line
        environ = dict(os.environ)
        if environ.get("SOPS_AGE_KEY"):
            gha.mask("SOPS_AGE_KEY", environ["SOPS_AGE_KEY"])
        if inputs.age_key.strip():
            environ["SOPS_AGE_KEY"] = inputs.age_key
        root = _job.workspace()
        options = _job.job_options(
            root,
            output_dir=inputs.output_dir,
            manifest_dir=args.manifest_dir,
            in_place=inputs.in_place,
            format=inputs.format,
            terraform_dir=inputs.terraform_dir,
            format_dir=inputs.format_dir,
            export_env=inputs.export_env,
            name_prefix=inputs.name_prefix,
        )
        sources, job = decrypt_job(inputs.files, options, environ, root)
        _job.publish(job, options, title="sops-decrypt", sources=sources)
    return 0
