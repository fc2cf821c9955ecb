"""The pattern every fake external service follows: one small WSGI app.

A fake is a :class:`FakeService` subclass whose methods, decorated with
:func:`route`, implement the part of the real API our code uses, written from
the public API contract. The base class gives it:

* **routing** on method + path template (``/v3/configs/{config}/secrets``);
  an unknown path is a JSON 404, a known path with another method a 405;
* **request recording**: every request, faulted or not, as a
  :class:`RecordedRequest` (method, path, query, lower-cased headers, body);
* **fault injection** (:meth:`FakeService.inject`): a status code with a JSON
  or HTML body and any headers (``Retry-After``), a delay, a connection reset,
  a 200 with malformed JSON; for the next N matching requests or for ever;
* **two ways to reach it**, the same app either way:
  :meth:`FakeService.client` (in-process, ``httpx.WSGITransport``: no socket,
  fast, for unit tests) and :func:`serve` (a real HTTP server on
  127.0.0.1:<free port>, threaded, for code that opens its own connections:
  PyGithub, CLIs, actions under act).

Delays are real sleeps in both paths; client *timeouts* only exist on the
socket path (an in-process transport has no timeouts). A reset is a TCP RST on
the socket path and ``httpx.ReadError`` in-process, which is what an httpx
client sees from a real reset either way.

Handlers return :class:`Response` (see :func:`json_response`). Fakes keep
their state on ``self``, guarded by ``self.lock`` where handlers mutate it
(the server is threaded).
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx

Environ = dict[str, Any]
StartResponse = Callable[..., Any]

#: Longest delay a fault may ask for: tests stay bounded.
MAX_DELAY = 10.0


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  #: lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Request(RecordedRequest):
    """What a handler receives: the recorded request plus the path parameters."""

    params: dict[str, str] = field(default_factory=dict)

    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        return token if scheme.lower() in ("bearer", "token") and token else None


@dataclass(frozen=True)
class Response:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    body = json.dumps(data).encode()
    return Response(status, body, (("Content-Type", "application/json"), *(headers or {}).items()))


def empty_response(status: int = 204, headers: Mapping[str, str] | None = None) -> Response:
    return Response(status, b"", tuple((headers or {}).items()))


@dataclass(frozen=True)
class Fault:
    """What to do instead of (or before) the normal response.

    Build one with the class methods; ``delay`` composes with the others
    (``Fault.status(503, delay=0.2)``), and a bare ``Fault.sleep(s)`` delays,
    then answers normally.
    """

    status: int | None = None
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    reset: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.delay <= MAX_DELAY:
            raise ValueError(f"delay must be within 0..{MAX_DELAY} s")

    @classmethod
    def error(
        cls,
        status: int,
        json_body: Any = None,
        *,
        retry_after: float | str | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
    ) -> Fault:
        """``status`` with a JSON body (default ``{"message": <reason>}``)."""
        if json_body is None:
            json_body = {"message": HTTPStatus(status).phrase}
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if retry_after is not None:
            all_headers["Retry-After"] = str(retry_after)
        return cls(status, json.dumps(json_body).encode(), tuple(all_headers.items()), delay)

    @classmethod
    def html(cls, status: int = 502, *, delay: float = 0.0) -> Fault:
        """What a proxy in front of an API sends when the API is down."""
        phrase = HTTPStatus(status).phrase
        body = (
            f"<html><head><title>{status} {phrase}</title></head>"
            f"<body><center><h1>{status} {phrase}</h1></center><hr><center>nginx</center>"
            "</body></html>\n"
        ).encode()
        return cls(status, body, (("Content-Type", "text/html"),), delay)

    @classmethod
    def malformed_json(cls, status: int = 200) -> Fault:
        """A JSON content type with a truncated body."""
        return cls(status, b'{"secrets": {"API_KEY": ', (("Content-Type", "application/json"),))

    @classmethod
    def sleep(cls, seconds: float) -> Fault:
        """Delay, then answer normally."""
        return cls(delay=seconds)

    @classmethod
    def connection_reset(cls) -> Fault:
        """Drop the connection without an answer (TCP RST on a real socket)."""
        return cls(reset=True)


@dataclass
class _Injection:
    fault: Fault
    method: str | None
    path: re.Pattern[str] | None
    remaining: int | None  # None: for ever


_PARAM = re.compile(r"\{(\w+)\}")


def _template(path: str) -> re.Pattern[str]:
    """``/a/{name}/b`` -> a pattern with one ``[^/]+`` group per parameter."""
    out, pos = [], 0
    for m in _PARAM.finditer(path):
        out += [re.escape(path[pos : m.start()]), f"(?P<{m[1]}>[^/]+)"]
        pos = m.end()
    out.append(re.escape(path[pos:]))
    return re.compile("".join(out) + r"\Z")


def route(method: str, path: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Mark a :class:`FakeService` method as the handler of ``method path``."""

    def mark(handler: Callable[..., Response]) -> Callable[..., Response]:
        handler._fake_route = (method.upper(), path)  # type: ignore[attr-defined]
        return handler

    return mark


