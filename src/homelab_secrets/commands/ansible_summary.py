"""``homelab-secrets ansible-summary``: an ``ansible-playbook`` run (its
output, saved with ``tee``) as a job summary: recap, changed tasks, the
``--diff`` blocks, with every value the job loaded replaced by ``***``.

With ``--gha`` it appends to the job summary and sets the outputs
``changed``, ``failed`` and ``summary`` (the same report fitted to 65,536
characters, for a caller to post or forward).
"""

from __future__ import annotations

import argparse
import contextlib
import sys

from homelab_secrets import gha
from homelab_secrets.commands import _workflow

NAME = "ansible-summary"
HELP = "summarise an ansible-playbook run (recap, changes, masked --diff) for the job summary"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log", required=True, metavar="FILE", help="the run's saved output")
    parser.add_argument("--playbook", required=True)
    parser.add_argument("--inventory", default="")
    parser.add_argument("--limit", default="")
    parser.add_argument("--environment", default="")
    parser.add_argument(
        "--mode", choices=("check", "apply"), default="check", help="how the playbook ran"
    )
    parser.add_argument(
        "--exit-code", type=int, default=0, help="ansible-playbook's exit code (shown on failure)"
    )
    _workflow.add_redaction_arguments(parser)
    parser.add_argument(
        "--gha", action="store_true", help="append to the job summary and set step outputs"
    )


def run(args: argparse.Namespace) -> int:
    from homelab_secrets.workflows import ansible_log, ansible_render, markdown
    from homelab_secrets.workflows.redaction import redact

    with gha.annotate_failures("ansible summary") if args.gha else contextlib.nullcontext():
        masks = _workflow.masks_from_args(args)
        # redact the raw text first: every later step sees only ***
        text = redact(_workflow.read_text(args.log, what="ansible-playbook output"), masks)
        played = ansible_log.parse(text)
        context = ansible_render.RunContext(
            playbook=args.playbook,
            inventory=args.inventory,
            limit=args.limit,
            check=args.mode == "check",
            environment=args.environment,
            exit_code=args.exit_code,
        )
        full = redact(ansible_render.render(played, context, limit=markdown.SUMMARY_LIMIT), masks)
        short = redact(
            ansible_render.render(played, context, limit=markdown.COMMENT_LIMIT - 512), masks
        )
        if args.gha:
            gha.set_output("changed", played.changed > 0, secret=False)
            gha.set_output("failed", played.failed > 0 or args.exit_code != 0, secret=False)
            gha.set_output("summary", short, secret=False)
            gha.append_summary(full)
        else:
            sys.stdout.write(full)
    sys.stderr.write(
        f"ansible {args.mode}: {played.changed} changed, {played.failed} failed, "
        f"{len(played.recap)} host(s)\n"
    )
    return 0
