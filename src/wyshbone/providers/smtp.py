"""SMTP delivery through aiosmtplib: STARTTLS or implicit TLS, optional login, each reply kept.

``WYSHBONE_SMTP_URL`` names the server: ``smtp://user:pass@host:587`` (STARTTLS when the server offers it),
``smtp+starttls://...`` (STARTTLS required: refuse to send in the clear) or ``smtps://...:465`` (TLS from the
first byte). The password is only ever given to the SMTP login; no message or error repeats it.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

import aiosmtplib

from wyshbone.errors import SetupError

Security = Literal["auto", "starttls", "tls"]
_SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("auto", 587),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never the password
        return f"SmtpServer({self.host}:{self.port}, {self.security}, user={self.username!r})"

    @property
    def display(self) -> str:
        return f"{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpServer:
    """``SetupError`` (without the password) when the URL cannot be used."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise SetupError("WYSHBONE_SMTP_URL is not a valid URL (smtp://user:pass@host:587)") from None
    if parts.scheme not in _SCHEMES or not parts.hostname:
        raise SetupError(
            "WYSHBONE_SMTP_URL must look like smtp://user:pass@host:587, smtp+starttls://... or smtps://host:465"
        )
    security, default_port = _SCHEMES[parts.scheme]
    return SmtpServer(
        host=parts.hostname,
        port=port or default_port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the server said about one message."""

    outcome: Literal["sent", "failed", "rejected", "bounced"]
    """sent; failed (try again later: 4xx or a dropped connection); rejected (5xx: do not retry);
    bounced (5xx for the recipient: the address does not take mail)."""
    reply: str


class SmtpUnavailableError(SetupError):
    """The SMTP server cannot be used now (unreachable, TLS or login refused): stop this run."""


def build_message(
    *,
    sender_name: str | None,
    sender_email: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    message_key: str,
    opt_out_url: str,
) -> EmailMessage:
    """The mail: text and HTML parts, a Message-ID made from the idempotency key, one-click unsubscribe."""
    message = EmailMessage()
    message["From"] = formataddr((sender_name or "", sender_email))
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = f"<{message_key}@{sender_email.rpartition('@')[2] or 'wyshbone.invalid'}>"
    message["List-Unsubscribe"] = f"<{opt_out_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class SmtpSender:
    """Sends one message per connection (messages are spaced out anyway, and servers drop idle ones)."""

    def __init__(self, server: SmtpServer, *, ca_file: Path | None = None, timeout: float = 30.0) -> None:
        self._server = server
        self._timeout = timeout
        self._tls = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)

    @property
    def server(self) -> SmtpServer:
        return self._server

    async def send(self, message: EmailMessage) -> Delivery:
        s = self._server
        try:
            errors, reply = await aiosmtplib.send(
                message,
                hostname=s.host,
                port=s.port,
                username=s.username,
                password=s.password,
                use_tls=s.security == "tls",
                start_tls=True if s.security == "starttls" else (False if s.security == "tls" else None),
                tls_context=self._tls,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0] if exc.recipients else None
            code, text = (refused.code, refused.message) if refused else (550, "recipient refused")
            return Delivery("bounced" if 500 <= code < 600 else "failed", f"{code} {text}")
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise SmtpUnavailableError(
                f"the SMTP server {s.display} refused the login: {exc.code} {exc.message}"
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            return Delivery("rejected" if 500 <= exc.code < 600 else "failed", f"{exc.code} {exc.message}")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SmtpUnavailableError(
                f"cannot deliver through {s.display}: {type(exc).__name__}: {_first_line(exc)}"
            ) from None
        if errors:
            code, text = next(iter(errors.values()))
            return Delivery("bounced" if 500 <= code < 600 else "failed", f"{code} {text}")
        return Delivery("sent", f"250 {reply}")  # DATA's only success code; aiosmtplib gives the text alone


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no detail"
