"""The one HTTP request path of every provider: retries, backoff, errors.

:func:`send` makes one logical request with a bounded number of attempts:

* **retried**: HTTP 408, 429 and 5xx, time-outs, connection errors (refused,
  reset, DNS) and a success whose body is not the JSON it should be;
* **not retried**: 401/403/404 and other 4xx (a retry cannot fix a wrong
  token or a missing project), TLS verification failures and bad URLs;
* **waits**: ``Retry-After`` (seconds or an HTTP date) is honoured exactly,
  and a wait longer than :attr:`RetryPolicy.max_retry_after` is not taken
  (the call fails at once, saying so); otherwise exponential backoff with
  jitter (half fixed, half random), capped; the whole call stays within
  :attr:`RetryPolicy.budget` seconds.

Failures are one :class:`ProviderError` whose message names the service,
what was asked for (project/config/path, never a token), the HTTP status and
a fix hint; it never quotes the response body (third-party text may echo
what we sent).  :attr:`ProviderError.outage` tells whether the failure looks
like the service being unreachable (the only case a fallback cache may
answer), as opposed to a request the service refused.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import random
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import httpx

from homelab_secrets import __version__
from homelab_secrets.errors import ExitCode, UserError

USER_AGENT = f"homelab-secrets/{__version__}"


class ProviderError(UserError):
    """A provider call failed.  ``status`` is the last HTTP status (None: no
    answer), ``outage`` whether the service looked unreachable or broken
    (network error, time-out, 5xx, 429 or malformed answers after every
    retry) rather than refusing the request."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        outage: bool = False,
        exit_code: int = ExitCode.ERROR,
    ) -> None:
        super().__init__(message, exit_code)
        self.status = status
        self.outage = outage


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  #: tries in all (1 = no retry)
    base_delay: float = 0.5  #: first backoff step, seconds
    max_delay: float = 8.0  #: cap of one backoff step
    max_retry_after: float = 60.0  #: longest Retry-After we wait for
    budget: float = 120.0  #: the whole call, waits included


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True, repr=False)
class Reply:
    """A successful answer: status (2xx or 304), headers, parsed JSON (None
    for an empty body or 304)."""

    status: int
    headers: httpx.Headers
    data: Any = None

    def __repr__(self) -> str:
        return f"Reply(status={self.status})"


@dataclass
class Clock:
    """Time, sleeping and randomness: the parts of retrying tests replace."""

    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.monotonic
    random: Callable[[], float] = random.random
    slept: list[float] = field(default_factory=list)

    def wait(self, seconds: float) -> None:
        self.slept.append(seconds)
        if seconds > 0:
            self.sleep(seconds)


def _phrase(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an
    HTTP date); None when absent or unreadable."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _transport_problem(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return f"could not connect ({type(exc).__name__})"


def _tls_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, ssl.SSLCertVerificationError):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    service: str,
    what: str,
    hint: Callable[[int], str] | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    clock: Clock | None = None,
    expect_json: bool = True,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
    form: Mapping[str, str] | None = None,
) -> Reply:
    """One logical request (see the module docstring).  ``what`` completes
    "``<service>``: could not ``<what>``" in messages; ``hint(status)`` may
    add advice for a refused request (401/403/404/...)."""
    clock = clock or Clock()
    if params:  # add to the URL's own query (httpx would replace it)
        url = str(httpx.URL(url).copy_merge_params(dict(params)))
    started = clock.now()
    problem = ""
    status: int | None = None
    for attempt in range(1, policy.attempts + 1):
        wait: float | None = None
        try:
            response = client.request(method, url, headers=headers, json=json_body, data=form)
        except httpx.UnsupportedProtocol:
            raise ProviderError(
                f"{service}: could not {what}: the URL must start with https:// (or http:// "
                "on a loopback address)",
                exit_code=ExitCode.USAGE,
            ) from None
        except httpx.TransportError as exc:
            if _tls_failure(exc):
                raise ProviderError(
                    f"{service}: could not {what}: the server's TLS certificate is not trusted; "
                    "give the CA that signed it (ca-bundle / --ca-bundle)",
                ) from None
            problem, status = _transport_problem(exc), None
        else:
            status = response.status_code
            if 200 <= status < 300 or status == 304:
                body = response.content
                if not expect_json or status in (204, 304) or not body.strip():
                    return Reply(status, response.headers)
                try:
                    return Reply(status, response.headers, json.loads(body))
                except ValueError:
                    problem = f"{_phrase(status)} with a body that is not valid JSON"
            elif status in (408, 429) or status >= 500:
                problem = _phrase(status)
                wait = retry_after(response.headers)
                if wait is not None and wait > policy.max_retry_after:
                    raise ProviderError(
                        f"{service}: could not {what}: {problem}, and it asks to retry after "
                        f"{wait:.0f} s (more than the {policy.max_retry_after:.0f} s we wait)",
                        status=status,
                        outage=True,
                    )
            else:
                advice = hint(status) if hint is not None else ""
                raise ProviderError(
                    f"{service}: could not {what}: {_phrase(status)}{advice}", status=status
                )
        if attempt == policy.attempts:
            break
        if wait is None:
            step = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
            wait = step / 2 + clock.random() * step / 2
        if clock.now() - started + wait > policy.budget:
            break
        clock.wait(wait)
    tries = f"after {attempt} attempt{'s' if attempt != 1 else ''}"
    raise ProviderError(
        f"{service}: could not {what}: {problem} ({tries})", status=status, outage=True
    )


def check_base_url(url: str, *, what: str) -> str:
    """A base URL without a trailing ``/``; https, or http only to a loopback
    address (a homelab fake, a local proxy); no user info, query or fragment
    (a token in a URL would end up in logs)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(
            f"{what}: {url!r} is not an http(s) URL (e.g. https://api.doppler.com)",
            ExitCode.USAGE,
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise UserError(
            f"{what}: give the URL without credentials, query or fragment", ExitCode.USAGE
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise UserError(
            f"{what}: plain http is allowed only on a loopback address; use https:// for "
            f"{parts.hostname}",
            ExitCode.USAGE,
        )
    return url.strip().rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_client(
    base_url: str,
    *,
    ca_bundle: str | None = None,
    timeout: float = 30.0,
    headers: Mapping[str, str] | None = None,
) -> httpx.Client:
    """The client a provider is handed in real use: our User-Agent, a
    time-out, TLS verified against ``ca_bundle`` (a PEM file: a homelab CA)
    or else the system's trust store (as curl and the Go CLIs do; honours
    ``SSL_CERT_FILE``; certifi's bundle only where the system has none).

    A plain-http base URL (loopback only, see :func:`check_base_url`) gets no
    TLS context at all: loading a CA bundle costs ~30 ms of every start, and
    the client never leaves that URL (redirects are not followed)."""
    verify: ssl.SSLContext | bool
    if base_url.startswith("http://"):
        verify = False
    elif ca_bundle:
        try:
            verify = ssl.create_default_context(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise UserError(
                f"ca-bundle {ca_bundle}: cannot be read as PEM certificates ({type(exc).__name__})",
                ExitCode.USAGE,
            ) from None
    else:
        verify = ssl.create_default_context()
        if not verify.cert_store_stats().get("x509_ca"):
            import certifi

            verify.load_verify_locations(cafile=certifi.where())
    return httpx.Client(
        base_url=base_url,
        verify=verify,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        follow_redirects=False,
    )
