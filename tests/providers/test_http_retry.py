"""The providers' one request path, against a real fake (in-process and on a
socket): what is retried, how long it waits, and what the one error says."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator

import httpx
import pytest

from fakes import Fault, serve
from fakes.notes import NotesFake
from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.providers.http import (
    Clock,
    ProviderError,
    RetryPolicy,
    check_base_url,
    new_client,
    retry_after,
    send,
)
from support.clock import FakeClock

AUTH = {"Authorization": "Bearer test-token"}


@pytest.fixture
def fake() -> NotesFake:
    notes = NotesFake()
    notes.notes["a"] = "one"
    return notes


@pytest.fixture
def client(fake: NotesFake) -> Iterator[httpx.Client]:
    with fake.client(headers=AUTH) as c:
        yield c


def get(client: httpx.Client, clock: Clock, **kw: object) -> object:
    return send(
        client,
        "GET",
        "/v1/notes/a",
        service="Notes",
        what="read note a",
        clock=clock,
        **kw,  # type: ignore[arg-type]
    )


def test_success_returns_parsed_json_without_waiting(fake: NotesFake, client: httpx.Client) -> None:
    clock = FakeClock()
    reply = get(client, clock)
    assert reply.data == {"name": "a", "text": "one"}  # type: ignore[attr-defined]
    assert clock.slept == []
    assert len(fake.requests) == 1


def test_retry_after_seconds_is_waited_exactly(fake: NotesFake, client: httpx.Client) -> None:
    fake.inject(Fault.error(429, retry_after=7), times=2)
    clock = FakeClock()
    assert get(client, clock).status == 200  # type: ignore[attr-defined]
    assert clock.slept == [7.0, 7.0]
    assert len(fake.requests) == 3


def test_retry_after_as_http_date() -> None:
    later = email.utils.formatdate(1_000_030, usegmt=True)
    assert retry_after(httpx.Headers({"Retry-After": later}), now=1_000_000) == 30.0
    assert retry_after(httpx.Headers({"Retry-After": "soon"})) is None
    assert retry_after(httpx.Headers({})) is None


def test_backoff_without_retry_after_grows_and_is_capped(
    fake: NotesFake, client: httpx.Client
) -> None:
    fake.inject(Fault.html(502), times=None)
    clock = FakeClock()
    policy = RetryPolicy(attempts=6, base_delay=1.0, max_delay=5.0, budget=1000)
    with pytest.raises(ProviderError) as caught:
        get(client, clock, policy=policy)
    assert clock.slept == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert len(fake.requests) == 6
    err = caught.value
    assert err.outage
    assert err.status == 502
    assert err.message == ("Notes: could not read note a: HTTP 502 Bad Gateway (after 6 attempts)")
    assert "nginx" not in err.message
    assert "<html>" not in err.message


def test_jitter_keeps_at_least_half_the_step(fake: NotesFake, client: httpx.Client) -> None:
    fake.inject(Fault.error(503), times=3)
    clock = FakeClock()
    clock.random = lambda: 0.0
    get(client, clock, policy=RetryPolicy(base_delay=2.0))
    assert clock.slept == [1.0, 2.0, 4.0]


@pytest.mark.parametrize("status", [401, 403, 404, 400, 422])
def test_refusals_fail_at_once_with_status_and_hint(
    fake: NotesFake, client: httpx.Client, status: int
) -> None:
    fake.inject(Fault.error(status, {"messages": ["token dp.st.secret is bad"]}))
    clock = FakeClock()
    with pytest.raises(ProviderError) as caught:
        get(client, clock, hint=lambda s: f" (hint for {s})")
    assert len(fake.requests) == 1
    assert clock.slept == []
    err = caught.value
    assert not err.outage
    assert err.status == status
    assert err.message.startswith(f"Notes: could not read note a: HTTP {status} ")
    assert err.message.endswith(f"(hint for {status})")
    assert "dp.st" not in err.message  # the body is never quoted


def test_malformed_json_is_retried_then_reported(fake: NotesFake, client: httpx.Client) -> None:
    fake.inject(Fault.malformed_json(), times=None)
    with pytest.raises(ProviderError) as caught:
        get(client, FakeClock(), policy=RetryPolicy(attempts=3))
    assert len(fake.requests) == 3
    assert caught.value.outage
    assert "not valid JSON (after 3 attempts)" in caught.value.message


def test_a_reset_then_success(fake: NotesFake, client: httpx.Client) -> None:
    fake.inject(Fault.connection_reset())
    assert get(client, FakeClock()).data == {"name": "a", "text": "one"}  # type: ignore[attr-defined]


def test_too_long_retry_after_fails_at_once_saying_so(
    fake: NotesFake, client: httpx.Client
) -> None:
    fake.inject(Fault.error(429, retry_after=3600))
    clock = FakeClock()
    with pytest.raises(ProviderError) as caught:
        get(client, clock)
    assert clock.slept == []
    assert len(fake.requests) == 1
    assert "retry after 3600 s (more than the 60 s we wait)" in caught.value.message
    assert caught.value.outage


def test_budget_bounds_the_whole_call(fake: NotesFake, client: httpx.Client) -> None:
    fake.inject(Fault.error(503, retry_after=20), times=None)
    clock = FakeClock()
    with pytest.raises(ProviderError) as caught:
        get(client, clock, policy=RetryPolicy(attempts=10, budget=50))
    assert clock.slept == [20.0, 20.0]
    assert "(after 3 attempts)" in caught.value.message


def test_real_socket_timeouts_and_refused_connections_are_retried(fake: NotesFake) -> None:
    fake.inject(Fault.sleep(1.0))
    with serve(fake) as url, httpx.Client(base_url=url, headers=AUTH, timeout=0.2) as c:
        reply = send(c, "GET", "/v1/notes/a", service="Notes", what="read", clock=FakeClock())
        assert reply.data == {"name": "a", "text": "one"}
    # the server is gone now: connection refused on every attempt
    with httpx.Client(base_url=url, timeout=0.5) as c, pytest.raises(ProviderError) as caught:
        send(
            c,
            "GET",
            "/",
            service="Notes",
            what="read",
            clock=FakeClock(),
            policy=RetryPolicy(attempts=2),
        )
    assert caught.value.message == (
        "Notes: could not read: could not connect (ConnectError) (after 2 attempts)"
    )
    assert caught.value.status is None
    assert caught.value.outage


def test_real_waits_are_real(fake: NotesFake, client: httpx.Client) -> None:
    fake.inject(Fault.error(429, retry_after=0.2))
    start = time.monotonic()
    send(client, "GET", "/v1/notes/a", service="Notes", what="read")
    assert time.monotonic() - start >= 0.2


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.doppler.com/", "https://api.doppler.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:1/x/", "http://localhost:1/x"),
        ("http://[::1]:9", "http://[::1]:9"),
    ],
)
def test_base_urls_accepted(url: str, expected: str) -> None:
    assert check_base_url(url, what="api-host") == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://infisical.lan",
        "ftp://x",
        "api.doppler.com",
        "https://user:pw@x.example",
        "https://x.example/?token=1",
    ],
)
def test_base_urls_refused(url: str) -> None:
    with pytest.raises(UserError) as caught:
        check_base_url(url, what="api-host")
    assert caught.value.exit_code == ExitCode.USAGE
    assert "user:pw" not in caught.value.message


def test_unreadable_ca_bundle_is_a_usage_error() -> None:
    with pytest.raises(UserError) as caught:
        new_client("https://x.example", ca_bundle="/nonexistent/ca.pem")
    assert caught.value.exit_code == ExitCode.USAGE


def test_params_are_added_to_the_urls_own_query(fake: NotesFake, client: httpx.Client) -> None:
    send(
        client,
        "GET",
        "/v1/notes?api-version=2.0",
        service="Notes",
        what="list",
        params={"audience": "a b"},
        clock=FakeClock(),
    )
    assert fake.requests[-1].query == {"api-version": ["2.0"], "audience": ["a b"]}
