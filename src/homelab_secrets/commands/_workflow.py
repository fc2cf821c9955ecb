"""What the reusable-workflow commands share (``plan-summary``, ``plan-seal``,
``plan-open``, ``pr-comment``, ``ansible-summary``): the run's context from
the environment the runner gives every step (commit, repository, run URL),
the flags that describe a Terraform root, and the redaction flags.

Workflow steps call these commands with flags (values reach the step through
``env:``); ``--gha`` adds step outputs and the job summary.  Secret values
never travel on a command line: keys are read from a named environment
variable.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from homelab_secrets.errors import ExitCode, UserError

if TYPE_CHECKING:
    from homelab_secrets.secrets.model import Mask

TOOLS = ("terraform", "tofu")


def workspace(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("GITHUB_WORKSPACE") or os.getcwd())


def run_url(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    server, repo, run_id = (
        env.get("GITHUB_SERVER_URL", ""),
        env.get("GITHUB_REPOSITORY", ""),
        env.get("GITHUB_RUN_ID", ""),
    )
    return f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else ""


def current_commit(root: Path, environ: Mapping[str, str] | None = None) -> str:
    """The commit checked out in ``root`` (git), else ``$GITHUB_SHA``."""
    env = os.environ if environ is None else environ
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--verify", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        proc = None
    if proc is not None and proc.returncode == 0 and proc.stdout.strip():
        return proc.stdout.strip()
    sha = env.get("GITHUB_SHA", "")
    if not sha:
        raise UserError(
            f"cannot tell which commit is checked out in {root} (no git repository, no "
            "$GITHUB_SHA); give --commit",
            ExitCode.USAGE,
        )
    return sha


def add_root_arguments(parser: argparse.ArgumentParser) -> None:
    """The Terraform root a plan belongs to (``plan-seal`` and ``plan-open``
    take the same ones: the configuration hash is made from them)."""
    parser.add_argument(
        "--working-directory",
        default=".",
        metavar="DIR",
        help="the Terraform root, relative to the workspace",
    )
    parser.add_argument("--tool", choices=TOOLS, default="terraform")
    parser.add_argument("--environment", default="", help="the deployment environment, if any")
    parser.add_argument(
        "--var-file",
        action="append",
        default=[],
        metavar="FILE",
        help="a -var-file the plan used (repeatable, or one per line; relative to the working "
        "directory)",
    )
    parser.add_argument(
        "--backend-config",
        action="append",
        default=[],
        metavar="ARG",
        help="a -backend-config argument the plan used (repeatable, or one per line)",
    )
    parser.add_argument("--commit", help="the commit (default: git HEAD of the workspace)")
    parser.add_argument("--repository", help="owner/name (default: $GITHUB_REPOSITORY)")


def items(values: list[str]) -> list[str]:
    """Repeated flags whose values may each hold several lines (a workflow
    passes a multi-line input as one argument): one item per non-blank line."""
    return [line.strip() for value in values for line in value.splitlines() if line.strip()]


def config_hash_of(args: argparse.Namespace, root: Path) -> str:
    from homelab_secrets.workflows.confighash import config_hash

    return config_hash(
        root,
        args.working_directory,
        tool=args.tool,
        environment=args.environment,
        var_files=items(args.var_file),
        backend_config=items(args.backend_config),
    )


def add_redaction_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--redact-env",
        action="append",
        default=[],
        metavar="NAME",
        help="replace the value of this environment variable with *** wherever it appears "
        "(repeatable)",
    )
    parser.add_argument(
        "--redact-env-json",
        default="",
        metavar="JSON",
        help="a JSON list of such names (the `names` output of a loading action)",
    )
    parser.add_argument(
        "--redact-file",
        action="append",
        default=[],
        metavar="FILE",
        help="replace every value of this JSON or YAML file (decrypted vars) with *** (repeatable)",
    )


def masks_from_args(args: argparse.Namespace, extra: set[str] | None = None) -> list[Mask]:
    from homelab_secrets.workflows.redaction import collect, names_from_json

    names = [*args.redact_env, *names_from_json(args.redact_env_json, what="--redact-env-json")]
    files = [Path(f) for f in items(args.redact_file)]
    return collect(env_names=names, files=files, strings=sorted(extra or ()))


def read_text(path: str, *, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(
            f"{what} {path}: cannot be read ({type(exc).__name__})",
            ExitCode.COULD_NOT_READ_INPUT_FILE,
            path=path,
        ) from None


def read_bytes(path: str, *, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UserError(
            f"{what} {path}: cannot be read ({exc.strerror or type(exc).__name__})",
            ExitCode.NO_FILE_SPECIFIED,
            path=path,
        ) from None
