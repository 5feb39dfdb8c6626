"""Serving fakes: any ASGI app under uvicorn in a background thread on a free 127.0.0.1 port, and a bare socket
server for the faults no HTTP server makes on purpose (silence, a reset connection, a body cut short)."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Self

import uvicorn
from starlette.requests import Request
from starlette.types import ASGIApp


def busiest(times: list[float], seconds: float) -> int:
    """The most of ``times`` (arrivals, in seconds) within any ``seconds``-long stretch."""
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_asgi(app: ASGIApp, *, lifespan: str = "off", graceful_seconds: int = 1) -> Iterator[str]:
    """Serve ``app`` on a free 127.0.0.1 port for the duration of the block; yields its base URL.

    ``lifespan="on"`` runs the app's start-up and shut-down (the real app); fakes have none.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan=lifespan,
        ws="none",
        access_log=False,
        timeout_graceful_shutdown=graceful_seconds,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"fake:{port}")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
        if thread.is_alive():
            raise RuntimeError("the server did not stop")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request a fake received, as it arrived."""

    at: float
    """``time.monotonic()`` on arrival (before any scripted delay)."""
    method: str
    path: str
    url: str
    """The full URL, query string included."""
    query: Mapping[str, str]
    headers: Mapping[str, str]
    """Lower-case names."""
    body: Any = None
    """Parsed JSON, or the raw text when it was not JSON (for fakes that read bodies)."""

    @classmethod
    def of(cls, request: Request, body: Any = None) -> RecordedRequest:
        return cls(
            at=time.monotonic(),
            method=request.method,
            path=request.url.path,
            url=str(request.url),
            query=dict(request.query_params),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )


class ServedFake:
    """A fake service with an ``app``: ``with fake.running():`` serves it, with ``base_url`` set meanwhile."""

    base_url: str

    @property
    def app(self) -> ASGIApp:
        raise NotImplementedError

    @contextmanager
    def running(self) -> Iterator[Self]:
        with serve_asgi(self.app) as base_url:
            self.base_url = base_url
            try:
                yield self
            finally:
                self.base_url = ""


Then = Literal["close", "reset", "hang"]
"""After its reply a ``SocketFault`` server closes the connection, resets it (RST), or holds it open unanswered."""


@dataclass
class SocketFault:
    """A bare TCP server on 127.0.0.1 that reads each request whole, writes ``reply(request)`` (often a cut-off
    or empty answer), then does ``then``; ``requests`` keeps every raw request (head and body)."""

    reply: Callable[[bytes], bytes] = lambda request: b""
    then: Then = "close"
    requests: list[bytes] = field(default_factory=list)
    base_url: str = ""
    """Set while ``running()``."""

    @contextmanager
    def running(self) -> Iterator[Self]:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.05)
        conns: list[socket.socket] = []
        stop = threading.Event()
        thread = threading.Thread(target=self._serve, args=(listener, conns, stop), daemon=True)
        thread.start()
        self.base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        try:
            yield self
        finally:
            stop.set()
            for conn in conns:  # wakes a read still waiting for a client that never spoke (an SMTP client)
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            thread.join(timeout=5)
            for conn in conns:
                conn.close()
            listener.close()
            self.base_url = ""

    def _serve(self, listener: socket.socket, conns: list[socket.socket], stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conns.append(conn)
            try:
                self._answer(conn)
            except OSError:  # the client gave up first (it timed out, or was reset itself)
                conn.close()

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        request = _read_request(conn)
        self.requests.append(request)
        conn.sendall(self.reply(request))
        if self.then == "hang":
            return  # held open, unanswered, until the server stops
        if self.then == "reset":
            # Linger on, for zero seconds: close() sends RST instead of FIN (a connection reset by peer).
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()


def _read_request(conn: socket.socket) -> bytes:
    """One HTTP/1.1 request: the head, then as many body bytes as its Content-Length says."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def http_answer(
    status: int, body: bytes, *, content_type: str = "application/json", cut_at: int | None = None
) -> bytes:
    """A raw HTTP/1.1 answer announcing ``body``'s full length; with ``cut_at``, only that many bytes of it follow
    (a transfer cut short: the client sees the connection end before the body does)."""
    reason = {200: "OK", 429: "Too Many Requests", 503: "Service Unavailable"}.get(status, "Status")
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    return head + (body if cut_at is None else body[:cut_at])
