"""``homelab-secrets pr-comment``: post a report as one pull-request comment,
updated in place on every run (:mod:`homelab_secrets.workflows.pr_comment`).

The repository, the pull request and the API come from the runner's
environment (``GITHUB_REPOSITORY``, the event payload, ``GITHUB_API_URL``);
the token from ``$GITHUB_TOKEN`` (the calling job must grant ``pull-requests:
write``).  The body comes from a file or an environment variable and must
already fit a comment (``plan-summary`` fits its ``comment`` output).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys

from homelab_secrets import gha
from homelab_secrets.commands import _workflow
from homelab_secrets.errors import ExitCode, UserError

NAME = "pr-comment"
HELP = "create or update this workflow's comment on the pull request (one per report key)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    body = parser.add_mutually_exclusive_group(required=True)
    body.add_argument("--body-file", metavar="FILE", help="the Markdown to post")
    body.add_argument("--body-env", metavar="NAME", help="an environment variable holding it")
    parser.add_argument("--kind", default="terraform-plan", help="the kind of report")
    parser.add_argument(
        "--key", default="", help="which report of that kind (e.g. working directory + environment)"
    )
    parser.add_argument("--repository", help="owner/name (default: $GITHUB_REPOSITORY)")
    parser.add_argument(
        "--number", type=int, help="the pull request (default: from $GITHUB_EVENT_PATH)"
    )
    parser.add_argument(
        "--api-url", help="the REST API root (default: $GITHUB_API_URL, else api.github.com)"
    )
    parser.add_argument(
        "--token-env",
        default="GITHUB_TOKEN",
        metavar="NAME",
        help="the environment variable holding the token (default: GITHUB_TOKEN)",
    )
    parser.add_argument("--gha", action="store_true", help="set step outputs")


def _pull_request_number() -> int:
    path = os.environ.get("GITHUB_EVENT_PATH", "")
    try:
        with open(path, encoding="utf-8") as handle:
            event = json.load(handle)
    except (OSError, ValueError):
        event = {}
    number = (event.get("pull_request") or {}).get("number") or event.get("number")
    if not isinstance(number, int):
        raise UserError(
            "not a pull request event (no pull_request.number in $GITHUB_EVENT_PATH); "
            "give --number",
            ExitCode.USAGE,
        )
    return number


def run(args: argparse.Namespace) -> int:
    from homelab_secrets.providers.http import check_base_url, new_client
    from homelab_secrets.workflows.pr_comment import marker, upsert

    with gha.annotate_failures("pull request comment") if args.gha else contextlib.nullcontext():
        token = os.environ.get(args.token_env, "")
        if args.gha and token:
            gha.mask(args.token_env, token)
        if not token:
            raise UserError(f"${args.token_env} is empty: a token is needed", ExitCode.USAGE)
        if args.body_file:
            body = _workflow.read_text(args.body_file, what="comment body")
        else:
            body = os.environ.get(args.body_env, "")
        if not body.strip():
            raise UserError("the comment body is empty", ExitCode.USAGE)
        repository = args.repository or os.environ.get("GITHUB_REPOSITORY", "")
        if repository.count("/") != 1:
            raise UserError("no repository: set $GITHUB_REPOSITORY or --repository", ExitCode.USAGE)
        number = args.number if args.number is not None else _pull_request_number()
        api = check_base_url(
            args.api_url or os.environ.get("GITHUB_API_URL") or "https://api.github.com",
            what="GitHub API URL",
        )
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        with new_client(api, headers=headers) as client:
            action, comment_id = upsert(
                client, repository, number, body, marker(args.kind, args.key)
            )
        if args.gha:
            gha.set_output("action", action, secret=False)
            gha.set_output("comment-id", str(comment_id or ""), secret=False)
    sys.stderr.write(f"{action} the {args.kind} comment on {repository}#{number}\n")
    return 0
