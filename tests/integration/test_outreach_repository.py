"""The outreach repository: on SQLite, on Postgres and in memory, a sequence is made once, a message is claimed
once and moves only from where it is, and a suppression stops what it covers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import EVERY_BACKEND
from wyshbone.domain.models import LeadGenGoal, LeadGenPlan
from wyshbone.domain.outreach import (
    SENDABLE,
    Draft,
    Sender,
    SequenceStep,
    Skipped,
    SuppressionReason,
    suppression_entry,
)
from wyshbone.errors import NotFoundError
from wyshbone.storage import Repositories
from wyshbone.storage.outreach import SENDING

pytestmark = pytest.mark.parametrize("store_url", EVERY_BACKEND, indirect=True)

ACCOUNT = "u"
SENDER = Sender(name="Sam", email="sam@roastery.example", address="1 Mill Lane")
STEPS = [
    SequenceStep(key="intro", day=0, subject="Hello", body="Hi"),
    SequenceStep(key="follow_up", day=3, subject="Again", body="Hi again"),
]
CAFES = {"k-bean": ("Bean There", "hello@beanthere.co.uk"), "k-brew": ("Brew Hub", "jo@mail.brewhub.com")}


def drafts_for(*keys: str) -> list[Draft]:
    return [
        Draft(
            key,
            CAFES[key][0],
            CAFES[key][1],
            i,
            step.key,
            step.day,
            step.subject,
            step.body,
            f"<p>{step.body}</p>",
        )
        for key in keys
        for i, step in enumerate(STEPS)
    ]


NO_INBOX = Skipped("k-none", "No Inbox Cafe", None, "no email address found")


async def sequence_of(repos: Repositories, drafts: list[Draft], skipped: list[Skipped]) -> tuple[int, bool]:
    plan = LeadGenPlan(id="p1", user_id=ACCOUNT, goal=LeadGenGoal(raw_goal="g"), steps=[])
    await repos.plans.save(plan, session_id="s1")
    saved = await repos.leads.save(plan_id="p1", step_id="save", list_name="Cafes", leads=[])
    return await repos.outreach.create_sequence(
        plan_id="p1",
        step_id="outreach",
        list_id=saved.list_id,
        account_id=ACCOUNT,
        steps=STEPS,
        sender=SENDER,
        drafts=drafts,
        skipped=skipped,
    )


async def test_outreach_sequence_is_made_once_and_gains_only_new_leads(repos: Repositories) -> None:
    sequence_id, created = await sequence_of(repos, drafts_for("k-bean"), [NO_INBOX])
    assert created
    assert await repos.outreach.sequence_lead_keys(plan_id="p1", step_id="outreach") == {"k-bean", "k-none"}
    assert await repos.outreach.sequence_lead_keys(plan_id="p1", step_id="other") == set()
    # run again (a monitor found Brew Hub): the same sequence gains Brew Hub's drafts, the rest stays
    again, created = await sequence_of(repos, drafts_for("k-bean", "k-brew"), [])
    assert (again, created) == (sequence_id, False)
    sequence = await repos.outreach.sequence(sequence_id=sequence_id)
    assert sequence is not None
    assert (sequence.account_id, sequence.steps, sequence.sender) == (ACCOUNT, STEPS, SENDER)
    assert [(x.lead_name, x.status, x.reason) for x in sequence.leads] == [
        ("Bean There", "active", None),
        ("Brew Hub", "active", None),
        ("No Inbox Cafe", "skipped", "no email address found"),
    ]
    assert [(m.lead_name, m.step_key, m.status, m.attempts) for m in sequence.messages] == [
        ("Bean There", "intro", "draft", 0),
        ("Brew Hub", "intro", "draft", 0),
        ("Bean There", "follow_up", "draft", 0),
        ("Brew Hub", "follow_up", "draft", 0),
    ]
    assert len({m.idempotency_key for m in sequence.messages}) == 4
    by_list = await repos.outreach.sequence(list_id=sequence.list_id, items=False)
    assert by_list == sequence.model_copy(update={"leads": [], "messages": []})
    assert await repos.outreach.sequence(list_id=999) is None


async def test_outreach_a_message_is_claimed_once_and_moves_only_from_where_it_is(
    repos: Repositories,
) -> None:
    sequence_id, _ = await sequence_of(repos, drafts_for("k-bean"), [])
    queued = await repos.outreach.queued_messages(sequence_id)
    intro = queued[0].id
    # of ten senders at once, one claims the message
    claims = await asyncio.gather(
        *(repos.outreach.transition(intro, from_=SENDABLE, to=SENDING) for _ in range(10))
    )
    assert sorted(claims) == [False] * 9 + [True]
    message, html = await repos.outreach.outgoing(intro)
    assert (message.status, message.attempts, message.lead_name, html) == (
        "sending",
        1,
        "Bean There",
        "<p>Hi</p>",
    )
    now = datetime.now(UTC)
    assert await repos.outreach.sent_since(ACCOUNT, now - timedelta(minutes=1)) == 1  # being sent counts
    # only a message being sent can be finished; finished, it cannot be claimed again
    follow_up = queued[1].id
    assert not await repos.outreach.transition(follow_up, from_=SENDING, to="sent")
    sent_at = datetime(2026, 11, 2, 9, 0, 0, 123456, tzinfo=UTC)
    assert await repos.outreach.transition(intro, from_=SENDING, to="sent", reply="250 ok", sent_at=sent_at)
    assert not await repos.outreach.transition(intro, from_=SENDABLE, to=SENDING)
    message, _ = await repos.outreach.outgoing(intro)
    assert (message.status, message.reply, message.sent_at, message.attempts) == (
        "sent",
        "250 ok",
        sent_at,
        1,
    )
    assert await repos.outreach.sent_since(ACCOUNT, sent_at) == 1
    assert await repos.outreach.sent_since(ACCOUNT, sent_at + timedelta(microseconds=1)) == 0
    assert await repos.outreach.sent_since("someone-else", sent_at) == 0
    # a failed send may be claimed again, and each claim counts an attempt
    assert await repos.outreach.transition(follow_up, from_=SENDABLE, to=SENDING)
    assert await repos.outreach.transition(follow_up, from_=SENDING, to="failed", reply="421 busy")
    assert await repos.outreach.transition(follow_up, from_=SENDABLE, to=SENDING)
    states = {
        q.id: (q.status, q.attempts, q.sent_at) for q in await repos.outreach.queued_messages(sequence_id)
    }
    assert states == {intro: ("sent", 1, sent_at), follow_up: ("sending", 2, None)}
    assert not await repos.outreach.transition(999, from_=SENDABLE, to=SENDING)
    with pytest.raises(NotFoundError):
        await repos.outreach.outgoing(999)


async def test_outreach_suppressions_stop_what_they_cover_and_keep_their_first_reason(
    repos: Repositories,
) -> None:
    sequence_id, _ = await sequence_of(repos, drafts_for("k-bean", "k-brew"), [NO_INBOX])
    bean_intro = next(
        q.id for q in await repos.outreach.queued_messages(sequence_id) if q.lead_key == "k-bean"
    )
    assert await repos.outreach.transition(bean_intro, from_=SENDABLE, to=SENDING)
    assert await repos.outreach.transition(bean_intro, from_=SENDING, to="sent", sent_at=datetime.now(UTC))
    # a domain entry covers the domains below it: brewhub.com stops jo@mail.brewhub.com's two drafts
    entries = [suppression_entry("brewhub.com", SuppressionReason.MANUAL)]
    assert await repos.outreach.add_suppressions(ACCOUNT, entries) == 2
    # an entry already on the list keeps its first reason, and a lead already stopped stops nothing more
    again = [suppression_entry("brewhub.com", SuppressionReason.OPTED_OUT)]
    assert await repos.outreach.add_suppressions(ACCOUNT, again, lead_status="opted_out") == 0
    assert await repos.outreach.suppressions(ACCOUNT) == {("domain", "brewhub.com"): "manual"}
    assert await repos.outreach.suppressions(ACCOUNT, email="Jo@Mail.BrewHub.com") == {
        ("domain", "brewhub.com"): "manual"
    }
    assert await repos.outreach.suppressions(ACCOUNT, email="hello@beanthere.co.uk") == {}
    assert await repos.outreach.suppressions("someone-else") == {}
    # Bean There replies: its unsent follow-up stops, its sent intro stays sent
    assert (
        await repos.outreach.stop_lead(
            sequence_id, " HELLO@beanthere.co.uk", status="replied", reason="replied"
        )
        == 1
    )
    assert (
        await repos.outreach.stop_lead(sequence_id, "hello@beanthere.co.uk", status="replied", reason="again")
        == 0
    )
    sequence = await repos.outreach.sequence(sequence_id=sequence_id)
    assert sequence is not None
    assert [(x.lead_name, x.status, x.reason) for x in sequence.leads] == [
        ("Bean There", "replied", "replied"),
        ("Brew Hub", "suppressed", "manual: brewhub.com"),
        ("No Inbox Cafe", "skipped", "no email address found"),
    ]
    assert sorted((m.lead_name, m.step_key, m.status) for m in sequence.messages) == [
        ("Bean There", "follow_up", "stopped"),
        ("Bean There", "intro", "sent"),
        ("Brew Hub", "follow_up", "stopped"),
        ("Brew Hub", "intro", "stopped"),
    ]
    assert await repos.outreach.queued_messages(sequence_id) == []  # no active lead is left
    address = [suppression_entry("hello@beanthere.co.uk", SuppressionReason.OPTED_OUT)]
    assert await repos.outreach.add_suppressions(ACCOUNT, address) == 0
    listed = await repos.outreach.list_suppressions(ACCOUNT)
    assert [(s.kind.value, s.value, s.reason.value) for s in listed] == [
        ("domain", "brewhub.com", "manual"),
        ("address", "hello@beanthere.co.uk", "opted_out"),
    ]
    assert all(s.created_at is not None for s in listed)
    with pytest.raises(NotFoundError):
        await repos.outreach.stop_lead(999, "x@y.z", status="replied", reason="replied")
