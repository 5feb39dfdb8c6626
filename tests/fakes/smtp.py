"""A local SMTP server (aiosmtpd) that records what it receives, with the real protocol's replies: STARTTLS with
a test CA's certificate (trustme), AUTH LOGIN/PLAIN over TLS only, and scripted 5xx/4xx answers per recipient.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.fakes.server import free_port

USERNAME = "mailer"
PASSWORD = "s3cret-smtp-pässword"


@dataclass(frozen=True, slots=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    authenticated: bool
    raw: bytes = b""
    """The message exactly as it came over the wire (after DATA), headers folded as sent."""


@dataclass
class FakeSmtp:
    """What the server received, and what it should refuse."""

    bounce: set[str] = field(default_factory=set)
    """Recipients answered ``550 5.1.1`` (the mailbox does not exist)."""
    defer: set[str] = field(default_factory=set)
    """Recipients answered ``451 4.3.0`` (try again later)."""
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    rcpts: list[str] = field(default_factory=list)
    """Every ``RCPT TO`` address asked for, accepted or not, in order."""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        self.rcpts.append(address)
        if address in self.bounce:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address in self.defer:
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(
            Received(
                str(envelope.mail_from),
                list(envelope.rcpt_tos),
                parsed,
                tls=session.ssl is not None,
                authenticated=bool(session.authenticated),
                raw=content,
            )
        )
        return f"250 2.0.0 Ok: queued as FAKE{len(self.received):04d}"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            login, password = data.login.decode(), data.password.decode()
            self.logins.append((login, mechanism))
            ok = login == USERNAME and password == PASSWORD
            return AuthResult(success=ok, handled=False)
        return AuthResult(success=False, handled=False)

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


def raw_header(raw: bytes, name: str) -> list[str]:
    """Every value of header ``name`` in a message's raw bytes, unfolded (RFC 5322 2.2.3: a line break before
    whitespace is removed) and stripped, read without the email package's decoding of encoded words."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unfolded = re.sub(r"\r\n(?=[ \t])", "", head)
    prefix = f"{name.lower()}:"
    return [line[len(prefix) :].strip() for line in unfolded.split("\r\n") if line.lower().startswith(prefix)]


@dataclass(frozen=True, slots=True)
class RunningSmtp:
    fake: FakeSmtp
    host: str
    port: int
    ca_file: Path

    def url(self, *, scheme: str = "smtp+starttls", login: bool = True) -> str:
        credentials = f"{USERNAME}:{PASSWORD.replace('ä', '%C3%A4')}@" if login else ""
        return f"{scheme}://{credentials}{self.host}:{self.port}"


@contextmanager
def running_smtp(
    tmp_path: Path,
    fake: FakeSmtp | None = None,
    *,
    auth_required: bool = True,
    tls: Literal["starttls", "implicit", "none"] = "starttls",
) -> Iterator[RunningSmtp]:
    """The server on 127.0.0.1 with a certificate for "localhost" and 127.0.0.1 from a test CA: offering
    STARTTLS (like port 587), TLS from the first byte (like 465), or no TLS at all (then no login either)."""
    fake = fake or FakeSmtp()
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    ca_file = tmp_path / "smtp-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    port = free_port()
    controller = Controller(
        fake,
        hostname="127.0.0.1",
        port=port,
        server_hostname="localhost",
        tls_context=context if tls == "starttls" else None,
        ssl_context=context if tls == "implicit" else None,
        require_starttls=False,
        auth_required=auth_required and tls != "none",
        # aiosmtpd counts only STARTTLS as TLS; on an implicit-TLS port every session is encrypted anyway.
        auth_require_tls=tls == "starttls",
        authenticator=fake.authenticate,
    )
    controller.start()
    try:
        yield RunningSmtp(fake, "127.0.0.1", port, ca_file)
    finally:
        controller.stop()
