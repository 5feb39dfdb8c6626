"""What every request body must be before a route sees it: JSON (a cross-site form cannot send it) and small.

A plain ASGI middleware: the size is counted on the stream as the body arrives, chunked or not, so a body
larger than the limit is refused once the limit has been read, and nothing more of it is buffered.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wyshbone.signing import OPT_OUT_PATH

MAX_BODY_BYTES = 64 * 1024
"""Larger request bodies are refused with 413."""
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
TOO_LARGE = f"the request body is too large (at most {MAX_BODY_BYTES} bytes)"
NOT_JSON = "send the request body as JSON (Content-Type: application/json)"
_CLOSE = (b"connection", b"close")
"""The body was not read to its end: the connection cannot carry another request."""


class BodyGuard:
    """Refuses a POST/PUT/PATCH body that is not JSON (415) or larger than ``limit`` bytes (413).

    The one exception to "JSON only" is the opt-out link, which mail programs "one-click" POST as a form
    (RFC 8058); it needs no session, only its signed token.
    """

    def __init__(self, app: ASGIApp, *, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        headers = {
            k.lower(): v for k, v in scope["headers"] if k.lower() in (b"content-length", b"content-type")
        }
        length = headers.get(b"content-length", b"").decode("latin-1")
        if length and (not length.isdigit() or int(length) > self.limit):
            await _refuse(send, 413, TOO_LARGE)
            return
        kind = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
        if kind != "application/json" and not scope["path"].startswith(OPT_OUT_PATH):
            await _refuse(send, 415, NOT_JSON)
            return
        seen = 0

        async def receive_counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # Raised inside the route's body reading; the app answers it like any HTTP error.
                    raise HTTPException(status_code=413, detail=TOO_LARGE)
            return message

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start" and seen > self.limit:
                # The rest of the body stays unread: close the connection rather than read it to the end.
                message = {**message, "headers": [*message.get("headers", []), _CLOSE]}
            await send(message)

        await self.app(scope, receive_counted, send_closing)


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers: list[tuple[bytes, Any]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        _CLOSE,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
