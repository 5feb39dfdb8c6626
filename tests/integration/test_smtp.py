"""The SMTP client against a local server (aiosmtpd): the three ways of securing it, logins, and each kind of
answer a real server gives, as ``Delivery`` outcomes or a run-stopping error that never repeats the password."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.smtp import PASSWORD, USERNAME, running_smtp
from wyshbone.errors import SetupError
from wyshbone.providers.smtp import (
    SmtpSender,
    SmtpServer,
    SmtpUnavailableError,
    build_message,
    parse_smtp_url,
)


def mail(to: str = "owner@beanthere.co.uk") -> object:
    return build_message(
        sender_name="Sam Roaster",
        sender_email="sam@roastery.example",
        to=to,
        subject="Hello",
        text="Hello there\n",
        html="<p>Hello there</p>",
        message_key="wyshbone-1-0-abc",
        opt_out_url="https://leads.example/outreach/opt-out/t",
    )


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
        with pytest.raises(SmtpUnavailableError, match=r"cannot deliver through 127\.0\.0\.1"):
            await strict.send(mail())  # type: ignore[arg-type]
        assert smtp.fake.received == []
        # "smtp://" (STARTTLS when offered) sends in the clear to a server that offers none, as mail servers do.
        relaxed = SmtpSender(parse_smtp_url(smtp.url(scheme="smtp", login=False)), timeout=5)
        assert (await relaxed.send(mail())).outcome == "sent"  # type: ignore[arg-type]
        assert not smtp.fake.received[0].tls


async def test_an_untrusted_certificate_stops_the_run(tmp_path: Path) -> None:
    with running_smtp(tmp_path) as smtp:
        sender = SmtpSender(parse_smtp_url(smtp.url()), timeout=5)  # the test CA is not trusted
        with pytest.raises(SmtpUnavailableError, match="CERTIFICATE_VERIFY_FAILED"):
            await sender.send(mail())  # type: ignore[arg-type]
        assert smtp.fake.received == []


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
    with pytest.raises(SmtpUnavailableError, match=r"cannot deliver through 127\.0\.0\.1"):
        await SmtpSender(parse_smtp_url(url), timeout=2).send(mail())  # type: ignore[arg-type]
