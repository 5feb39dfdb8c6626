"""Sessions: the ``X-Session-Id`` header when present, else a signed, HttpOnly, SameSite=Lax cookie."""

from __future__ import annotations

import re
import secrets

from fastapi import Request, Response
from itsdangerous import BadSignature, Signer

from wyshbone.errors import InputError

COOKIE = "wyshbone_session"
HEADER = "x-session-id"
_VALID = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
_YEAR = 365 * 24 * 3600


class SessionIssuer:
    """Reads the caller's session id from the request, or issues a new one in a cookie."""

    def __init__(self, secret: str, *, secure: bool = False) -> None:
        self._signer = Signer(secret, salt="wyshbone-session")
        self._secure = secure

    def __call__(self, request: Request, response: Response) -> str:
        header = request.headers.get(HEADER)
        if header is not None:
            if not _VALID.match(header):
                raise InputError("X-Session-Id must be 8–128 letters, digits, '-' or '_'")
            return header
        cookie = request.cookies.get(COOKIE)
        if cookie:
            try:
                return self._signer.unsign(cookie).decode()
            except BadSignature:
                pass  # a tampered or foreign cookie: start a fresh session
        session_id = secrets.token_urlsafe(18)
        response.set_cookie(
            COOKIE,
            self._signer.sign(session_id).decode(),
            max_age=_YEAR,
            httponly=True,
            samesite="lax",
            secure=self._secure,
        )
        return session_id
