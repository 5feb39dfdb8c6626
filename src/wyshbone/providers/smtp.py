"""SMTP delivery through aiosmtplib: STARTTLS or implicit TLS, optional login, each reply kept.

``WYSHBONE_SMTP_URL`` names the server: ``smtp://user:pass@host:587`` (STARTTLS when the server offers it),
``smtp+starttls://...`` (STARTTLS required: refuse to send in the clear) or ``smtps://...:465`` (TLS from the
first byte). The password is only ever given to the SMTP login; no message or error repeats it. A server that
cannot be used is explained in plain words first, the exception and the server's own words as the details.

A message has one recipient, and no header can carry a line break from the data it is built from. Callers see
the ``Mailer`` protocol (``check``, ``send(OutgoingMail)``); ``SmtpMailer`` is its SMTP implementation.
"""

from __future__ import annotations

import re
import socket
import ssl
from dataclasses import dataclass
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import Policy
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from wyshbone.domain.emails import has_control_characters, normalise_address
from wyshbone.errors import InputError, SetupError

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


class UnsendableMessageError(InputError):
    """This message cannot be sent as it is: a header would not hold what it was given."""


MAX_LINE = 998
"""RFC 5322's limit on a line, CRLF not counted."""


class _BracketedUrlHeader(UnstructuredHeader, BaseHeader):
    """``List-Unsubscribe: <URL>`` as RFC 2369 and RFC 8058 want it, whatever the URL's length: never RFC 2047
    encoded (mail programs would not offer one-click unsubscribe) and never broken inside the brackets.

    It stays on one line even past 78 characters (``build_message`` keeps it within 998): folded before the
    ``<``, the value starts with a space for parsers that keep it (Python's does), and ``<`` is what they seek.
    """

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("list-unsubscribe", _BracketedUrlHeader)
_POLICY = policy.default.clone(header_factory=_HEADERS)
"""The default policy, with ``List-Unsubscribe`` written as above (whatever policy the generator uses)."""

_MESSAGE_KEY = re.compile(r"[A-Za-z0-9._+-]{1,200}")
_URL = re.compile(r"https?://[!#-;=?-~]+")
"""Printable ASCII without spaces, quotes or angle brackets: what may sit inside ``<...>``."""


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
    """The mail to one recipient: text and HTML parts, a Message-ID made from the idempotency key, one-click
    unsubscribe. ``UnsendableMessageError`` (saying which header) when a value would break a header: ``to`` or
    ``sender_email`` not exactly one valid address, a line break in the subject or sender's name, a message key
    or opt-out URL that does not fit between angle brackets."""
    recipient = _one_address("To", to)
    sender = _one_address("From", sender_email)
    for name, value in (("Subject", subject), ("From", sender_name or "")):
        if has_control_characters(value):
            raise UnsendableMessageError(f"the {name} header would hold a line break or control character")
    if not _MESSAGE_KEY.fullmatch(message_key):
        raise UnsendableMessageError(f"the Message-ID cannot be made from the key {message_key[:60]!r}")
    unsubscribe = f"<{opt_out_url}>"
    if not _URL.fullmatch(opt_out_url) or len(f"List-Unsubscribe: {unsubscribe}") > MAX_LINE:
        raise UnsendableMessageError("the opt-out URL does not fit a List-Unsubscribe header")
    message = EmailMessage(policy=_POLICY)
    try:
        message["From"] = formataddr((sender_name or "", sender))
        message["To"] = recipient
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = f"<{message_key}@{sender.rpartition('@')[2]}>"
        message["List-Unsubscribe"] = unsubscribe
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(text)
        message.add_alternative(html, subtype="html")
    except (ValueError, TypeError) as exc:  # the email package's own refusal of a header value
        raise UnsendableMessageError(f"the message cannot be built: {exc}") from None
    return message


