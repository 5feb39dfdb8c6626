"""Serving fakes: any ASGI app under uvicorn in a background thread on a free 127.0.0.1 port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Self

import uvicorn
from starlette.requests import Request
from starlette.types import ASGIApp


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
