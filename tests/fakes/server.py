"""Serving fakes: any ASGI app under uvicorn in a background thread on a free 127.0.0.1 port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self

import uvicorn
from starlette.types import ASGIApp


@contextmanager
def serve_asgi(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` on a free 127.0.0.1 port for the duration of the block; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", ws="none", access_log=False, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"fake:{port}")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


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
