"""The SMTP client against a local server (aiosmtpd): the three ways of securing it, logins, and each kind of
answer a real server gives, as ``Delivery`` outcomes or a run-stopping error that never repeats the password."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from tests.fakes.smtp import PASSWORD, USERNAME, raw_header, running_smtp
from tests.integration.test_providers_e2e import FakeResolver
from wyshbone.errors import SetupError
from wyshbone.providers.smtp import (
    SmtpSender,
    SmtpServer,
    SmtpUnavailableError,
    UnsendableMessageError,
    build_message,
    parse_smtp_url,
)

OPT_OUT = "https://leads.example/outreach/opt-out/t"


def mail(to: str = "owner@beanthere.co.uk", **fields: str) -> object:
    values = {
        "sender_name": "Sam Roaster",
        "sender_email": "sam@roastery.example",
        "to": to,
        "subject": "Hello",
        "text": "Hello there\n",
        "html": "<p>Hello there</p>",
        "message_key": "wyshbone-1-0-abc",
        "opt_out_url": OPT_OUT,
        **fields,
    }
    return build_message(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example", SmtpServer("mail.example", 587, "auto")),
        (
            "smtp+starttls://me:p%40ss@mail.example:2525",
            SmtpServer("mail.example", 2525, "starttls", "me", "p@ss"),
        ),
        ("smtps://me@mail.example", SmtpServer("mail.example", 465, "tls", "me")),
    ],
)
def test_parse_smtp_url_reads_security_port_and_login(url: str, expected: SmtpServer) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://", "mail.example:587", "smtp://h:99999"])
def test_an_unusable_smtp_url_names_the_setting_and_not_the_password(url: str) -> None:
    with pytest.raises(SetupError, match="WYSHBONE_SMTP_URL") as caught:
        parse_smtp_url(url.replace("://", "://me:hunter2@", 1) if "://" in url else url)
    assert "hunter2" not in str(caught.value)


def test_the_server_repr_hides_the_password() -> None:
    assert PASSWORD not in repr(parse_smtp_url(f"smtps://{USERNAME}:{PASSWORD}@mail.example"))


@pytest.mark.parametrize(
    ("tls", "scheme"), [("starttls", "smtp"), ("starttls", "smtp+starttls"), ("implicit", "smtps")]
)
async def test_delivery_over_each_kind_of_tls_with_a_login(tmp_path: Path, tls: str, scheme: str) -> None:
    with running_smtp(tmp_path, tls=tls) as smtp:  # type: ignore[arg-type]
        sender = SmtpSender(parse_smtp_url(smtp.url(scheme=scheme)), ca_file=smtp.ca_file, timeout=5)
        delivery = await sender.send(mail())  # type: ignore[arg-type]
        assert (delivery.outcome, delivery.reply) == ("sent", "250 2.0.0 Ok: queued as FAKE0001")
        (received,) = smtp.fake.received
        assert received.authenticated and received.rcpt_tos == ["owner@beanthere.co.uk"]
        assert smtp.fake.logins == [(USERNAME, "PLAIN")]
        assert received.message["Message-ID"] == "<wyshbone-1-0-abc@roastery.example>"


async def test_starttls_required_refuses_a_server_that_does_not_offer_it(tmp_path: Path) -> None:
    with running_smtp(tmp_path, tls="none") as smtp:
        strict = SmtpSender(parse_smtp_url(smtp.url(scheme="smtp+starttls", login=False)), timeout=5)
        with pytest.raises(SmtpUnavailableError) as caught:
            await strict.send(mail())  # type: ignore[arg-type]
        assert caught.value.message == (
            f"cannot deliver through 127.0.0.1:{smtp.port}: the SMTP server does not offer an encrypted "
            "connection, and the settings require one (details: check WYSHBONE_SMTP_URL; SMTPException: SMTP "
            "STARTTLS extension not supported by server.)"
        )
        assert smtp.fake.received == []
        # "smtp://" (STARTTLS when offered) sends in the clear to a server that offers none, as mail servers do.
        relaxed = SmtpSender(parse_smtp_url(smtp.url(scheme="smtp", login=False)), timeout=5)
        assert (await relaxed.send(mail())).outcome == "sent"  # type: ignore[arg-type]
        assert not smtp.fake.received[0].tls


async def test_an_untrusted_certificate_stops_the_run(tmp_path: Path) -> None:
    with running_smtp(tmp_path) as smtp:
        sender = SmtpSender(parse_smtp_url(smtp.url()), timeout=5)  # the test CA is not trusted
        with pytest.raises(SmtpUnavailableError) as caught:
            await sender.send(mail())  # type: ignore[arg-type]
        assert smtp.fake.received == []
    # The rest of the details is OpenSSL's, and varies with its version.
    assert caught.value.message.startswith(
        f"cannot deliver through 127.0.0.1:{smtp.port}: the SMTP server's certificate is not trusted (details: "
        "check WYSHBONE_SMTP_CA_FILE; SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] "
    )


async def test_a_wrong_password_stops_the_run_without_repeating_it(tmp_path: Path) -> None:
    with running_smtp(tmp_path) as smtp:
        url = smtp.url().replace("s3cret", "n0t-the-password")
        with pytest.raises(SmtpUnavailableError, match="refused the login: 535") as caught:
            await SmtpSender(parse_smtp_url(url), ca_file=smtp.ca_file, timeout=5).send(mail())  # type: ignore[arg-type]
        assert "n0t-the-password" not in str(caught.value)


async def test_recipient_answers_become_outcomes(tmp_path: Path) -> None:
    with running_smtp(tmp_path) as smtp:
        smtp.fake.bounce.add("gone@beanthere.co.uk")
        smtp.fake.defer.add("busy@beanthere.co.uk")
        sender = SmtpSender(parse_smtp_url(smtp.url()), ca_file=smtp.ca_file, timeout=5)
        bounced = await sender.send(mail("gone@beanthere.co.uk"))  # type: ignore[arg-type]
        deferred = await sender.send(mail("busy@beanthere.co.uk"))  # type: ignore[arg-type]
        assert (bounced.outcome, bounced.reply[:9]) == ("bounced", "550 5.1.1")
        assert (deferred.outcome, deferred.reply[:9]) == ("failed", "451 4.3.0")
        assert smtp.fake.received == []


async def test_nothing_listening_stops_the_run(tmp_path: Path) -> None:
    with running_smtp(tmp_path) as smtp:
        url = smtp.url()
    with pytest.raises(SmtpUnavailableError, match=r"cannot deliver through 127\.0\.0\.1") as caught:
        await SmtpSender(parse_smtp_url(url), timeout=2).send(mail())  # type: ignore[arg-type]
    assert PASSWORD not in caught.value.message


async def test_a_server_name_that_cannot_be_found_is_explained_plainly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The fake resolver knows no name: the lookup fails as an unknown name does, without a DNS query.
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", FakeResolver({}, loop.getaddrinfo).getaddrinfo)
    with pytest.raises(SmtpUnavailableError) as caught:
        await SmtpSender(parse_smtp_url("smtp://mail.nowhere.example:2525"), timeout=2).send(mail())  # type: ignore[arg-type]

    assert caught.value.message == (
        "cannot deliver through mail.nowhere.example:2525: the SMTP server's name could not be found (details: "
        "check WYSHBONE_SMTP_URL; SMTPConnectError: Error connecting to mail.nowhere.example on port 2525: "
        f"[Errno {socket.EAI_NONAME}] Name or service not known)"
    )


# --- what goes over the wire: one recipient, headers that hold ------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        # over 100 characters (an opt-out token for a long address, a long public URL): whole, never RFC
        # 2047-encoded (which is what the email package does to a long unbroken value)
        "https://outreach.leads.example/wyshbone/outreach/opt-out/" + "eyJhY2NvdW50IjoidS1jYWZlcyJ9" * 4,
        # as long as a line may be (998) with the header's name and the brackets
        "https://leads.example/outreach/opt-out/" + "x" * (998 - len("List-Unsubscribe: <>") - 39),
    ],
)
async def test_list_unsubscribe_goes_out_bracketed_and_unencoded_whatever_the_url_length(
    tmp_path: Path, url: str
) -> None:
    with running_smtp(tmp_path) as smtp:
        sender = SmtpSender(parse_smtp_url(smtp.url()), ca_file=smtp.ca_file, timeout=5)
        assert (await sender.send(mail(opt_out_url=url))).outcome == "sent"  # type: ignore[arg-type]
        (received,) = smtp.fake.received
    # RFC 2369 / RFC 8058, read from the bytes the server received (not through a decoding parser).
    assert raw_header(received.raw, "List-Unsubscribe") == [f"<{url}>"]
    assert raw_header(received.raw, "List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"]
    assert f"\r\nList-Unsubscribe: <{url}>\r\n".encode() in received.raw  # on one line, as it was set
    assert received.message["List-Unsubscribe"] == f"<{url}>"  # and so read back by a parser
    assert max(len(line) for line in received.raw.split(b"\r\n")) <= 998


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        # two addresses in To: a message has one recipient
        ({"to": "info@a.example, victim@evil.example"}, "the To address"),
        # a line break in To would start a Bcc header
        ({"to": "info@a.example\r\nBcc: victim@evil.example"}, "the To address"),
        # a display name is not a bare address
        ({"to": "Victim <victim@evil.example>"}, "the To address"),
        # nor is garbage
        ({"to": "nobody"}, "the To address"),
        # the sender's address from settings, checked the same way
        ({"sender_email": "sam@roastery.example, boss@roastery.example"}, "the From address"),
        # a line break in the subject or the sender's name
        ({"subject": "Hello\r\nBcc: victim@evil.example"}, "the Subject header"),
        ({"sender_name": "Sam\nBcc: victim@evil.example"}, "the From header"),
        # a key that does not fit a Message-ID
        ({"message_key": "wyshbone-1>\r\nBcc: x"}, "the Message-ID"),
        # an opt-out URL that would break out of its angle brackets, or is no URL, or is too long for a line
        ({"opt_out_url": "https://leads.example/x>, <mailto:victim@evil.example"}, "the opt-out URL"),
        ({"opt_out_url": "javascript:alert(1)"}, "the opt-out URL"),
        ({"opt_out_url": "https://leads.example/" + "x" * 1000}, "the opt-out URL"),
    ],
)
def test_build_message_refuses_a_value_that_would_break_a_header(
    fields: dict[str, str], refusal: str
) -> None:
    with pytest.raises(UnsendableMessageError, match=refusal):
        mail(**fields)


async def test_a_message_goes_to_its_one_recipient_and_no_other(tmp_path: Path) -> None:
    built = mail("Owner@BeanThere.co.uk")
    with running_smtp(tmp_path) as smtp:
        sender = SmtpSender(parse_smtp_url(smtp.url()), ca_file=smtp.ca_file, timeout=5)
        assert (await sender.send(built)).outcome == "sent"  # type: ignore[arg-type]
        # Headers added after building (a Cc, a Bcc) do not add recipients: the envelope is the To address.
        built["Cc"] = "victim@evil.example"  # type: ignore[index]
        assert (await sender.send(built)).outcome == "sent"  # type: ignore[arg-type]
    assert smtp.fake.rcpts == ["owner@beanthere.co.uk", "owner@beanthere.co.uk"]
    assert [r.rcpt_tos for r in smtp.fake.received] == [["owner@beanthere.co.uk"]] * 2
