"""The edge every job command shares: ``sops-decrypt``, ``fetch`` (and
``actions/fetch-secrets``), and the all-in-one action (``load``).

The core (:mod:`homelab_secrets.secrets.job`) decides what a job masks,
exports and writes; this module does it, the same way for every command:

* in Actions (``--gha``): masks every value first (:func:`mask`), then the
  writes, then ``$GITHUB_ENV``, the outputs ``paths`` and ``names``, and a
  summary that lists files and names only (:func:`publish`);
* locally: the writes, and an env file to source for ``--export-env``.

Also the shared flags and defaults: the workspace, the private output
folders under ``$RUNNER_TEMP``, the manifest folder.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from homelab_secrets import gha

if TYPE_CHECKING:
    from homelab_secrets.secrets.job import Job, JobOptions
    from homelab_secrets.secrets.model import Source


def workspace() -> Path:
    return Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd())


def default_output_dir() -> Path:
    """``$RUNNER_TEMP/homelab-secrets``, else a private folder under the temp dir."""
    runner_temp = os.environ.get("RUNNER_TEMP")
    if runner_temp:
        return Path(runner_temp) / "homelab-secrets"
    import tempfile

    return Path(tempfile.gettempdir()) / f"homelab-secrets-{os.getuid()}" / "decrypted"


def resolve(text: str, root: Path) -> Path:
    """A path from a flag or input: ``$VARS`` expanded, relative to ``root``."""
    path = Path(os.path.expandvars(text))
    return path if path.is_absolute() else root / path


def add_job_arguments(parser: argparse.ArgumentParser, *, tool_formats: Sequence[str]) -> None:
    """The flags of a job: env export, tool-shaped files, the manifest."""
    parser.add_argument(
        "--export-env",
        action="store_true",
        help="export every value as an environment variable (locally: into --env-file)",
    )
    parser.add_argument(
        "--env-file", metavar="PATH", help="dotenv file to source for --export-env (0600)"
    )
    parser.add_argument("--name-prefix", default="", help="prefix for exported names")
    parser.add_argument(
        "--format",
        choices=tool_formats,
        default="none",
        help="also write tool-shaped files: <name>.auto.tfvars.json in --terraform-dir, "
        "<name>.env, or <name>.vars.yml (Ansible -e @file) in --format-dir",
    )
    parser.add_argument(
        "--format-dir",
        metavar="DIR",
        help="where dotenv / ansible-vars files go, keeping relative folders "
        "(default: <output-dir>-formats)",
    )
    parser.add_argument(
        "--terraform-dir", default=".", metavar="DIR", help="Terraform root (format tfvars-json)"
    )
    parser.add_argument(
        "--manifest-dir",
        metavar="DIR",
        help="where the record of written files is kept for `cleanup` "
        "(default: $RUNNER_TEMP/homelab-secrets-state)",
    )


def job_options(
    root: Path,
    *,
    output_dir: str | None,
    manifest_dir: str | None,
    format: str = "none",
    terraform_dir: str = ".",
    format_dir: str | None = None,
    in_place: bool = False,
    export_env: bool = False,
    name_prefix: str = "",
    env_file: str | None = None,
    output_file: str | None = None,
    output_format: str = "json",
) -> JobOptions:
    """A job's options from flags or action inputs: paths resolved against
    the workspace, the defaults of :func:`default_output_dir` and the manifest."""
    from homelab_secrets.secrets.job import JobOptions

    return JobOptions(
        output_dir=resolve(output_dir, root) if output_dir else default_output_dir(),
        manifest_dir=manifest_folder(manifest_dir),
        in_place=in_place,
        format=format,
        terraform_dir=resolve(terraform_dir or ".", root),
        format_dir_given=resolve(format_dir, root) if format_dir else None,
        export_env=export_env,
        name_prefix=name_prefix,
        env_file=resolve(env_file, root) if env_file else None,
        output_file=resolve(output_file, root) if output_file else None,
        output_format=output_format,
    )


def manifest_folder(given: str | None) -> Path:
    from homelab_secrets.secrets.manifest import default_manifest_dir

    return Path(given) if given else default_manifest_dir(os.environ)


def mask(sources: Sequence[Source]) -> None:
    """Register every secret value of ``sources`` (Actions: before anything
    else prints; outside Actions this does nothing)."""
    if gha.running_in_actions():
        gha.mask_all(m for source in sources for m in source.masks)


def run_local(job: Job, options: JobOptions) -> None:
    """Write, then say (on stderr, paths and counts only) what was written."""
    from homelab_secrets.secrets.job import run_job

    run_job(job, options.manifest_dir)
    for written in job.written:
        sys.stderr.write(f"wrote {written}\n")
    if job.env and options.env_file is not None:
        sys.stderr.write(f"exported {len(job.env)} names to {options.env_file}\n")


def publish(job: Job, options: JobOptions, *, title: str, sources: Sequence[Source]) -> None:
    """In Actions, after :func:`mask`: write, export, set outputs, summarise."""
    from homelab_secrets.secrets.job import run_job

    run_job(job, options.manifest_dir)
    for name, value in job.env:
        gha.set_env(name, value, secret=False)  # masked already, with the sources
    gha.set_output("paths", job.written, secret=False)
    gha.set_output("names", job.names, secret=False)
    gha.append_summary(summary(job, options, title=title, sources=sources))


def summary(job: Job, options: JobOptions, *, title: str, sources: Sequence[Source]) -> str:
    """Files and names only, never values."""
    text = f"### homelab-secrets {title}\n\n"
    copied = dict(job.copies)
    rows = [
        [s.label, gha.workspace_path(copied[s.label]) if s.label in copied else "(values only)"]
        for s in sources
    ]
    text += gha.md_table(["source", "decrypted to"], rows)
    others = [p for p in job.written if p not in {str(Path(c)) for _, c in job.copies}]
    if others:
        text += "\nFiles written:\n\n" + gha.md_table(
            ["file"], [[gha.workspace_path(p)] for p in others]
        )
    if job.env:
        text += "\nExported to the environment (names only):\n\n" + gha.md_table(
            ["name", "from"], [[n, w] for n, w in job.origins]
        )
    if options.in_place:
        text += (
            "\nFiles were decrypted **in place**: run `homelab-secrets cleanup` "
            "(actions/sops-cleanup) before the job ends.\n"
        )
    return text
