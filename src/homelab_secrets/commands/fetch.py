"""``homelab-secrets fetch``: the secrets of one provider scope, as a file.

Locally: ``--format json|dotenv|env|tfvars-json|yaml`` to stdout or
``--output FILE`` (0600, written atomically).  With ``--gha`` it is
``actions/fetch-secrets``: every value masked first, then exported to later
steps (``export-env``) and/or written as ``output-file`` (recorded for
``actions/sops-cleanup``), names only in the summary.  Provider flags and
credentials: :mod:`._provider`.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

from homelab_secrets import gha
from homelab_secrets.commands import _gather, _job, _provider, _sops
from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.secrets.formats import FETCH_FORMATS

NAME = "fetch"
HELP = "fetch the secrets of a Doppler config or an Infisical environment (json, dotenv, ...)"


@dataclass(frozen=True, kw_only=True)
class FetchInputs(_provider.ProviderInputs):
    """Inputs of actions/fetch-secrets (see its action.yml)."""

    export_env: bool = gha.boolean("export-env", default=False)
    name_prefix: str = gha.text("name-prefix")
    format: str = gha.choice("format", FETCH_FORMATS, default="dotenv")
    output_file: str = gha.text("output-file")


GHA_INPUTS = FetchInputs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _provider.add_arguments(parser)
    _provider.add_selection_arguments(parser)
    parser.add_argument("--format", choices=FETCH_FORMATS, default="json")
    parser.add_argument(
        "--output", metavar="FILE", help="write here (0600, atomically) instead of stdout"
    )
    parser.add_argument(
        "--manifest-dir", metavar="DIR", help="the cleanup record (--gha; see sops-decrypt)"
    )
    parser.add_argument(
        "--gha", action="store_true", help="run as actions/fetch-secrets (INPUT_* in)"
    )


def run(args: argparse.Namespace) -> int:
    from homelab_secrets.secrets.formats import render

    if args.gha:
        return _run_gha(args)
    (source,), _hidden = _gather.gather(
        _provider.settings_from_args(args),
        _gather.Selection.of(args.only, args.required, args.name_transform),
        age_key_secret=None,
        environ=os.environ,
        root=_job.workspace(),
        cache=_provider.cache_from_args(args, os.environ),
    )
    # stdout or --output (0600, atomic, through a symlink), as decrypt writes plaintext
    _sops.emit(render(args.format, [source]), output=args.output, in_place_path=None, private=True)
    if args.output:
        sys.stderr.write(f"wrote {len(source.entries)} secrets to {args.output}\n")
    return 0


def _run_gha(args: argparse.Namespace) -> int:
    from homelab_secrets.secrets.job import plan_job

    with gha.annotate_failures("fetch-secrets"):
        inputs = gha.read_inputs(FetchInputs)  # tokens masked first
        if not inputs.export_env and not inputs.output_file:
            raise UserError(
                "fetch-secrets has nothing to do: set export-env: true and/or output-file",
                ExitCode.USAGE,
            )
        sources, _hidden = _gather.gather(  # masks every value, before anything can print
            _provider.settings_from_inputs(inputs),
            _gather.Selection.of(inputs.secrets, inputs.required, inputs.name_transform),
            age_key_secret=None,
            environ=os.environ,
            root=_job.workspace(),
            cache=_provider.fallback_cache(inputs.fallback_cache_dir, inputs.fallback_cache_key),
        )
        options = _job.job_options(
            _job.workspace(),
            output_dir=None,
            manifest_dir=args.manifest_dir,
            export_env=inputs.export_env,
            name_prefix=inputs.name_prefix,
            output_file=inputs.output_file,
            output_format=inputs.format,
        )
        job = plan_job(sources, options)
        _job.publish(job, options, title="fetch-secrets", sources=sources)
    return 0