def _one_address(header: str, value: str) -> str:
    """``value`` as one bare address (normalised); a display name (``Bob <bob@x.com>``) is not one."""
    try:
        if any(c in value for c in '<>"'):
            raise InputError("a bare address is needed here, without a name or angle brackets")
        return normalise_address(value)
    except InputError as exc:
        raise UnsendableMessageError(f"the {header} address {value[:80]!r} is not usable: {exc}") from None


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
        """Deliver ``message`` (from ``build_message``) to the one address of its To header, and no other."""
        s = self._server
        recipients = [address.addr_spec for address in getattr(message["To"], "addresses", ())]
        if len(recipients) != 1:
            raise UnsendableMessageError(f"a message has one recipient, not {len(recipients)}")
        try:
            errors, reply = await aiosmtplib.send(
                message,
                recipients=recipients,
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
            raise SmtpUnavailableError(f"cannot deliver through {s.display}: {unavailable(exc)}") from None
        if errors:
            code, text = next(iter(errors.values()))
            return Delivery("bounced" if 500 <= code < 600 else "failed", f"{code} {text}")
        return Delivery("sent", f"250 {reply}")  # DATA's only success code; aiosmtplib gives the text alone


_UNAVAILABLE: tuple[tuple[type[BaseException], str, str | None], ...] = (
    # In this order: a certificate error is an SSLError is an OSError; an aiosmtplib timeout is a TimeoutError.
    (ssl.SSLCertVerificationError, "the SMTP server's certificate is not trusted", "WYSHBONE_SMTP_CA_FILE"),
    (ssl.SSLError, "a secure connection to the SMTP server could not be set up", None),
    (TimeoutError, "the SMTP server did not answer in time", None),
    (aiosmtplib.SMTPServerDisconnected, "the SMTP server closed the connection unexpectedly", None),
    (OSError, "the SMTP server could not be reached", "WYSHBONE_SMTP_URL"),
    (aiosmtplib.SMTPNotSupported, "the SMTP server does not offer what sending needs", "WYSHBONE_SMTP_URL"),
)
"""Why a server cannot be used, by the exception raised: (class, plain words, the setting to check)."""


def unavailable(exc: BaseException) -> str:
    """Why the server cannot be used: plain words, then ``(details: check <setting>; <class>: <its words>)``."""
    plain, setting = "the SMTP server could not be used", None
    # aiosmtplib wraps a failed name lookup in an SMTPConnectError, and says that STARTTLS (required by
    # smtp+starttls://) is not offered in a bare SMTPException: neither has a class of its own to go by.
    if isinstance(exc.__cause__, socket.gaierror):
        plain, setting = "the SMTP server's name could not be found", "WYSHBONE_SMTP_URL"
    elif "STARTTLS" in str(exc) and not isinstance(exc, OSError):
        plain = "the SMTP server does not offer an encrypted connection, and the settings require one"
        setting = "WYSHBONE_SMTP_URL"
    else:
        plain, setting = next(
            ((words, named) for kind, words, named in _UNAVAILABLE if isinstance(exc, kind)), (plain, setting)
        )
    check = f"check {setting}; " if setting else ""
    return f"{plain} (details: {check}{type(exc).__name__}: {_first_line(exc)})"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no detail"


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """One message to one recipient, as outreach words it; the mailer builds and sends it."""

    sender_name: str | None
    sender_email: str
    to: str
    subject: str
    text: str
    html: str
    message_key: str
    """The idempotency key: the Message-ID is made from it, so a message is never sent twice unnoticed."""
    opt_out_url: str
    """The one-click unsubscribe link (``List-Unsubscribe``)."""


class Mailer(Protocol):
    """Sends outreach mail. ``check`` raises ``SetupError`` when the mailer cannot be used at all (nothing
    configured); ``send`` raises ``UnsendableMessageError`` for a message that cannot be built (nothing sent)
    and ``SmtpUnavailableError`` when the server cannot be used now, else says what the server said."""

    def check(self) -> None: ...

    async def send(self, mail: OutgoingMail) -> Delivery: ...


class SmtpMailer:
    """The ``Mailer`` over the SMTP server of ``WYSHBONE_SMTP_URL``: its URL is read when first used (a missing
    or bad one stops a send, not the start-up), then the sender is kept."""

    def __init__(self, url: str | None, *, ca_file: Path | None = None, timeout: float = 30.0) -> None:
        self._url = url  # holds the password: never in a repr
        self._ca_file = ca_file
        self._timeout = timeout
        self._sender: SmtpSender | None = None

    def __repr__(self) -> str:
        return "SmtpMailer(configured)" if self._url is not None else "SmtpMailer(not configured)"

    def check(self) -> None:
        self.sender()

    def sender(self) -> SmtpSender:
        """The SMTP sender; ``SetupError`` when no server is configured or its URL is unusable."""
        if self._sender is None:
            if self._url is None:
                raise SetupError(
                    "no SMTP server to send through: set WYSHBONE_SMTP_URL (e.g. smtp://user:pass@host:587)"
                )
            server = parse_smtp_url(self._url)
            self._sender = SmtpSender(server, ca_file=self._ca_file, timeout=self._timeout)
        return self._sender

    async def send(self, mail: OutgoingMail) -> Delivery:
        message = build_message(
            sender_name=mail.sender_name,
            sender_email=mail.sender_email,
            to=mail.to,
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            message_key=mail.message_key,
            opt_out_url=mail.opt_out_url,
        )
        return await self.sender().send(message)
