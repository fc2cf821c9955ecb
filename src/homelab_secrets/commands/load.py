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
    parser.add_argument(
        "--sops-file",
        action="append",
        default=[],
        metavar="FILE",
        help="a SOPS file (path or glob; repeatable) to decrypt with the provider's age key",
    )
    parser.add_argument(
        "--age-key-secret",
        default=_gather.AGE_KEY_SECRET,
        metavar="NAME",
        help="the provider's secret holding the age key (never exported itself)",
    )
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
    from homelab_secrets.secrets.fetched import split_names
    from homelab_secrets.secrets.job import JobOptions, plan_job

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
        _gather.Selection(
            tuple(split_names(args.only)), tuple(split_names(args.required)), args.name_transform
        ),
        args.sops_file,
        age_key_secret=args.age_key_secret,
        environ=os.environ,
        root=root,
        cache=_provider.fallback_cache(
            args.fallback_cache, os.environ.get("HOMELAB_SECRETS_CACHE_KEY", "")
        ),
    )
    options = JobOptions(
        output_dir=_job.resolve(args.output_dir, root)
        if args.output_dir
        else _job.default_output_dir(),
        manifest_dir=_job.manifest_dir(args.manifest_dir),
        format=args.format,
        terraform_dir=_job.resolve(args.terraform_dir, root),
        format_dir_given=_job.resolve(args.format_dir, root) if args.format_dir else None,
        export_env=args.export_env,
        name_prefix=args.name_prefix,
        env_file=_job.resolve(args.env_file, root) if args.env_file else None,
    )
    _job.run_local(plan_job(sources, options), options)
    return 0


def _run_gha(args: argparse.Namespace) -> int:
    from homelab_secrets.secrets.fetched import split_names
    from homelab_secrets.secrets.job import JobOptions, plan_job

    with gha.annotate_failures("homelab-secrets"):
        inputs = gha.read_inputs(LoadInputs)  # credentials masked first
        root = _job.workspace()
        environ = dict(os.environ)
        if environ.get("SOPS_AGE_KEY"):
            gha.mask("SOPS_AGE_KEY", environ["SOPS_AGE_KEY"])
        sources, _hidden = _gather.gather(  # masks every value as it arrives
            _provider.settings_from_inputs(inputs),
            _gather.Selection(
                tuple(split_names(inputs.secrets)),
                tuple(split_names(inputs.required)),
                inputs.name_transform,
            ),
            inputs.sops_files,
            age_key_secret=inputs.age_key_secret,
            environ=environ,
            root=root,
            cache=_provider.fallback_cache(inputs.fallback_cache_dir, inputs.fallback_cache_key),
        )
        options = JobOptions(
            output_dir=_job.resolve(inputs.output_dir, root)
            if inputs.output_dir
            else _job.default_output_dir(),
            manifest_dir=_job.manifest_dir(args.manifest_dir),
            format=inputs.format,
            terraform_dir=_job.resolve(inputs.terraform_dir or ".", root),
            format_dir_given=_job.resolve(inputs.format_dir, root) if inputs.format_dir else None,
            export_env=inputs.export_env,
            name_prefix=inputs.name_prefix,
        )
        job = plan_job(sources, options)
        _job.publish(job, options, title="load", sources=sources)
    return 0
