"""One pull-request comment per plan, updated in place.

Each run finds the comment it posted before by a hidden marker (an HTML
comment naming the kind of report and a hash of its key, e.g. the working
directory and environment) and edits it, so a pull request carries one
current plan per root, not one more comment per push.  Only comments made by
a bot (``github-actions[bot]``, the workflow's token) are edited: a person's
comment quoting the marker is left alone.

Requests go through :func:`homelab_secrets.providers.http.send` (retries,
``Retry-After``, errors that name the request, never a token or a body).
The body must already fit (:data:`~.markdown.COMMENT_LIMIT`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import httpx

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.providers.http import DEFAULT_POLICY, Clock, RetryPolicy, send
from homelab_secrets.workflows.markdown import COMMENT_LIMIT, size

PER_PAGE = 100
#: Stop looking after this many pages (10,000 comments).
MAX_PAGES = 100


def marker(kind: str, key: str) -> str:
    """``<!-- homelab-secrets:KIND:HASH -->``: the key is hashed, so nothing
    in it can end the HTML comment."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    safe_kind = "".join(c for c in kind if c.isalnum() or c in "-_") or "report"
    return f"<!-- homelab-secrets:{safe_kind}:{digest} -->"


def _hint(status: int) -> str:
    if status in (401, 403):
        return (
            "; the job's token may not comment: the calling job must grant "
            "`pull-requests: write` (a pull request from a fork gets a read-only token)"
        )
    if status == 404:
        return "; the pull request was not found, or the token cannot see the repository"
    return ""


def _mine(comment: Any, mark: str) -> bool:
    if not isinstance(comment, dict):
        return False
    user = comment.get("user") or {}
    return mark in str(comment.get("body") or "") and user.get("type") == "Bot"


def find(
    client: httpx.Client,
    repository: str,
    number: int,
    mark: str,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    clock: Clock | None = None,
) -> int | None:
    """The id of our earlier comment on the pull request, if any."""
    for page in range(1, MAX_PAGES + 1):
        reply = send(
            client,
            "GET",
            f"/repos/{repository}/issues/{number}/comments",
            service="GitHub",
            what=f"list the comments of pull request #{number}",
            hint=_hint,
            policy=policy,
            clock=clock,
            params={"per_page": str(PER_PAGE), "page": str(page)},
        )
        items = reply.data if isinstance(reply.data, list) else []
        for comment in items:
            if _mine(comment, mark) and isinstance(comment.get("id"), int):
                return int(comment["id"])
        if len(items) < PER_PAGE:
            return None
    return None


def upsert(
    client: httpx.Client,
    repository: str,
    number: int,
    body: str,
    mark: str,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    clock: Clock | None = None,
) -> tuple[str, int | None]:
    """Create or update our comment; ``("created" | "updated", id)``."""
    if mark not in body:
        body = mark + "\n" + body
    if size(body) > COMMENT_LIMIT:
        raise UserError(
            f"the comment is {size(body)} bytes, over GitHub's {COMMENT_LIMIT}: fit it first",
            ExitCode.USAGE,
        )
    existing = find(client, repository, number, mark, policy=policy, clock=clock)
    payload: Mapping[str, str] = {"body": body}
    if existing is not None:
        send(
            client,
            "PATCH",
            f"/repos/{repository}/issues/comments/{existing}",
            service="GitHub",
            what=f"update comment {existing} on pull request #{number}",
            hint=_hint,
            policy=policy,
            clock=clock,
            json_body=dict(payload),
        )
        return "updated", existing
    reply = send(
        client,
        "POST",
        f"/repos/{repository}/issues/{number}/comments",
        service="GitHub",
        what=f"comment on pull request #{number}",
        hint=_hint,
        policy=policy,
        clock=clock,
        json_body=dict(payload),
    )
    new_id = reply.data.get("id") if isinstance(reply.data, dict) else None
    return "created", new_id if isinstance(new_id, int) else None
