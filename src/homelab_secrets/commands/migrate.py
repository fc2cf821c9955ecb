"""``homelab-secrets migrate --from doppler --to infisical``: every secret of
one or more Doppler configs into Infisical folders
(:mod:`homelab_secrets.migrate`).

Two providers at once: the flags are prefixed by side (``--doppler-*``,
``--infisical-*``) or come from a mapping file (``--mapping``); credentials
come from the environment as for ``fetch`` (``DOPPLER_TOKEN``, or a
mapping's ``token-env``, else locally your Doppler CLI login;
``INFISICAL_TOKEN`` or ``INFISICAL_CLIENT_ID`` + ``INFISICAL_CLIENT_SECRET``),
and each side is opened through :func:`._provider.open_provider`, one pair
per mapping.  ``--dry-run`` is a names-only diff; exit 0 when every mapping
is migrated and verified, 1 otherwise (run it again: it finishes).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from homelab_secrets import gha
from homelab_secrets.commands import _provider
from homelab_secrets.errors import ExitCode, UserError

if TYPE_CHECKING:
    from homelab_secrets.migrate.mapping import Mapping as Route
    from homelab_secrets.providers.base import Provider, WritableProvider

NAME = "migrate"
HELP = "copy Doppler configs into Infisical: idempotent, verified by fingerprints, never deletes"
_SOURCE_FLAGS = ("project", "config", "api-host", "token-env")
_TARGET_FLAGS = ("api-url", "project-id", "project-slug", "environment", "path")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="source", choices=("doppler",), required=True)
    parser.add_argument("--to", dest="target", choices=("infisical",), required=True)
    parser.add_argument(
        "--mapping",
        metavar="FILE",
        help="which configs go where (YAML: from/to defaults, mappings: [{from, to}])",
    )
    doppler = parser.add_argument_group("Doppler (the source; read only)")
    for flag in _SOURCE_FLAGS:
        doppler.add_argument(f"--doppler-{flag}", default="", metavar=flag.upper())
    infisical = parser.add_argument_group("Infisical (the target)")
    for flag in _TARGET_FLAGS:
        infisical.add_argument(f"--infisical-{flag}", default="", metavar=flag.upper())
    parser.add_argument("--ca-bundle", default="", help="PEM file of the CA to trust (both sides)")
    parser.add_argument(
        "--attempts", type=int, default=5, metavar="N", help="tries per request (429/5xx)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=100,
        metavar="N",
        help="secrets per write request (1-500; default 100)",
    )
    parser.add_argument(
        "--accept-trimmed",
        action="store_true",
        help="also migrate values Infisical stores without their surrounding whitespace",
    )
    parser.add_argument("--dry-run", action="store_true", help="names-only diff; write nothing")
    parser.add_argument("--json", action="store_true", help="the report as JSON")


def _flags(args: argparse.Namespace, prefix: str, names: tuple[str, ...]) -> dict[str, str]:
    return {name: getattr(args, f"{prefix}_{name.replace('-', '_')}") for name in names}


def run(args: argparse.Namespace) -> int:
    from homelab_secrets.migrate import mapping, report
    from homelab_secrets.migrate.runner import Migration

    if not 1 <= args.batch_size <= 500:
        raise UserError("--batch-size must be between 1 and 500", ExitCode.USAGE)
    source = _flags(args, "doppler", _SOURCE_FLAGS)
    target = _flags(args, "infisical", _TARGET_FLAGS)
    if args.mapping:
        routes = mapping.load(args.mapping, source, target)
    else:
        routes = mapping.from_flags(source, target)
    environ = dict(os.environ)

    def say(line: str) -> None:
        sys.stderr.write(f"homelab-secrets: {line}\n")

    migration = Migration(
        open_source=lambda route: _open(_source_settings(args, route, environ), environ),
        open_target=lambda route: _open_writable(_target_settings(args, route), environ),
        key=_fingerprint_key(environ),
        dry_run=args.dry_run,
        accept_trimmed=args.accept_trimmed,
        batch_size=args.batch_size,
        say=say,
    )
    outcomes = migration.run(routes)
    render = report.as_json if args.json else report.text
    sys.stdout.write(render(outcomes, dry_run=args.dry_run, accept_trimmed=args.accept_trimmed))
    sys.stdout.flush()
    if args.dry_run:
        return 0 if all(o.ok for o in outcomes) else ExitCode.ERROR
    return 0 if report.complete(outcomes, args.accept_trimmed) else ExitCode.ERROR


def _fingerprint_key(environ: Mapping[str, str]) -> bytes:
    """``HOMELAB_SECRETS_FINGERPRINT_KEY`` (fingerprints comparable across
    runs), else a random key for this run."""
    configured = environ.get("HOMELAB_SECRETS_FINGERPRINT_KEY", "")
    return configured.encode() if configured else os.urandom(32)


def _source_settings(
    args: argparse.Namespace, route: Route, environ: Mapping[str, str]
) -> _provider.ProviderSettings:
    s = route.source
    token = ""
    if s.token_env:
        token = environ.get(s.token_env, "")
        if not token:
            raise UserError(
                f"{route.label}: the environment variable {s.token_env} (token-env) is not set",
                ExitCode.USAGE,
            )
    return _provider.ProviderSettings(
        provider="doppler",
        api_host=s.api_host,
        ca_bundle=args.ca_bundle,
        project=s.project,
        config=s.config,
        doppler_token=token,
        attempts=args.attempts,
    )


def _target_settings(args: argparse.Namespace, route: Route) -> _provider.ProviderSettings:
    t = route.target
    return _provider.ProviderSettings(
        provider="infisical",
        api_host=t.api_url,
        ca_bundle=args.ca_bundle,
        project_id=t.project_id,
        project_slug=t.project_slug,
        environment=t.environment,
        path=t.path or "/",
        recursive=False,
        include_imports=False,  # the folder's own secrets: what a write changes
        expand_references=False,
        attempts=args.attempts,
    )


@contextlib.contextmanager
def _open_writable(
    settings: _provider.ProviderSettings, environ: Mapping[str, str]
) -> Iterator[WritableProvider]:
    with _open(settings, environ) as provider:
        yield _provider.writable(provider)


@contextlib.contextmanager
def _open(settings: _provider.ProviderSettings, environ: Mapping[str, str]) -> Iterator[Provider]:
    opened = _provider.open_provider(settings, environ)
    try:
        if gha.running_in_actions(environ):
            gha.mask_all(opened.masks)
        _provider.say(opened.notes)
        if opened.provider is None:  # pragma: no cover - open_provider sets it
            raise RuntimeError("the provider was not opened")
        yield opened.provider
    finally:
        opened.close()
