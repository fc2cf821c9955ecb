"""``homelab-secrets sync``: copy secrets from Doppler (or Infisical) into
GitHub Actions secrets, writing only what changed, never losing one.

The Python side of ``actions/sync-secrets`` (with ``--gha``).  What it reads:

* ``--config sync.yaml`` (:mod:`homelab_secrets.sync.config` documents it);
* the source's credentials as ``homelab-secrets fetch`` reads them
  (``DOPPLER_TOKEN``; ``api-host`` in the ``source`` block, else
  ``DOPPLER_API_HOST``);
* ``GITHUB_TOKEN``: a GitHub App installation token or a fine-grained token
  that may write secrets and variables (not the workflow's own token: it
  cannot); ``--github-api-url`` / ``GITHUB_API_URL`` for GHES (and tests);
* ``HOMELAB_SECRETS_SYNC_KEY``: the key of the value fingerprints kept in the
  state (at least 32 characters; the same on every run).

Exit codes: 0 when every write succeeded (for ``--dry-run``: the plan is
valid; nothing is written), 1 otherwise (each failed name is reported), 2 for
a bad command line, input or sync.yaml.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from homelab_secrets import gha
from homelab_secrets.errors import ExitCode, UserError

if TYPE_CHECKING:
    from homelab_secrets.commands._provider import ProviderSettings
    from homelab_secrets.sync.config import SourceConfig, SyncConfig
    from homelab_secrets.sync.runner import SyncReport

NAME = "sync"
HELP = "sync secrets from Doppler/Infisical into GitHub Actions secrets (only what changed)"

KEY_ENV = "HOMELAB_SECRETS_SYNC_KEY"
MIN_KEY_CHARS = 32


@dataclass(frozen=True, kw_only=True)
class SyncInputs:
    """Inputs of actions/sync-secrets (see its action.yml)."""

    config: str = gha.text("config", default="sync.yaml")
    dry_run: bool = gha.boolean("dry-run", default=False)
    targets: tuple[str, ...] = gha.lines("targets")
    github_token: str = gha.text("github-token", required=True, secret=True)
    sync_key: str = gha.text("sync-key", required=True, secret=True)
    doppler_token: str = gha.text("doppler-token", secret=True)
    github_api_url: str = gha.text("github-api-url")


GHA_INPUTS = SyncInputs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        default="sync.yaml",
        metavar="PATH",
        help="the sync file: source, targets, prune, limits (default: sync.yaml)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be added/updated/deleted (names only) and write nothing",
    )
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NAME",
        help="only this target (repeatable), e.g. repo:owner/name or a target's name:",
    )
    parser.add_argument(
        "--github-api-url",
        default="",
        metavar="URL",
        help="GitHub's API (default: $GITHUB_API_URL, else https://api.github.com); "
        "GHES: https://HOST/api/v3",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--gha", action="store_true", help="run as actions/sync-secrets (INPUT_* in, outputs out)"
    )


def sync_key(value: str) -> bytes:
    if not value:
        raise UserError(
            f"{KEY_ENV} is not set: the sync needs its own key to fingerprint values (at least "
            f"{MIN_KEY_CHARS} characters, e.g. `openssl rand -base64 32`), kept as a secret "
            "and the same on every run",
            ExitCode.USAGE,
        )
    if len(value) < MIN_KEY_CHARS:
        raise UserError(
            f"{KEY_ENV} is {len(value)} characters: use at least {MIN_KEY_CHARS} (e.g. "
            "`openssl rand -base64 32`); a short key makes the fingerprints guessable",
            ExitCode.USAGE,
        )
    return value.encode("utf-8")


def github_token(value: str) -> str:
    if not value:
        raise UserError(
            "GITHUB_TOKEN is not set: give a GitHub App installation token or a fine-grained "
            "token with 'Secrets: Read and write' and 'Variables: Read and write' (the "
            "workflow's own GITHUB_TOKEN cannot write secrets)",
            ExitCode.USAGE,
        )
    return value


def provider_settings(source: SourceConfig, doppler_token: str = "") -> ProviderSettings:
    from homelab_secrets.commands._provider import ProviderSettings

    return ProviderSettings(
        provider=source.provider,
        api_host=source.api_host,
        project=source.project,
        config=source.config,
        project_id=source.project_id,
        project_slug=source.project_slug,
        environment=source.environment,
        path=source.path,
        recursive=source.recursive,
        doppler_token=doppler_token,
    )


def sync_job(
    config: SyncConfig,
    settings: ProviderSettings,
    *,
    key: bytes,
    token: str,
    api_url: str,
    targets: tuple[str, ...] = (),
    dry_run: bool = False,
    in_actions: bool = False,
) -> SyncReport:
    """Fetch the source once, then run the sync (names only ever printed)."""
    from homelab_secrets.commands._provider import open_provider, say
    from homelab_secrets.providers.http import check_base_url
    from homelab_secrets.secrets.model import Mask
    from homelab_secrets.sync.github import TargetClient, connect
    from homelab_secrets.sync.ratelimit import Throttle
    from homelab_secrets.sync.report import Progress
    from homelab_secrets.sync.runner import Sync, select_targets

    url = check_base_url(api_url, what="--github-api-url")
    select_targets(config, targets)  # a wrong --target fails before any request
    opened = open_provider(settings, os.environ)
    try:
        if in_actions:
            gha.mask_all(opened.masks)
        fetched = opened.fetch()
        if in_actions:
            gha.mask_all(Mask(f"{fetched.source}:{n}", v) for n, v in fetched.values.items())
        say(opened.notes)
    finally:
        opened.close()
    limits = config.limits
    throttle = Throttle(writes_per_minute=limits.writes_per_minute, max_writes=limits.max_writes)
    progress = Progress(enabled=None if not in_actions else False)
    sync = Sync(
        config,
        values=fetched.values,
        source=fetched.source,
        key=key,
        clients=lambda target: TargetClient(connect(url, token), target, throttle, token),
        progress=progress,
    )
    try:
        return sync.run(targets, dry_run=dry_run)
    finally:
        sync.close()
        progress.close()


def report_json(report: SyncReport) -> dict[str, object]:
    """Names, counts and outcomes per target (never a value)."""
    out: dict[str, object] = {}
    for run in report.runs:
        plan = run.plan
        out[run.target.name] = {
            "add": [c.name for c in plan.by_action("add")] if plan else [],
            "update": [c.name for c in plan.by_action("update")] if plan else [],
            "delete": [c.name for c in plan.deletes] if plan else [],
            "unchanged": list(plan.unchanged) if plan else [],
            "failed": sorted(run.failed),
            "postponed": run.postponed,
            "error": run.error or run.state_error,
        }
    return out


def _failures(report: SyncReport) -> list[str]:
    lines = [str(p) for p in report.problems]
    for run in report.runs:
        lines += [f"{run.target.name}: {name}: {why}" for name, why in sorted(run.failed.items())]
        if run.state_error:
            lines.append(f"{run.target.name}: state: {run.state_error}")
    return lines


def _publish(report: SyncReport, *, in_actions: bool, as_json: bool) -> int:
    from homelab_secrets.sync.report import render_text, summary_markdown

    if as_json:
        sys.stdout.write(json.dumps(report_json(report), indent=2) + "\n")
    else:
        sys.stdout.write(render_text(report))
    sys.stdout.flush()
    failures = _failures(report)
    for line in failures:
        sys.stderr.write(f"homelab-secrets: error: {line}\n")
    if report.problems:
        sys.stderr.write(
            f"homelab-secrets: error: {len(report.problems)} problem(s) found before writing: "
            "nothing was written to any target\n"
        )
    if in_actions:
        for line in failures:
            gha.error(line, title="homelab-secrets sync")
        gha.append_summary(summary_markdown(report, gha.md_table))
        gha.set_output("targets", [run.target.name for run in report.runs], secret=False)
        gha.set_output("plan", report_json(report), secret=False)
        failed = [f"{r.target.name}: {n}" for r in report.runs for n in sorted(r.failed)]
        gha.set_output("failed", failed, secret=False)
    return report.exit_code


def run(args: argparse.Namespace) -> int:
    from homelab_secrets.sync.config import load_config
    from homelab_secrets.sync.github import DEFAULT_API_URL

    env = os.environ
    if args.gha:
        with gha.annotate_failures("homelab-secrets sync"):
            inputs = gha.read_inputs(SyncInputs)
            key = sync_key(inputs.sync_key)
            token = github_token(inputs.github_token)
            config = load_config(inputs.config)
            report = sync_job(
                config,
                provider_settings(config.source, inputs.doppler_token),
                key=key,
                token=token,
                api_url=inputs.github_api_url or env.get("GITHUB_API_URL") or DEFAULT_API_URL,
                targets=inputs.targets,
                dry_run=inputs.dry_run,
                in_actions=True,
            )
            return _publish(report, in_actions=True, as_json=False)
    config = load_config(args.config)
    report = sync_job(
        config,
        provider_settings(config.source),
        key=sync_key(env.get(KEY_ENV, "")),
        token=github_token(env.get("GITHUB_TOKEN", "")),
        api_url=args.github_api_url or env.get("GITHUB_API_URL") or DEFAULT_API_URL,
        targets=tuple(args.target),
        dry_run=args.dry_run,
    )
    return _publish(report, in_actions=False, as_json=args.json)
