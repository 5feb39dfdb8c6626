"""Outreach: drafting and sending, each against the bare library doing the same work.

- Drafting 1,000 leads × 3 steps (``draft_sequence``: choose the address, check suppressions, render subject,
  text and autoescaped HTML in a sandbox, add the footer) against plain Jinja2 rendering the same templates,
  compiled once, with the same fields.
- Sending 200 messages through ``Outreach.send`` (due check, daily cap, re-check suppressions, claim, send,
  record the reply: five store round trips a message) against aiosmtplib sending the same messages one after
  another, both to a local SMTP server with STARTTLS and login, one connection per message.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from pathlib import Path

from jinja2 import Environment
from tests.fakes.smtp import running_smtp

from wyshbone.bootstrap import open_context
from wyshbone.config import Settings
from wyshbone.domain.models import ContactEmail, Lead, LeadGenGoal, LeadGenPlan
from wyshbone.domain.outreach import DEFAULT_STEPS, Draft, Sender, draft_sequence, template_fields
from wyshbone.providers.smtp import SmtpSender, build_message, parse_smtp_url
from wyshbone.storage import Repositories

DRAFT_LEADS = 1000
SEND_MESSAGES = 200
SENDER = Sender(name="Sam Roaster", email="sam@roastery.example", company="Good Roast", address="1 Mill Lane")
Row = tuple[str, float, str]


def _leads(n: int) -> list[Lead]:
    return [
        Lead(
            name=f"Bench Café {i} & <Co>",
            source="bench",
            source_id=f"bench:{i}",
            postcode=f"M1 {i % 9 + 1}AA",
            post_town="Manchester",
            emails=[
                ContactEmail(
                    value=f"owner{i}@benchcafe{i}.co.uk", source="hunter", verification="valid"
                ).to_json_dict()
            ],
        )
        for i in range(n)
    ]


def _draft(leads: list[Lead]) -> float:
    started = time.perf_counter()
    draft_sequence(
        leads,
        DEFAULT_STEPS,
        SENDER,
        suppressions={("domain", "nobody.example"): "manual"},
        opt_out_url=lambda email: f"https://leads.example/outreach/opt-out/{email}",
        persona="coffee shop",
    )
    return time.perf_counter() - started


def _plain_jinja(leads: list[Lead]) -> float:
    text, html = Environment(autoescape=False), Environment(autoescape=True)
    compiled = [
        (text.from_string(s.subject), text.from_string(s.body), html.from_string(s.body))
        for s in DEFAULT_STEPS
    ]
    started = time.perf_counter()
    for lead in leads:
        contact = ContactEmail.model_validate(lead.emails[0])
        fields = template_fields(lead, contact, SENDER, "coffee shop")
        for subject, body, body_html in compiled:
            subject.render(fields), body.render(fields), body_html.render(fields)
    return time.perf_counter() - started


async def _drafted(repos: Repositories) -> tuple[int, list[Draft]]:
    """A list of ``SEND_MESSAGES`` leads with one draft each, stored as a plan's outreach would store it."""
    plan = LeadGenPlan(id="bench-outreach", user_id="bench", goal=LeadGenGoal(raw_goal="bench"), steps=[])
    await repos.plans.save(plan)
    leads = _leads(SEND_MESSAGES)
    saved = await repos.leads.save(plan_id=plan.id, step_id="save", list_name="Bench", leads=leads)
    drafts, _ = draft_sequence(
        leads, DEFAULT_STEPS[:1], SENDER, suppressions={}, opt_out_url=lambda e: f"https://x/o/{e}"
    )
    await repos.outreach.create_sequence(
        plan_id=plan.id,
        step_id="outreach",
        list_id=saved.list_id,
        account_id="bench",
        steps=DEFAULT_STEPS[:1],
        sender=SENDER,
        drafts=drafts,
        skipped=[],
    )
    return saved.list_id, drafts


async def _send(tmp: Path) -> tuple[float, float, int]:
    with running_smtp(tmp) as smtp:
        settings = Settings(
            home=tmp / "home",
            database_url=f"sqlite:///{tmp / 'bench-outreach.sqlite'}",
            smtp_url=smtp.url(),
            smtp_ca_file=smtp.ca_file,
            outreach_gap_seconds=0,
            outreach_daily_cap=10 * SEND_MESSAGES,
            sender_name=SENDER.name,
            sender_email=SENDER.email,
            sender_address=SENDER.address,
        )
        sup = await open_context(settings)
        try:
            list_id, drafts = await _drafted(sup.repos)
            started = time.perf_counter()
            report = await sup.outreach.send(list_id)
            ours = time.perf_counter() - started
            assert report.sent == SEND_MESSAGES, report

            sender = SmtpSender(parse_smtp_url(smtp.url()), ca_file=smtp.ca_file)
            started = time.perf_counter()
            for number, d in enumerate(drafts):
                mail = build_message(
                    sender_name=SENDER.name,
                    sender_email=SENDER.email or "",
                    to=d.email,
                    subject=d.subject,
                    text=d.text,
                    html=d.html,
                    message_key=f"bare-bench-{number}",
                    opt_out_url="https://x/o",
                )
                assert (await sender.send(mail)).outcome == "sent"
            bare = time.perf_counter() - started
            return ours, bare, len(smtp.fake.received)
        finally:
            await sup.close()


def run() -> list[Row]:
    leads = _leads(DRAFT_LEADS)
    _draft(leads[:50]), _plain_jinja(leads[:50])  # warm both up
    drafted = min(_draft(leads) for _ in range(3))
    plain = min(_plain_jinja(leads) for _ in range(3))
    # aiosmtpd warns of its own deprecated Session.login_data at every login: 400 lines of noise here.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        ours, bare, received = asyncio.run(_send(Path(tmp)))
    per_lead_ms = drafted / DRAFT_LEADS * 1000
    return [
        (
            "drafting 1,000 leads × 3 steps",
            drafted / plain,
            f"{drafted:.2f} s ({per_lead_ms:.2f} ms a lead); plain Jinja2, same renders: {plain:.2f} s; "
            f"ratio {drafted / plain:.2f}",
        ),
        (
            f"sending {SEND_MESSAGES} messages (STARTTLS + login each)",
            ours / bare,
            f"{ours:.2f} s ({SEND_MESSAGES / ours:.0f}/s) against bare aiosmtplib {bare:.2f} s "
            f"({SEND_MESSAGES / bare:.0f}/s); ratio {ours / bare:.2f} (the store's round trips; the default "
            f"30 s gap between messages dwarfs both); the server received {received}",
        ),
    ]


if __name__ == "__main__":
    for name, _, text in run():
        print(f"{name}: {text}")
