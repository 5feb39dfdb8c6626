"""Request bodies are limited on the stream: a chunked body is refused once 64 KiB have been read, and the
server's memory does not grow with what the client keeps sending. A real ``wyshbone serve`` and a raw socket,
so nothing between them buffers the body."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.processes import Servers

pytestmark = [pytest.mark.data, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

CHUNK = b"x" * 65536
TOTAL = 20 * 1024 * 1024


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _post_chunked(base_url: str, path: str, *, total: int) -> tuple[bytes, int]:
    """POST ``total`` bytes as a chunked JSON body; the server's answer and how many bytes it let us send."""
    where = urlsplit(base_url)
    with socket.create_connection((where.hostname, where.port), timeout=30) as conn:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {where.netloc}\r\nContent-Type: application/json\r\n"
            "X-Session-Id: session-body-limit-01\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        conn.sendall(head.encode())
        sent = 0
        try:
            conn.sendall(b'a\r\n{"goal": "\r\n')
            while sent < total:
                conn.sendall(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
                sent += len(CHUNK)
            conn.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: it will not read the rest
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
        return answer, sent


def test_a_chunked_body_over_the_limit_is_refused_on_the_stream(servers: Servers) -> None:
    server = servers.start(step_seconds=0)
    before = _rss_kib(server.process.pid)
    answer, sent = _post_chunked(server.base_url, "/api/plan/start", total=TOTAL)
    after = _rss_kib(server.process.pid)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large", answer[:300]
    assert b'"the request body is too large (at most 65536 bytes)"' in rest
    # Reading stopped at the limit: the server holds a few chunks at most, not the 20 MiB sent its way.
    assert after - before < 8 * 1024, (before, after, sent)
