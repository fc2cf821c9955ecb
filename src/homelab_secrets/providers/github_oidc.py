"""The GitHub Actions ID token (OIDC JWT) a job exchanges for a provider token.

In a job with ``permissions: id-token: write`` the runner sets
``ACTIONS_ID_TOKEN_REQUEST_URL`` and ``ACTIONS_ID_TOKEN_REQUEST_TOKEN``; the
JWT comes from::

    GET <request URL>&audience=<audience>      (the URL already has a query)
    Authorization: Bearer <request token>
    -> {"value": "<jwt>"}

:func:`request_id_token` does that through the one request path
(:func:`homelab_secrets.providers.http.send`: retries, bounded waits, errors
that name neither the request token nor the JWT). It reads no environment:
the caller (``gha.py``, the command line) hands it the two values. With no
``audience`` GitHub picks its default, ``https://github.com/<owner>``, which
is what the official Doppler action relies on.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import httpx

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.providers.http import (
    DEFAULT_POLICY,
    Clock,
    ProviderError,
    RetryPolicy,
    send,
)

SERVICE = "GitHub Actions ID token"


def _hint(status: int) -> str:
    if status in (401, 403):
        return (
            " (the runner refused the request token: the job needs `permissions: id-token: "
            "write`, and the token is only valid inside the job that received it)"
        )
    if status == 404:
        return " (the ID-token URL is not valid for this job; it expires when the job ends)"
    return ""


def request_id_token(
    client: httpx.Client,
    request_url: str,
    request_token: str,
    audience: str | None = None,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    clock: Clock | None = None,
) -> str:
    """The job's OIDC JWT for ``audience`` (None or "": GitHub's default).

    ``request_url`` is ``ACTIONS_ID_TOKEN_REQUEST_URL`` as the runner gives it
    (its own query, ``api-version``, is kept; ``audience`` is added to it,
    URL-encoded); ``request_token`` is ``ACTIONS_ID_TOKEN_REQUEST_TOKEN``.
    Raises :class:`~homelab_secrets.providers.http.ProviderError` when the
    endpoint fails and :class:`UserError` (exit 2) when either value is
    missing or the URL is not usable.
    """
    if not request_url or not request_token:
        raise UserError(
            f"{SERVICE}: no ID-token request URL or token; the job needs `permissions: "
            "id-token: write` (ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN)",
            ExitCode.USAGE,
        )
    parts = urlsplit(request_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(
            f"{SERVICE}: the ID-token request URL is not an http(s) URL", ExitCode.USAGE
        )
    if parts.username or parts.password or parts.fragment:
        raise UserError(
            f"{SERVICE}: the ID-token request URL must not carry credentials or a fragment",
            ExitCode.USAGE,
        )
    query = parts.query
    if audience:
        # appended, not passed as httpx ``params=``: those would replace the
        # URL's own query (api-version) instead of adding to it
        query += ("&" if query else "") + urlencode({"audience": audience}, quote_via=quote)
    what = f"get an ID token for audience {audience}" if audience else "get an ID token"
    reply = send(
        client,
        "GET",
        urlunsplit(parts._replace(query=query)),
        service=SERVICE,
        what=what,
        hint=_hint,
        policy=policy,
        clock=clock,
        headers={"Authorization": f"Bearer {request_token}"},
    )
    value = reply.data.get("value") if isinstance(reply.data, dict) else None
    if not isinstance(value, str) or value.count(".") != 2:
        raise ProviderError(
            f"{SERVICE}: could not {what}: the answer holds no JWT in its 'value' field",
            status=reply.status,
        )
    return value
