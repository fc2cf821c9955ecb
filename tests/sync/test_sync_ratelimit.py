"""The run's pace and the retry decisions, on a fake clock."""

from __future__ import annotations

import email.utils

import pytest
import requests
from github import GithubException

from homelab_secrets.sync.ratelimit import GitHubError, RetryPolicy, Throttle, call, limit_wait
from support.clock import FakeClock

WALL = 1_800_000_000.0


def _throttle(**kw: object) -> Throttle:
    options: dict[str, object] = {"writes_per_minute": 0, "max_writes": 100, "clock": FakeClock()}
    options.update(kw)
    return Throttle(wall=lambda: WALL, **options)


def test_no_minute_holds_more_writes_than_the_pace() -> None:
    clock = FakeClock()
    throttle = _throttle(writes_per_minute=5, clock=clock)
    times = []
    for _ in range(12):
        throttle.before(write=True, first=True)
        times.append(clock.t)
        clock.t += 1.0  # each write takes a second
    for t in times:
        assert sum(t <= u < t + 60 for u in times) <= 5
    assert times[:5] == [0.0, 1.0, 2.0, 3.0, 4.0]  # a small run is never slowed
    assert times[5] == 60.0


def test_max_writes_counts_writes_not_retries() -> None:
    throttle = _throttle(max_writes=2)
    throttle.before(write=True, first=True)
    throttle.before(write=True, first=False)  # a retry
    throttle.before(write=True, first=True)
    with pytest.raises(GitHubError) as caught:
        throttle.before(write=True, first=True)
    assert caught.value.kind == "budget"
    assert throttle.writes == 3


@pytest.mark.parametrize(
    ("status", "headers", "body", "wait"),
    [
        (429, {"retry-after": "7"}, {}, 7.0),
        (403, {"retry-after": email.utils.formatdate(WALL + 30, usegmt=True)}, {}, 30.0),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(WALL) + 100)}, {}, 101),
        (403, {}, {"message": "You have exceeded a secondary rate limit."}, 60.0),
        (429, {}, {}, 60.0),
        (403, {}, {"message": "API rate limit exceeded for 1.2.3.4"}, 60.0),
    ],
)
def test_limits_are_recognised_and_waited_for(
    status: int, headers: dict[str, str], body: dict[str, str], wait: float
) -> None:
    found = limit_wait(status, headers, body, _throttle(), attempt=1)
    assert found is not None
    assert found[0] == pytest.approx(wait)


def test_a_403_without_limit_signs_is_a_permission_problem() -> None:
    body = {"message": "Resource not accessible by integration"}
    assert limit_wait(403, {}, body, _throttle(), attempt=1) is None


def test_secondary_waits_double_up_to_max_wait() -> None:
    throttle = _throttle(policy=RetryPolicy(secondary_wait=60, max_wait=300))
    waits = [limit_wait(429, {}, {}, throttle, attempt=n)[0] for n in range(1, 5)]
    assert waits == [60, 120, 240, 300]


def _failing(*errors: Exception) -> object:
    queue = list(errors)

    def fn() -> str:
        if queue:
            raise queue.pop(0)
        return "ok"

    return fn


def test_call_retries_limits_globally_and_outages_locally() -> None:
    clock = FakeClock()
    throttle = _throttle(clock=clock)
    fn = _failing(
        GithubException(429, {"message": "slow down"}, {"Retry-After": "5"}),
        requests.ConnectionError("reset"),
        GithubException(502, {"data": "<html>"}, {}),
    )
    assert call(throttle, fn, what="write A", write=True) == "ok"
    assert clock.slept[0] == 5.0  # the Retry-After, as a global pause
    assert len(clock.slept) == 3
    assert throttle.writes == 4  # every attempt went out


def test_a_wait_longer_than_max_wait_fails_at_once_and_holds_the_others() -> None:
    clock = FakeClock()
    throttle = _throttle(clock=clock, policy=RetryPolicy(max_wait=600))
    fn = _failing(GithubException(403, {"message": "x"}, {"Retry-After": "3600"}))
    with pytest.raises(GitHubError) as caught:
        call(throttle, fn, what="write A", write=True)
    assert caught.value.kind == "rate-limited"
    assert "asks to wait 3600 s" in caught.value.message
    assert clock.slept == []


def test_a_pause_past_the_budget_fails_the_next_requests() -> None:
    clock = FakeClock()
    throttle = _throttle(clock=clock, policy=RetryPolicy(budget=100))
    throttle.pause(500, "primary rate limit used up")
    with pytest.raises(GitHubError) as caught:
        call(throttle, lambda: "ok", what="list the secrets", write=False)
    assert caught.value.kind == "rate-limited"
    assert "past this run's 100 s budget" in caught.value.message


@pytest.mark.parametrize(
    ("status", "kind"), [(401, "auth"), (403, "permission"), (404, "not-found"), (422, "rejected")]
)
def test_refusals_are_not_retried(status: int, kind: str) -> None:
    throttle = _throttle()
    fn = _failing(
        GithubException(status, {"message": "no"}, {"X-Accepted-GitHub-Permissions": "a"})
    )
    with pytest.raises(GitHubError) as caught:
        call(throttle, fn, what="write A", write=True)
    assert caught.value.kind == kind
    assert caught.value.message == f"could not write A: HTTP {status}"
    assert throttle.requests == 1
    if status != 401:
        assert caught.value.headers.get("x-accepted-github-permissions") == "a"
