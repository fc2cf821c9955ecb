"""``homelab-secrets plan-seal``: seal a saved plan to a public key before it
is uploaded.

The sealed file holds the plan, the dependency lock file ``init`` left in
the working directory, and the metadata ``plan-open`` checks before an
apply: repository, commit, ref, working directory, tool, environment and the
configuration hash (:mod:`homelab_secrets.workflows.confighash`), plus the
plan's counts.  The public key is an age recipient (one or more) or a base64
X25519 key (libsodium sealed box); it is not a secret.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from homelab_secrets import gha
from homelab_secrets.commands import _workflow

NAME = "plan-seal"
HELP = "seal a saved plan (and its metadata) to a public key before it is uploaded"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plan", required=True, metavar="FILE", help="the saved plan (plan -out)")
    parser.add_argument("--out", required=True, metavar="FILE", help="where the sealed file goes")
    parser.add_argument(
        "--public-key-env",
        default="PLAN_PUBLIC_KEY",
        metavar="NAME",
        help="the environment variable holding the public key (default: PLAN_PUBLIC_KEY)",
    )
    parser.add_argument(
        "--plan-json", metavar="FILE", help="show -json of the plan (records its counts)"
    )
    parser.add_argument(
        "--lock-file",
        metavar="FILE",
        help="the dependency lock file to carry (default: .terraform.lock.hcl of the working "
        "directory, when there is one)",
    )
    _workflow.add_root_arguments(parser)
    parser.add_argument("--gha", action="store_true", help="set step outputs and a summary line")


def run(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone
    from pathlib import Path

    from homelab_secrets.errors import ExitCode, UserError
    from homelab_secrets.fsutil import write_atomic
    from homelab_secrets.workflows import bundle, tfplan

    with gha.annotate_failures("plan seal") if args.gha else contextlib.nullcontext():
        public_key = os.environ.get(args.public_key_env, "")
        if not public_key.strip():
            raise UserError(
                f"${args.public_key_env} is empty: give the public key plans are sealed to "
                "(plan-public-key; make one with `homelab-secrets plan-keygen`)",
                ExitCode.USAGE,
            )
        scheme = bundle.scheme_of_public_key(public_key)
        root = _workflow.workspace()
        plan = _workflow.read_bytes(args.plan, what="saved plan")
        files = {"plan": plan}
        lock = Path(args.lock_file) if args.lock_file else None
        if lock is None:
            lock = root / args.working_directory / ".terraform.lock.hcl"
            lock = lock if lock.is_file() else None
        if lock is not None:
            files["lock"] = _workflow.read_bytes(str(lock), what="lock file")
        changes: dict[str, int] = {}
        tool_version = ""
        if args.plan_json:
            digest = tfplan.digest(
                tfplan.load(
                    _workflow.read_bytes(args.plan_json, what="plan JSON"), where=args.plan_json
                )
            )
            changes = {"add": digest.add, "change": digest.change, "destroy": digest.destroy}
            tool_version = digest.tool_version
        metadata = bundle.PlanMetadata(
            tool=args.tool,
            working_directory=args.working_directory,
            commit=args.commit or _workflow.current_commit(root),
            config_hash=_workflow.config_hash_of(args, root),
            environment=args.environment,
            repository=args.repository or os.environ.get("GITHUB_REPOSITORY", ""),
            ref=os.environ.get("GITHUB_REF", ""),
            tool_version=tool_version,
            created_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            run_id=os.environ.get("GITHUB_RUN_ID", ""),
            changes=changes,
        )
        sealed = bundle.seal(bundle.pack(bundle.Bundle(metadata, files)), public_key)
        write_atomic(args.out, sealed, mode=0o600)
        if args.gha:
            gha.set_output("path", args.out, secret=False)
            gha.set_output("commit", metadata.commit, secret=False)
            gha.set_output("config-hash", metadata.config_hash, secret=False)
            gha.append_summary(
                f"Plan sealed ({scheme}) at commit `{metadata.commit[:12]}`, configuration "
                f"`{metadata.config_hash[:19]}...`: only the holder of `PLAN_PRIVATE_KEY` can "
                "open it.\n"
            )
    sys.stderr.write(
        f"sealed {args.plan} ({len(plan)} bytes{', with lock file' if 'lock' in files else ''}) "
        f"to {args.out} ({scheme})\n"
    )
    return 0
