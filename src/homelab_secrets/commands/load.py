"""``homelab-secrets load``: the all-in-one job — fetch a provider scope,
decrypt SOPS files with the age key it holds, mask, export, write.

The Python side of the root action (``uses: org/homelab-secrets@v1``, with
``--gha``) and the same job locally (``--env-file`` to source).  Sources:
:mod:`._gather`; what is masked, exported and written:
:mod:`homelab_secrets.secrets.job` through :mod:`._job`.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from homelab_secrets import gha
from homelab_secrets.commands import _gather, _job, _provider
from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.secrets.formats import FILE_FORMATS

NAME = "load"
HELP = "fetch from Doppler/Infisical and decrypt SOPS files with the age key it holds (for a job)"


@dataclass(frozen=True, kw_only=True)
class LoadInputs(_provider.ProviderInputs):
    """Inputs of the root action (see /action.yml)."""

    sops_files: tuple[str, ...] = gha.lines("sops-files")
    age_key_secret: str = gha.text("age-key-secret", default=_gather.AGE_KEY_SECRET)
    export_env: bool = gha.boolean("export-env", default=True)
    name_prefix: str = gha.text("name-prefix")
    output_dir: str = gha.text("output-dir")
    format: str = gha.choice("format", FILE_FORMATS, default="none")
    terraform_dir: str = gha.text("terraform-dir", default=".")
    format_dir: str = gha.text("format-dir")


GHA_INPUTS = LoadInputs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _provider.add_arguments(parser, allow_none=True)
    _provider.add_selection_arguments(parser)
    _gather.add_arguments(parser)
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        help="where decrypted copies go (default: $RUNNER_TEMP/homelab-secrets)",
    )
    _job.add_job_arguments(parser, tool_formats=FILE_FORMATS)
    parser.add_argument(
        "--gha", action="store_true", help="run as the all-in-one action (INPUT_* in)"
    )


def run(args: argparse.Namespace) -> int:
    from homelab_secrets.secrets.job import plan_job

    if args.gha:
        return _run_gha(args)
    if args.export_env and not args.env_file:
        raise UserError(
            "--export-env outside GitHub Actions needs --env-file PATH (a dotenv file to source)",
            ExitCode.USAGE,
        )
    root = _job.workspace()
    settings = None if args.provider == "none" else _provider.settings_from_args(args)
    sources, _hidden = _gather.gather(
        settings,
        _gather.Selection.of(args.only, args.required, args.name_transform),
        args.sops_file,
        age_key_secret=args.age_key_secret,
        environ=os.environ,
        root=root,
        cache=_provider.cache_from_args(args, os.environ),
    )
    options = _job.job_options(
        root,
        output_dir=args.output_dir,
        manifest_dir=args.manifest_dir,
        format=args.format,
        terraform_dir=args.terraform_dir,
        format_dir=args.format_dir,
        export_env=args.export_env,
        name_prefix=args.name_prefix,
        env_file=args.env_file,
    )
    _job.run_local(plan_job(sources, options), options)
    return 0


def _run_gha(args: argparse.Namespace) -> int:
    from homelab_secrets.secrets.job import plan_job

    with gha.annotate_failures("homelab-secrets"):
        inputs = gha.read_inputs(LoadInputs)  # credentials masked first
        root = _job.workspace()
        environ = dict(os.environ)
        if environ.get("SOPS_AGE_KEY"):
            gha.mask("SOPS_AGE_KEY", environ["SOPS_AGE_KEY"])
        sources, _hidden = _gather.gather(  # masks every value as it arrives
            _provider.settings_from_inputs(inputs),
            _gather.Selection.of(inputs.secrets, inputs.required, inputs.name_transform),
            inputs.sops_files,
            age_key_secret=inputs.age_key_secret,
            environ=environ,
            root=root,
            cache=_provider.fallback_cache(inputs.fallback_cache_dir, inputs.fallback_cache_key),
        )
        options = _job.job_options(
            root,
            output_dir=inputs.output_dir,
            manifest_dir=args.manifest_dir,
            format=inputs.format,
            terraform_dir=inputs.terraform_dir,
            format_dir=inputs.format_dir,
            export_env=inputs.export_env,
            name_prefix=inputs.name_prefix,
        )
        job = plan_job(sources, options)
        _job.publish(job, options, title="load", sources=sources)
    return 0
