"""``homelab-secrets plan-summary``: what a saved plan does, for people.

Reads ``terraform show -json PLANFILE`` (or ``tofu``'s), prints the summary
(locally) or, with ``--gha``, appends it to the job summary (up to 1 MiB) and
sets the outputs ``has-changes``, ``add``, ``change``, ``destroy`` and
``comment`` (the same report fitted to a PR comment, 65,536 characters).
Counts, addresses, attribute and output names; never a value: whatever the
job loaded (``--redact-*``) and whatever the plan marks sensitive is replaced
with ``***`` before anything is written.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from homelab_secrets import gha
from homelab_secrets.commands import _workflow

NAME = "plan-summary"
HELP = "summarise a saved plan (show -json) for the job summary and a PR comment, no values"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plan-json", required=True, metavar="FILE", help="the output of `show -json PLANFILE`"
    )
    parser.add_argument("--tool", choices=_workflow.TOOLS, default="terraform")
    parser.add_argument("--working-directory", default=".", metavar="DIR")
    parser.add_argument("--environment", default="")
    parser.add_argument("--commit", default=None, help="shown in the footer (default: $GITHUB_SHA)")
    parser.add_argument("--artifact", default="", help="the sealed plan's artifact name")
    parser.add_argument(
        "--next-step", default="", help="one sentence on what happens next (the apply gate)"
    )
    parser.add_argument(
        "--comment-file", metavar="FILE", help="also write the PR-comment version to FILE"
    )
    _workflow.add_redaction_arguments(parser)
    parser.add_argument(
        "--gha", action="store_true", help="append to the job summary and set step outputs"
    )


def run(args: argparse.Namespace) -> int:
    from homelab_secrets.workflows import markdown, plan_render, tfplan
    from homelab_secrets.workflows.redaction import redact

    with gha.annotate_failures("plan summary") if args.gha else contextlib.nullcontext():
        plan = tfplan.load(
            _workflow.read_bytes(args.plan_json, what="plan JSON"), where=args.plan_json
        )
        # the plan's own sensitive values catch one that an address would show (the
        # summary shows none by construction); under 4 characters they are left out:
        # replacing them would blank every occurrence of those characters
        sensitive = {s for s in tfplan.sensitive_strings(plan) if len(s) >= gha.SHORT_SECRET}
        masks = _workflow.masks_from_args(args, sensitive)
        digest = tfplan.digest(plan)
        context = plan_render.PlanContext(
            tool=args.tool,
            working_directory=args.working_directory,
            environment=args.environment,
            commit=args.commit if args.commit is not None else os.environ.get("GITHUB_SHA", ""),
            run_url=_workflow.run_url(),
            artifact=args.artifact,
            next_step=args.next_step,
        )
        full = redact(
            plan_render.render(
                digest,
                context,
                limit=markdown.SUMMARY_LIMIT,
                full_list_hint="the plan in the run log lists them all",
            ),
            masks,
        )
        comment = redact(
            plan_render.render(digest, context, limit=markdown.COMMENT_LIMIT - 512), masks
        )
        if args.comment_file:
            from homelab_secrets.fsutil import write_atomic

            write_atomic(args.comment_file, comment.encode("utf-8"), mode=0o644)
        if args.gha:
            gha.set_output("has-changes", digest.has_changes, secret=False)
            gha.set_output("add", digest.add, secret=False)
            gha.set_output("change", digest.change, secret=False)
            gha.set_output("destroy", digest.destroy, secret=False)
            gha.set_output("comment", comment, secret=False)
            gha.append_summary(full)
        else:
            sys.stdout.write(full)
    sys.stderr.write(
        f"{args.tool} plan: {plan_render.headline(digest)}"
        f"{'' if digest.has_changes else ' (no changes)'}\n"
    )
    return 0
