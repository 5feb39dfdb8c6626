"""Signed values handed to the outside: the server's secret key, and opt-out links in outreach mail."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from pathlib import Path

from itsdangerous import BadSignature, URLSafeSerializer

from wyshbone.config import Settings
from wyshbone.errors import InputError

OPT_OUT_PATH = "/outreach/opt-out/"
"""Where opt-out links point (a page route; mail programs may also POST there, RFC 8058)."""


def load_or_create_secret(home: Path) -> str:
    """The signing key: kept in ``<home>/secret_key`` (mode 600) so cookies and links survive restarts."""
    path = home / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


class OptOutLinks:
    """Links that let a recipient take their address off one account's outreach, without signing in."""

    def __init__(self, secret: str | Callable[[], str], base_url: str) -> None:
        self._secret = secret
        self._base = base_url.rstrip("/")

    @functools.cached_property
    def _serializer(self) -> URLSafeSerializer:
        secret = self._secret if isinstance(self._secret, str) else self._secret()  # read on first use only
        return URLSafeSerializer(secret, salt="wyshbone-opt-out")

    @classmethod
    def for_settings(cls, settings: Settings) -> OptOutLinks:
        """Links signed with the server's key (read when the first link is made), pointing at its public URL."""
        return cls(lambda: settings.secret_key or load_or_create_secret(settings.home), settings.base_url)

    def token(self, account_id: str, email: str) -> str:
        return str(self._serializer.dumps([account_id, email.strip().lower()]))

    def url(self, account_id: str, email: str) -> str:
        return f"{self._base}{OPT_OUT_PATH}{self.token(account_id, email)}"

    def read(self, token: str) -> tuple[str, str]:
        """(account, email) from a token; ``InputError`` when it was not made here or was altered."""
        try:
            account_id, email = self._serializer.loads(token)
        except (BadSignature, ValueError, TypeError):
            raise InputError("this opt-out link is not valid (it may have been cut short)") from None
        return str(account_id), str(email)