class ConnectionResetByFake(ConnectionResetError):
    """Raised by the app to drop a connection; the transports turn it into a reset."""


class FakeService:
    """Base of every fake; see the module docstring."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._requests: list[RecordedRequest] = []
        self._injections: list[_Injection] = []
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = []
        for name in dir(type(self)):
            target = getattr(type(self), name, None)
            spec = getattr(target, "_fake_route", None)
            if spec is not None:
                self._routes.append((spec[0], _template(spec[1]), getattr(self, name)))

    # -- what tests read and arrange

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.lock:
            return list(self._requests)

    def inject(
        self,
        fault: Fault,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int | None = 1,
    ) -> None:
        """Apply ``fault`` to the next ``times`` requests matching ``method`` and
        ``path`` (a template like the routes'; None matches all), for ever if
        ``times`` is None. Injections apply in the order they were made."""
        with self.lock:
            self._injections.append(
                _Injection(
                    fault,
                    None if method is None else method.upper(),
                    None if path is None else _template(path),
                    times,
                )
            )

    def clear_faults(self) -> None:
        with self.lock:
            self._injections.clear()

    # -- two ways in

    def transport(self) -> httpx.BaseTransport:
        return _FakeTransport(self)

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client talking to this fake in-process."""
        return httpx.Client(transport=self.transport(), base_url="http://fake.invalid", **kwargs)

    # -- WSGI

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for injection in self._injections:
                if injection.method not in (None, method):
                    continue
                if injection.path is not None and not injection.path.match(path):
                    continue
                if injection.remaining is not None:
                    injection.remaining -= 1
                    if injection.remaining <= 0:
                        self._injections.remove(injection)
                return injection.fault
        return None

    def _dispatch(self, request: RecordedRequest) -> Response:
        allowed = []
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match is None:
                continue
            if method != request.method:
                allowed.append(method)
                continue
            params = match.groupdict()
            return handler(Request(**vars(request), params=params), **params)
        if allowed:
            return json_response(
                {"message": "Method Not Allowed"}, 405, {"Allow": ", ".join(sorted(allowed))}
            )
        return json_response({"message": "Not Found"}, 404)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
        request = RecordedRequest(
            method=environ["REQUEST_METHOD"].upper(),
            path=environ.get("PATH_INFO") or "/",
            query=parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
            headers=headers,
            body=body,
        )
        with self.lock:
            self._requests.append(request)
        fault = self._take_fault(request.method, request.path)
        response = None
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.reset:
                abort = environ.get("fakes.abort")
                if abort is not None:
                    abort()
                raise ConnectionResetByFake("connection reset by the fake")
            if fault.status is not None:
                response = Response(fault.status, fault.body, fault.headers)
        if response is None:
            response = self._dispatch(request)
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Unknown"
        start_response(
            f"{response.status} {reason}",
            [*response.headers, ("Content-Length", str(len(response.body)))],
        )
        return [response.body]


class _FakeTransport(httpx.WSGITransport):
    """In-process: a reset surfaces as ``httpx.ReadError``, as from a socket."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except ConnectionResetByFake as exc:
            raise httpx.ReadError("connection reset by peer (fake)", request=request) from exc


# ------------------------------------------------------------------------------ real server


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _Handler(WSGIRequestHandler):
    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["fakes.abort"] = self._abort
        return environ

    def _abort(self) -> None:
        # SO_LINGER 0 then close: the kernel answers with RST, not FIN
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read fake.requests, not a log


@contextmanager
def serve(app: FakeService, *, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 at a free port; yields the base URL.

    Threaded (one thread per connection), stopped and closed on exit. With
    ``tls`` (a server context, see :func:`fakes.tls.server_context`) it
    speaks HTTPS and the URL is ``https://127.0.0.1:<port>``.
    """
    server = make_server("127.0.0.1", 0, app, server_class=_Server, handler_class=_Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
