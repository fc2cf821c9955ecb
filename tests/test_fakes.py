"""The fakes framework, through the demo fake, by both reach paths: in-process
(httpx.WSGITransport) and a real threaded server on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from fakes import Fault, serve
from fakes.notes import NotesFake

AUTH = {"Authorization": "Bearer test-token"}


@pytest.fixture(params=["in-process", "server"])
def reach(request: pytest.FixtureRequest) -> Iterator[tuple[NotesFake, httpx.Client]]:
    fake = NotesFake()
    if request.param == "in-process":
        with fake.client(headers=AUTH) as client:
            yield fake, client
    else:
        with serve(fake) as url, httpx.Client(base_url=url, headers=AUTH, timeout=5) as client:
            yield fake, client


def test_routes_state_and_recording(reach: tuple[NotesFake, httpx.Client]) -> None:
    fake, client = reach
    assert client.put("/v1/notes/b", json={"text": "two"}).status_code == 201
    assert client.put("/v1/notes/a", json={"text": "one"}).status_code == 201
    assert client.put("/v1/notes/a", json={"text": "uno"}).status_code == 204
    assert client.get("/v1/notes", params={"page": "1"}).json() == {
        "notes": [{"name": "a", "text": "uno"}, {"name": "b", "text": "two"}]
    }
    assert client.get("/v1/notes/zz").status_code == 404
    assert client.delete("/v1/notes/b").status_code == 204
    assert client.put("/v1/notes/a", content=b"not json").status_code == 422
    first, *_, last = fake.requests
    assert (first.method, first.path, first.json()) == ("PUT", "/v1/notes/b", {"text": "two"})
    assert first.headers["authorization"] == "Bearer test-token"
    assert first.headers["content-type"] == "application/json"
    assert fake.requests[3].query == {"page": ["1"]}
    assert last.body == b"not json"
    assert len(fake.requests) == 7


def test_unknown_paths_methods_and_auth(reach: tuple[NotesFake, httpx.Client]) -> None:
    fake, client = reach
    assert client.get("/v2/nothing").status_code == 404
    not_allowed = client.post("/v1/notes/a", json={})
    assert not_allowed.status_code == 405
    assert not_allowed.headers["allow"] == "DELETE, GET, PUT"
    assert client.get("/v1/notes", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert len(fake.requests) == 3


def test_status_fault_with_retry_after_applies_n_times_then_stops(
    reach: tuple[NotesFake, httpx.Client],
) -> None:
    fake, client = reach
    fake.inject(Fault.error(429, retry_after=2), method="GET", path="/v1/notes", times=2)
    for _ in range(2):
        response = client.get("/v1/notes")
        assert response.status_code == 429
        assert response.headers["retry-after"] == "2"
        assert response.json() == {"message": "Too Many Requests"}
    assert client.get("/v1/notes").status_code == 200
    assert len(fake.requests) == 3  # faulted requests are recorded too


def test_fault_matching_by_method_and_path_template(reach: tuple[NotesFake, httpx.Client]) -> None:
    fake, client = reach
    fake.inject(Fault.error(500), method="PUT", path="/v1/notes/{name}", times=None)
    assert client.get("/v1/notes").status_code == 200
    assert client.put("/v1/notes/x", json={"text": "t"}).status_code == 500
    assert client.put("/v1/notes/y", json={"text": "t"}).status_code == 500
    fake.clear_faults()
    assert client.put("/v1/notes/y", json={"text": "t"}).status_code == 201


def test_html_5xx_body(reach: tuple[NotesFake, httpx.Client]) -> None:
    fake, client = reach
    fake.inject(Fault.html(502))
    response = client.get("/v1/notes")
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert response.text.startswith("<html><head><title>502 Bad Gateway</title>")
    with pytest.raises(ValueError, match="Expecting value"):
        response.json()


def test_malformed_json(reach: tuple[NotesFake, httpx.Client]) -> None:
    fake, client = reach
    fake.inject(Fault.malformed_json())
    response = client.get("/v1/notes")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(ValueError, match="Expecting value"):
        response.json()


def test_delay_then_normal_answer(reach: tuple[NotesFake, httpx.Client]) -> None:
    fake, client = reach
    fake.inject(Fault.sleep(0.2))
    started = time.monotonic()
    assert client.get("/v1/notes").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_connection_reset(reach: tuple[NotesFake, httpx.Client]) -> None:
    fake, client = reach
    fake.inject(Fault.connection_reset())
    with pytest.raises(httpx.ReadError):
        client.get("/v1/notes")
    assert client.get("/v1/notes").status_code == 200  # the next request is served
    assert len(fake.requests) == 2


def test_a_delay_beyond_the_client_timeout_times_out_on_the_socket_path() -> None:
    fake = NotesFake()
    fake.inject(Fault.error(503, delay=0.5))
    with serve(fake) as url, httpx.Client(base_url=url, headers=AUTH, timeout=0.1) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get("/v1/notes")
        time.sleep(0.5)  # let the fake finish the slow answer
        assert client.get("/v1/notes").status_code == 200


def test_delays_are_bounded() -> None:
    with pytest.raises(ValueError, match="delay"):
        Fault.sleep(60)


def test_server_is_threaded_and_shuts_down_cleanly() -> None:
    fake = NotesFake()
    fake.inject(Fault.sleep(0.5), times=4)
    with serve(fake) as url:
        port = int(url.rsplit(":", 1)[1])
        clients = [httpx.Client(base_url=url, headers=AUTH) for _ in range(4)]
        with ThreadPoolExecutor(4) as pool:
            started = time.monotonic()
            codes = list(pool.map(lambda c: c.get("/v1/notes").status_code, clients))
            elapsed = time.monotonic() - started
        for client in clients:
            client.close()
        assert codes == [200] * 4
        assert elapsed < 1.5  # concurrent: one at a time would take 2 s
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 1):
        pass  # nothing listens any more
