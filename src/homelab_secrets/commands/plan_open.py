"""``homelab-secrets plan-open``: open a sealed plan for apply, only if it is
the plan to apply here.

Decrypts with the private key (read from an environment variable, masked
first), then refuses the plan unless it was made in this repository at this
commit, for this working directory, tool and environment, from the same
configuration (:mod:`homelab_secrets.workflows.plancheck`); only then writes
the plan file (0600) and the lock file it was made with, so ``apply
PLANFILE`` applies exactly it.  Run it before ``init``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from homelab_secrets import gha
from homelab_secrets.commands import _workflow

NAME = "plan-open"
HELP = "open a sealed plan with the private key, refusing it unless commit and configuration match"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sealed", required=True, metavar="FILE", help="the sealed plan")
    parser.add_argument(
        "--out", required=True, metavar="FILE", help="where the opened plan goes (0600)"
    )
    parser.add_argument(
        "--private-key-env",
        default="PLAN_PRIVATE_KEY",
        metavar="NAME",
        help="the environment variable holding the private key (default: PLAN_PRIVATE_KEY)",
    )
    parser.add_argument(
        "--no-lock-file",
        action="store_true",
        help="do not write the dependency lock file the plan was made with",
    )
    _workflow.add_root_arguments(parser)
    parser.add_argument("--gha", action="store_true", help="set step outputs and a summary")


def run(args: argparse.Namespace) -> int:
    from homelab_secrets.fsutil import write_atomic
    from homelab_secrets.workflows import bundle, plancheck

    with gha.annotate_failures("plan open") if args.gha else contextlib.nullcontext():
        private_key = os.environ.get(args.private_key_env, "")
        if args.gha and private_key:
            gha.mask_all(
                gha.Secret(args.private_key_env, line.strip())
                for line in private_key.splitlines()
                if line.strip() and not line.strip().startswith("#")
            )
        sealed = _workflow.read_bytes(args.sealed, what="sealed plan")
        opened = bundle.unpack(bundle.open_sealed(sealed, private_key))
        root = _workflow.workspace()
        expected = plancheck.Expected(
            commit=args.commit or _workflow.current_commit(root),
            working_directory=args.working_directory,
            tool=args.tool,
            config_hash=_workflow.config_hash_of(args, root),
            environment=args.environment,
            repository=args.repository or os.environ.get("GITHUB_REPOSITORY", ""),
        )
        meta = opened.metadata
        plancheck.check(meta, expected)
        write_atomic(args.out, opened.files["plan"], mode=0o600)
        lock_written = False
        if "lock" in opened.files and not args.no_lock_file:
            lock = root / args.working_directory / ".terraform.lock.hcl"
            write_atomic(str(lock), opened.files["lock"], mode=0o644)
            lock_written = True
        if args.gha:
            gha.set_output("plan-file", args.out, secret=False)
            gha.set_output("commit", meta.commit, secret=False)
            gha.set_output("config-hash", meta.config_hash, secret=False)
            for key in ("add", "change", "destroy"):
                gha.set_output(key, int(meta.changes.get(key, 0)), secret=False)
            counts = ", ".join(
                f"{meta.changes.get(k, 0)} to {k}" for k in ("add", "change", "destroy")
            )
            gha.append_summary(
                f"### Sealed plan opened: `{meta.working_directory}`\n\n"
                f"Made at commit `{meta.commit[:12]}` (run {meta.run_id or '?'}, "
                f"{meta.created_at or 'time unknown'}) with {meta.tool} {meta.tool_version}: "
                f"{counts}. Repository, commit, working directory, tool, environment and "
                "configuration hash match this run; applying exactly this plan.\n"
            )
    sys.stderr.write(
        f"opened the plan made at commit {meta.commit[:12]} for {meta.working_directory}: "
        f"checks passed; wrote {args.out}{' and the lock file' if lock_written else ''}\n"
    )
    return 0
