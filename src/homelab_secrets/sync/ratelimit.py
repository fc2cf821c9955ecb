"""How the sync paces and retries its GitHub calls: one :class:`Throttle` per
run, shared by every target (thread-safe), and :func:`call`, the one retry loop
every GitHub request goes through.

PyGithub's own retry (urllib3 ``GithubRetry``) and throttle are switched off
(:func:`homelab_secrets.sync.github.connect`): its retry does not retry a 429
without ``Retry-After``, waits for a secondary limit inside one connection
while the other targets' threads keep hammering, and cannot be bounded by the
run's time; its throttle is per client, not per run.  What replaces them:

* **rate limits** (403 or 429, GitHub's "Rate limits for the REST API"): with
  ``Retry-After``, wait exactly that; else with ``x-ratelimit-remaining: 0``,
  wait until ``x-ratelimit-reset`` (+1 s); else (a secondary limit, or a 429
  without headers) wait at least :attr:`RetryPolicy.secondary_wait` (GitHub
  says one minute), doubling per attempt up to ``max_wait``.  The wait is **global**: every
  target pauses until it is over (requesting while limited can get the token
  banned).  ``Retry-After`` is parsed by the providers' own
  :func:`~homelab_secrets.providers.http.retry_after`.
* **server trouble** (408, 5xx, connection errors, time-outs, a body that is
  not JSON): exponential backoff with jitter, per request.
* **not retried**: 401, a 403 that is not a rate limit (a missing permission),
  404, 409, 422: :class:`GitHubError` with ``kind`` saying which.
* **bounds**: :attr:`RetryPolicy.attempts` per request; a single wait longer
  than :attr:`RetryPolicy.max_wait`, or one that would end past the run's
  :attr:`RetryPolicy.budget`, is not taken: the request fails at once (and
  so does every later one while the limit lasts), leaving the rest to the
  next run.
* **the global write budget**: no 60 seconds of the run hold more than
  ``writes_per_minute`` writes (PUT/POST/PATCH/DELETE; a sliding window, so a
  small run is never slowed; GitHub's content limits are 80 writes a minute
  and 500 an hour), and a run makes at most ``max_writes`` of them (retries
  aside); the rest is left for the next run.

Time and sleeping come from :class:`~homelab_secrets.providers.http.Clock`, so
tests run the waits on a fake clock.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from homelab_secrets.providers.http import Clock, retry_after

T = TypeVar("T")

ErrorKind = Literal[
    "auth",  # 401: the token is invalid, expired or revoked
    "permission",  # 403, not a rate limit
    "not-found",  # 404
    "rejected",  # 409, 422, other 4xx
    "rate-limited",  # a limit longer than this run waits
    "outage",  # 5xx / network, after every attempt
    "budget",  # the run's write budget is used up
]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  #: tries per request (1 = no retry)
    base_delay: float = 1.0  #: first backoff step for server trouble, seconds
    max_delay: float = 60.0  #: cap of one backoff step
    secondary_wait: float = 60.0  #: least wait for a limit without Retry-After/reset
    max_wait: float = 900.0  #: longest single wait taken (Retry-After, reset)
    budget: float = 1800.0  #: waiting allowed in the whole run, seconds


class GitHubError(Exception):
    """A GitHub call that failed for good.  ``message`` is ours (names, status,
    never a value or GitHub's own text); ``headers`` are the response's, for
    :mod:`homelab_secrets.sync.access` to explain a refusal."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.headers = dict(headers or {})

    def __repr__(self) -> str:
        return f"GitHubError({self.kind!r}, {self.message!r}, status={self.status})"


class Throttle:
    """The run's shared pace: global pauses, the write bucket, the budgets."""

    def __init__(
        self,
        *,
        writes_per_minute: int = 80,
        max_writes: int = 500,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.clock = clock or Clock()
        self.wall = wall  #: epoch seconds, for x-ratelimit-reset
        self.per_minute = writes_per_minute  #: 0: unpaced
        self.max_writes = max_writes
        self._lock = threading.Lock()
        self._recent: deque[float] = deque()  #: when the writes of the last minute went
        self._logical = 0  #: writes counted against max_writes
        self._deadline = self.clock.now() + self.policy.budget
        self._paused_until = 0.0
        self._pause_reason = ""
        self.writes = 0  #: write requests sent (retries included)
        self.requests = 0  #: every request sent
        self.waited = 0.0  #: seconds spent waiting for limits and backoff

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self.waited += seconds
            self.clock.wait(seconds)

    def left(self) -> float:
        return self._deadline - self.clock.now()

    def pause(self, seconds: float, reason: str) -> None:
        """Hold every request of the run for ``seconds`` (a rate limit)."""
        with self._lock:
            until = self.clock.now() + seconds
            if until > self._paused_until:
                self._paused_until, self._pause_reason = until, reason

    def before(self, *, write: bool, first: bool) -> None:
        """Wait for a global pause and, for a write, a place in the minute's
        window; ``first``: the first attempt of a write (counted once against
        ``max_writes``)."""
        while True:
            with self._lock:
                pause = self._paused_until - self.clock.now()
                reason = self._pause_reason
            if pause <= 0:
                break
            if pause > self.left():
                raise GitHubError(
                    "rate-limited",
                    f"{reason}; GitHub asks to wait {pause:.0f} s more, past this run's "
                    f"{self.policy.budget:.0f} s budget: the rest is left for the next run",
                )
            self._wait(pause)
        if not write:
            with self._lock:
                self.requests += 1
            return
        with self._lock:
            if first:
                if self._logical >= self.max_writes:
                    raise GitHubError(
                        "budget",
                        f"the run's write budget ({self.max_writes}) is used up: the next run "
                        "writes the rest (raise limits.max-writes to write more per run)",
                    )
                self._logical += 1
        while self.per_minute > 0:
            with self._lock:
                now = self.clock.now()
                while self._recent and self._recent[0] <= now - 60.0:
                    self._recent.popleft()
                if len(self._recent) < self.per_minute:
                    self._recent.append(now)
                    break
                need = self._recent[0] + 60.0 - now
            self._wait(need)
        with self._lock:
            self.writes += 1
            self.requests += 1


# --------------------------------------------------------------------------- one request


def _lower(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in dict(headers or {}).items()}


def _message(data: Any) -> str:
    return str(data.get("message") or "").lower() if isinstance(data, dict) else ""


def limit_wait(
    status: int, headers: Mapping[str, str], data: Any, throttle: Throttle, attempt: int
) -> tuple[float, str] | None:
    """(seconds, why) when a 403/429 is a rate limit; None when it is not."""
    message = _message(data)
    after = retry_after(headers, throttle.wall())
    if after is not None:
        return after, f"rate limited (HTTP {status}, Retry-After)"
    if (
        headers.get("x-ratelimit-remaining") == "0"
        and headers.get("x-ratelimit-reset", "").isdigit()
    ):
        reset = float(headers["x-ratelimit-reset"])
        return max(0.0, reset - throttle.wall()) + 1.0, "primary rate limit reached"
    secondary = "secondary rate limit" in message or "abuse" in message
    if status == 429 or secondary or message.startswith("api rate limit exceeded"):
        policy = throttle.policy
        step = min(policy.secondary_wait * 2 ** (attempt - 1), policy.max_wait)
        return step, f"secondary rate limit (HTTP {status})"
    return None


def _backoff(policy: RetryPolicy, attempt: int, clock: Clock) -> float:
    step = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
    return float(step / 2 + clock.random() * step / 2)


def call(throttle: Throttle, fn: Callable[[], T], *, what: str, write: bool) -> T:
    """Run ``fn`` (one PyGithub request) with the run's pacing and retries.

    ``what`` completes "could not <what>" in messages (names only).
    """
    from github import GithubException
    from requests import RequestException

    policy = throttle.policy
    problem = ""
    status: int | None = None
    for attempt in range(1, policy.attempts + 1):
        throttle.before(write=write, first=attempt == 1)
        wait: float
        try:
            result: T = fn()
            return result
        except GithubException as exc:
            status, headers, data = exc.status, _lower(exc.headers), exc.data
            if status in (403, 429):
                limit = limit_wait(status, headers, data, throttle, attempt)
                if limit is None:
                    raise GitHubError(
                        "permission", f"could not {what}: HTTP 403", status=403, headers=headers
                    ) from None
                wait, problem = limit
                if wait > policy.max_wait or wait > throttle.left():
                    raise GitHubError(
                        "rate-limited",
                        f"could not {what}: {problem}, and GitHub asks to wait {wait:.0f} s "
                        f"(more than this run waits): the rest is left for the next run",
                        status=status,
                    ) from None
                throttle.pause(wait, problem)
                wait = 0.0  # before() waits for the global pause
            elif status == 408 or status >= 500:
                problem = f"HTTP {status}"
                wait = _backoff(policy, attempt, throttle.clock)
            else:
                kind: ErrorKind = (
                    "auth" if status == 401 else "not-found" if status == 404 else "rejected"
                )
                raise GitHubError(
                    kind, f"could not {what}: HTTP {status}", status=status, headers=headers
                ) from None
        except RequestException as exc:
            status, problem = None, f"could not connect ({type(exc).__name__})"
            wait = _backoff(policy, attempt, throttle.clock)
        except (json.JSONDecodeError, UnicodeDecodeError):
            problem = "an answer that is not JSON"
            wait = _backoff(policy, attempt, throttle.clock)
        if attempt == policy.attempts:
            break
        if wait > throttle.left():
            break
        throttle._wait(wait)
    raise GitHubError(
        "rate-limited" if status in (403, 429) else "outage",
        f"could not {what}: {problem} (after {attempt} attempt{'s' if attempt > 1 else ''})",
        status=status,
    )
