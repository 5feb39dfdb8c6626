"""Outreach and monitors through ``services`` and the web app: timing, caps, bounces, opt-outs, claims, failures,
the scheduler and the API. The same cafés, fakes and settings as the end-to-end CLI test."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Update, create_engine, update

from tests.conftest import EVERY_BACKEND
from tests.fakes.cafes import GOAL, NEW_CAFES, WRITTEN_TO, World, list_id_of
from tests.fakes.hunter import Company
from tests.fakes.smtp import raw_header
from wyshbone.bootstrap import AppContext
from wyshbone.config import Settings
from wyshbone.domain.models import LeadGenExecutionResult, SupervisorUserContext
from wyshbone.domain.outreach import SuppressionReason
from wyshbone.errors import ConflictError, NotFoundError
from wyshbone.services.sending import InProcessSends
from wyshbone.storage import tables
from wyshbone.storage.db import sync_url
from wyshbone.web import create_app

pytestmark = pytest.mark.data

USER = SupervisorUserContext(user_id="u-cafes")
SESSION = "session-cafes-0001"
EVERYONE = {*WRITTEN_TO, "hello@quietplease.co.uk", "sales@blockedbrew.co.uk"}
"""Nothing is suppressed in these tests: five cafés have an address."""
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EVERY_BACKEND_TOO = pytest.mark.parametrize("store_url", EVERY_BACKEND, indirect=True)


@dataclass
class Clock:
    now: datetime = T0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def run_goal(sup: AppContext) -> tuple[str, int, LeadGenExecutionResult]:
    plan = await sup.plans.start_plan(GOAL, USER, session_id=SESSION)
    result = await sup.plans.run_plan(await sup.plans.approve_plan(plan.id), USER)
    return plan.id, list_id_of(result.model_dump(mode="json", by_alias=True)), result


def set_columns(store_url: str, statement: Update) -> None:
    """Change stored rows behind the application's back (a state no use case leaves them in)."""
    engine = create_engine(sync_url(store_url))
    try:
        with engine.begin() as conn:
            conn.execute(statement)
    finally:
        engine.dispose()


def statuses(sequence: object) -> dict[tuple[str, str], str]:
    return {(m.email, m.step_key): m.status for m in sequence.messages}  # type: ignore[attr-defined]


# --- outreach -----------------------------------------------------------------------------------------------


@EVERY_BACKEND_TOO  # outreach and monitors keep their state in the in-memory repositories as well
async def test_follow_ups_wait_for_their_day_keep_the_gap_and_stop_for_a_reply(
    world: World, sup: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, list_id, _ = await run_goal(sup)
    clock = Clock()
    settings = sup.settings.model_copy(update={"outreach_gap_seconds": 30.0})
    outreach = replace(sup.outreach, settings=settings, clock=clock, sleep=clock.sleep)

    first = await outreach.send(list_id)
    assert (first.due, first.sent) == (5, 5)
    assert clock.slept == [30.0] * 4  # a gap between messages, none before the first
    assert {m.step_key for m in first.messages} == {"intro"}

    clock.advance(days=2, hours=23)  # the follow-up is on day 3
    assert (await outreach.send(list_id)).due == 0

    stopped = await outreach.mark_replied(list_id, "Hello@BeanThere.co.uk")
    assert stopped == 2  # its follow-up and last note
    clock.advance(hours=1)
    follow_ups = await outreach.send(list_id)
    assert sorted(m.email for m in follow_ups.messages) == sorted(EVERYONE - {"hello@beanthere.co.uk"})
    assert {m.step_key for m in follow_ups.messages} == {"follow_up"}

    clock.advance(days=4)  # day 7: the last note
    last = await outreach.send(list_id)
    assert {m.step_key for m in last.messages} == {"last_note"} and last.sent == 4
    clock.advance(days=30)
    assert (await outreach.send(list_id)).due == 0
    # Every message went out once: 5 intros, 4 follow-ups, 4 last notes.
    assert len(world.smtp.fake.received) == 13
    assert len({r.message["Message-ID"] for r in world.smtp.fake.received}) == 13
    sequence = await outreach.sequence(list_id)
    bean = next(lead for lead in sequence.leads if lead.email == "hello@beanthere.co.uk")
    assert (bean.status, statuses(sequence)[("hello@beanthere.co.uk", "follow_up")]) == ("replied", "stopped")


async def test_the_daily_cap_leaves_the_rest_for_the_next_day(
    world: World, sup: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, list_id, _ = await run_goal(sup)
    settings = sup.settings.model_copy(update={"outreach_daily_cap": 2})
    clock = Clock()
    outreach = replace(sup.outreach, settings=settings, clock=clock, sleep=clock.sleep)
    today = await outreach.send(list_id)
    assert (today.due, today.sent, today.capped) == (5, 2, 3)
    later = await outreach.send(list_id)
    assert (later.sent, later.capped) == (0, 3)
    clock.advance(days=1)
    tomorrow = await outreach.send(list_id)
    assert (tomorrow.due, tomorrow.sent, tomorrow.capped) == (3, 2, 1)
    assert len(world.smtp.fake.received) == 4


async def test_a_hard_bounce_suppresses_the_address_and_stops_its_sequence(
    world: World, sup: AppContext
) -> None:
    _, list_id, _ = await run_goal(sup)
    world.smtp.fake.bounce.add("hello@beanthere.co.uk")
    report = await replace(sup.outreach, clock=Clock()).send(list_id)
    assert (report.sent, report.failed) == (4, 1)
    bounced = next(m for m in report.messages if m.email == "hello@beanthere.co.uk")
    assert bounced.status == "bounced" and bounced.reply is not None and bounced.reply.startswith("550 5.1.1")
    suppressed = await sup.outreach.suppressions(USER.user_id)
    assert [(s.value, s.reason.value) for s in suppressed] == [("hello@beanthere.co.uk", "hard_bounce")]
    sequence = await sup.outreach.sequence(list_id)
    assert statuses(sequence)[("hello@beanthere.co.uk", "follow_up")] == "stopped"


async def test_a_deferred_message_fails_and_is_retried_by_the_next_send(
    world: World, sup: AppContext
) -> None:
    _, list_id, _ = await run_goal(sup)
    world.smtp.fake.defer.add("info@teaandcake.co.uk")
    outreach = replace(sup.outreach, clock=Clock())
    first = await outreach.send(list_id)
    deferred = next(m for m in first.messages if m.email == "info@teaandcake.co.uk")
    assert (deferred.status, deferred.attempts) == ("failed", 1)
    assert deferred.reply is not None and deferred.reply.startswith("451")
    world.smtp.fake.defer.clear()
    second = await outreach.send(list_id)
    assert [(m.email, m.status, m.attempts) for m in second.messages] == [
        ("info@teaandcake.co.uk", "sent", 2)
    ]
    assert len(world.smtp.fake.to("info@teaandcake.co.uk")) == 1


async def test_an_address_claimed_at_hunter_is_suppressed_when_drafting(
    world: World, sup: AppContext
) -> None:
    # Hunter has not verified Bean There's address; its verifier answers 451: the owner opted out at Hunter.
    unverified = dict(world.hunter.companies["beanthere.co.uk"].emails[0], verification={"status": None})
    world.hunter.companies["beanthere.co.uk"] = Company("Bean There", (unverified,))
    world.hunter.claimed.add("hello@beanthere.co.uk")
    _, list_id, result = await run_goal(sup)
    outreach_step = next(r for r in result.step_results if r.step_id == "email_sequence_setup_1")
    assert outreach_step.data is not None and outreach_step.data["verified"] == 1
    sequence = await sup.outreach.sequence(list_id)
    bean = next(lead for lead in sequence.leads if lead.lead_name == "Bean There")
    assert bean.status == "suppressed" and "hunter_451" in (bean.reason or "")
    assert [(s.value, s.reason.value) for s in await sup.outreach.suppressions(USER.user_id)] == [
        ("hello@beanthere.co.uk", "hunter_451")
    ]
    assert not any(m.email == "hello@beanthere.co.uk" for m in sequence.messages)


# --- addresses from providers: one recipient, headers that hold ---------------------------------------------

PROBE = "victim@evil.example"
"""The address a security probe slipped into Hunter's answers."""


def opt_out_url(body: str) -> str:
    return next(word for word in body.split() if "/outreach/opt-out/" in word)


async def test_provider_values_with_two_addresses_or_a_line_break_reach_one_recipient_and_no_header(
    world: World, sup: AppContext
) -> None:
    world.hunter.answer_with("beanthere.co.uk", f"hello@beanthere.co.uk, {PROBE}")
    world.hunter.answer_with("teaandcake.co.uk", f"info@teaandcake.co.uk\r\nBcc: {PROBE}")
    _, list_id, _ = await run_goal(sup)
    drafted = await sup.outreach.sequence(list_id)
    leads = {lead.lead_name: (lead.email, lead.status) for lead in drafted.leads}
    # Two addresses in one value are two contacts: Bean There is written to at one of them. The value with a
    # line break is refused whole: Tea & Cake has no address, so no drafts.
    assert leads["Bean There"] == ("hello@beanthere.co.uk", "active")
    assert leads["Tea & <Cake>"] == (None, "skipped")

    report = await replace(sup.outreach, clock=Clock()).send(list_id)

    assert (report.due, report.sent, report.failed) == (4, 4, 0)
    fake = world.smtp.fake
    assert sorted(fake.rcpts) == sorted(EVERYONE - {"info@teaandcake.co.uk"})  # one RCPT per message
    assert [r.rcpt_tos for r in fake.received] == [[rcpt] for rcpt in fake.rcpts]
    for received in fake.received:
        assert PROBE.encode() not in received.raw and raw_header(received.raw, "Bcc") == []
        # RFC 8058 one-click, as the bytes went: the URL (over 100 characters) whole in its brackets.
        url = opt_out_url(received.message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
        assert len(url) > 100
        assert raw_header(received.raw, "List-Unsubscribe") == [f"<{url}>"]
        assert raw_header(received.raw, "List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"]
    after = statuses(await sup.outreach.sequence(list_id))
    assert {(step, status) for (_, step), status in after.items()} == {
        ("intro", "sent"),
        ("follow_up", "draft"),
        ("last_note", "draft"),
    }


async def test_a_message_that_cannot_be_built_fails_with_its_reason_and_the_run_goes_on(
    world: World, sup: AppContext, store_url: str
) -> None:
    _, list_id, _ = await run_goal(sup)
    # Drafts made before addresses were checked hold what the provider said as the address written to.
    stored = {
        "hello@beanthere.co.uk": f"hello@beanthere.co.uk, {PROBE}",
        "info@teaandcake.co.uk": f"info@teaandcake.co.uk\r\nbcc: {PROBE}",
    }
    messages = tables.outreach_messages
    for address, value in stored.items():
        set_columns(store_url, update(messages).where(messages.c.email == address).values(email=value))

    report = await replace(sup.outreach, clock=Clock()).send(list_id)

    assert (report.due, report.sent, report.failed) == (5, 3, 2)
    failed = {m.email: (m.status, m.attempts) for m in report.messages if m.status != "sent"}
    assert failed == {value: ("failed", 1) for value in stored.values()}
    for message in report.messages:
        if message.status == "failed":
            assert (message.reply or "").startswith(
                f"not sent: the To address {message.email!r} is not usable: "
            )
    fake = world.smtp.fake
    assert sorted(fake.rcpts) == sorted(EVERYONE - set(stored))
    assert all(PROBE.encode() not in r.raw for r in fake.received)
    # Nothing is left "sending": the two wait, failed, for the next run, which refuses them again.
    again = await replace(sup.outreach, clock=Clock()).send(list_id)
    assert [(m.email, m.status, m.attempts) for m in again.messages] == [
        (value, "failed", 2) for value in stored.values()
    ]
    intros = {
        email: s
        for (email, step), s in statuses(await sup.outreach.sequence(list_id)).items()
        if step == "intro"
    }
    assert intros == {
        **dict.fromkeys(EVERYONE - set(stored), "sent"),
        **dict.fromkeys(stored.values(), "failed"),
    }


async def test_a_background_send_that_crashes_is_logged_and_forgotten(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def crash() -> None:
        raise RuntimeError("the database went away")

    loop = asyncio.get_running_loop()
    unretrieved: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _, context: unretrieved.append(context))
    try:
        sends = InProcessSends(outreach=None)  # type: ignore[arg-type]  # never reached: the work is given
        task = sends.run_in_background(crash(), list_id=7)
        assert await sends.sending(7)
        await asyncio.wait([task])
        await asyncio.sleep(0)  # the done-callbacks run
        del task
        gc.collect()  # an exception never retrieved is reported when its task is collected
    finally:
        loop.set_exception_handler(None)
    assert not await sends.sending(7) and unretrieved == []
    assert [
        (r.levelname, r.getMessage(), r.exc_info[0] if r.exc_info else None)
        for r in caplog.records
        if r.name == "wyshbone.services"
    ] == [("ERROR", "outreach send for list 7 crashed: the database went away", RuntimeError)]


# --- the web: opt-out links and the API -------------------------------------------------------------------


@pytest.fixture
async def web(world: World, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("WYSHBONE_MONITOR_TICK_SECONDS", "0")  # only the tests run monitors, when they mean to
    application = create_app(Settings())
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


def opt_out_path(body: str) -> str:
    url = next(word for word in body.split() if "/outreach/opt-out/" in word)
    return url.removeprefix("https://leads.example")


async def test_an_opt_out_link_suppresses_the_address_and_stops_its_messages(
    web: httpx.AsyncClient, sup: AppContext
) -> None:
    _, list_id, _ = await run_goal(sup)
    sequence = await sup.outreach.sequence(list_id)
    bean = next(m for m in sequence.messages if m.email == "hello@beanthere.co.uk")
    # Visiting the link (as a mail scanner would) only asks; the confirmation is a POST.
    page = await web.get(opt_out_path(bean.body_text))
    assert (
        page.status_code == 200 and "Stop these emails?" in page.text and "hello@beanthere.co.uk" in page.text
    )
    assert await sup.outreach.suppressions(USER.user_id) == []
    confirmed = await web.post(opt_out_path(bean.body_text), data={})
    assert confirmed.status_code == 200 and "You are opted out" in confirmed.text
    # RFC 8058 one-click: the mail program POSTs a form, with no session.
    grind = next(m for m in sequence.messages if m.email == "maya@northerngrind.co.uk")
    click = await web.post(opt_out_path(grind.body_text), data={"List-Unsubscribe": "One-Click"})
    assert click.status_code == 200
    entries = {(s.value, s.reason.value) for s in await sup.outreach.suppressions(USER.user_id)}
    assert entries == {("hello@beanthere.co.uk", "opted_out"), ("maya@northerngrind.co.uk", "opted_out")}
    after = await sup.outreach.sequence(list_id)
    assert {s for (email, _), s in statuses(after).items() if email in entries_emails(entries)} == {"stopped"}
    tampered = opt_out_path(bean.body_text)[:-3] + "xyz"
    for refused in (await web.get(tampered), await web.post(tampered, data={})):
        assert refused.status_code == 400 and "not valid" in refused.text


def entries_emails(entries: set[tuple[str, str]]) -> set[str]:
    return {value for value, _ in entries}


@EVERY_BACKEND_TOO  # outreach and monitors keep their state in the in-memory repositories as well
async def test_the_outreach_api_shows_sends_and_stops_for_its_own_session_only(
    web: httpx.AsyncClient, world: World
) -> None:
    me, other = {"X-Session-Id": SESSION}, {"X-Session-Id": "session-someone-else"}
    started = (await web.post("/api/plan/start", json={"goal": GOAL}, headers=me)).json()
    await web.post(f"/api/plan/{started['planId']}/approve", json={}, headers=me)
    for _ in range(400):
        result = await web.get(f"/api/plan/{started['planId']}/result", headers=me)
        if result.status_code == 200:
            break
        await asyncio.sleep(0.02)
    list_id = list_id_of(result.json())
    shown = await web.get(f"/api/lists/{list_id}/outreach", headers=me)
    assert (
        shown.status_code == 200 and len(shown.json()["messages"]) == 15 and shown.json()["sending"] is False
    )
    assert (await web.get(f"/api/lists/{list_id}/outreach", headers=other)).status_code == 404
    assert (await web.post(f"/api/lists/{list_id}/outreach/send", json={}, headers=other)).status_code == 404

    sending = await web.post(f"/api/lists/{list_id}/outreach/send", json={}, headers=me)
    assert sending.status_code == 202 and sending.json() == {"listId": list_id, "due": 5}
    for _ in range(400):
        messages = (await web.get(f"/api/lists/{list_id}/outreach", headers=me)).json()["messages"]
        if sum(m["status"] == "sent" for m in messages) == 5:
            break
        await asyncio.sleep(0.02)
    assert len(world.smtp.fake.received) == 5
    replied = await web.post(
        f"/api/lists/{list_id}/outreach/replied", json={"email": "hello@beanthere.co.uk"}, headers=me
    )
    assert replied.json() == {"stopped": 2}
    suppress = await web.post("/api/suppressions", json={"values": ["northerngrind.co.uk"]}, headers=me)
    assert suppress.json() == {"stopped": 2}
    listed = (await web.get("/api/suppressions", headers=me)).json()
    assert listed[0] | {"createdAt": None} == {
        "kind": "domain",
        "value": "northerngrind.co.uk",
        "reason": "manual",
        "createdAt": None,
    }
    assert (await web.get("/api/suppressions", headers=other)).json() == []
    bad = await web.post("/api/suppressions", json={"values": ["nope"]}, headers=me)
    assert bad.status_code == 400 and "neither an email address nor a domain" in bad.json()["detail"]


# --- monitors ----------------------------------------------------------------------------------------------


@EVERY_BACKEND_TOO  # outreach and monitors keep their state in the in-memory repositories as well
async def test_a_failed_monitor_run_is_recorded_and_retried_at_the_next_tick(
    world: World, sup: AppContext
) -> None:
    await run_goal(sup)
    clock = Clock(now=datetime.now(UTC))
    monitors = replace(sup.monitors, clock=clock)
    (baseline,) = await monitors.run_due()  # the first check, due at once, takes the baseline
    assert (baseline.kind, baseline.status, baseline.new) == ("baseline", "succeeded", 0)
    clock.advance(days=8)  # a week on: the monitor is due
    (monitor,) = await monitors.all()
    assert monitor.next_run_at <= clock.now
    hidden = world.directory.rename(world.directory.with_suffix(".away"))  # the directory is gone
    (failed,) = await monitors.run_due()
    assert failed.status == "failed" and "No business directory" in (failed.error or "")
    assert (await monitors.get(monitor.id)).next_run_at == monitor.next_run_at  # still due

    hidden.rename(world.directory)
    world.add_to_directory(NEW_CAFES)
    clock.advance(minutes=1)
    (run,) = await monitors.run_due()
    assert (run.status, run.new, sorted(run.new_leads)) == (
        "succeeded",
        3,
        ["Fresh Grounds", "Second Cup Corner", "The Third Wave"],
    )
    assert (await monitors.get(monitor.id)).next_run_at == clock.now + timedelta(weeks=1)
    assert await monitors.run_due() == []  # not due again until next week
    messages = await sup.plans.messages(session_id=SESSION)
    assert messages[-1].text.startswith("3 new coffee shops in Manchester since ")
    kinds = [(r.kind, r.status, r.new) for r in await monitors.runs(monitor.id)]
    assert [k for k, _, _ in kinds] == ["scheduled", "scheduled", "baseline", "setup"]
    assert [(s, n) for _, s, n in kinds] == [
        ("succeeded", 3),
        ("failed", 0),
        ("succeeded", 0),
        ("succeeded", 0),
    ]


@EVERY_BACKEND_TOO  # outreach and monitors keep their state in the in-memory repositories as well
async def test_paused_monitors_wait_held_ones_are_not_run_twice_and_deleted_ones_are_gone(
    world: World, sup: AppContext
) -> None:
    await run_goal(sup)
    clock = Clock(now=datetime.now(UTC) + timedelta(days=8))
    monitors = replace(sup.monitors, clock=clock)
    (monitor,) = await monitors.all(session_id=SESSION)
    assert await monitors.all(session_id="session-someone-else") == []
    with pytest.raises(NotFoundError):
        await monitors.pause(monitor.id, session_id="session-someone-else")
    await monitors.pause(monitor.id)
    assert await monitors.run_due() == []
    await monitors.resume(monitor.id)
    # Another process holds the monitor (its lease has not run out): this one leaves it alone.
    assert await sup.repos.monitors.lease(
        monitor.id, owner="another-process", now=clock.now, until=clock.now + timedelta(minutes=5)
    )
    with pytest.raises(ConflictError):
        await monitors.run(monitor.id)
    assert await monitors.run_due() == []
    clock.advance(minutes=6)  # the other process died: its lease expires
    (run,) = await monitors.run_due()
    assert (run.status, run.new) == ("succeeded", 0)
    await monitors.delete(monitor.id)
    assert await monitors.all() == []
    with pytest.raises(NotFoundError):
        await monitors.run(monitor.id)


async def test_the_monitor_api(web: httpx.AsyncClient, world: World, sup: AppContext) -> None:
    me, other = {"X-Session-Id": SESSION}, {"X-Session-Id": "session-someone-else"}
    await run_goal(sup)
    (monitor,) = (await web.get("/api/monitors", headers=me)).json()
    assert (monitor["cadence"], monitor["status"], monitor["lastRun"]["kind"]) == (
        "weekly",
        "active",
        "setup",
    )
    assert datetime.fromisoformat(monitor["nextRunAt"]) <= datetime.now(UTC)  # its first check is due at once
    assert (await web.get("/api/monitors", headers=other)).json() == []
    base = f"/api/monitors/{monitor['id']}"
    assert (await web.post(f"{base}/pause", json={}, headers=other)).status_code == 404
    assert (await web.post(f"{base}/pause", json={}, headers=me)).json()["status"] == "paused"
    assert (await web.post(f"{base}/resume", json={}, headers=me)).json()["status"] == "active"
    baseline = await web.post(f"{base}/run", json={}, headers=me)
    assert baseline.status_code == 200 and (baseline.json()["kind"], baseline.json()["new"]) == (
        "baseline",
        0,
    )
    world.add_to_directory(NEW_CAFES[:1])
    run = await web.post(f"{base}/run", json={}, headers=me)
    assert run.status_code == 200 and (run.json()["new"], run.json()["newLeads"]) == (1, ["Fresh Grounds"])
    runs = (await web.get(f"{base}/runs", headers=me)).json()
    assert [r["kind"] for r in runs] == ["manual", "baseline", "setup"]
    assert (await web.delete(base, headers=other)).status_code == 404
    assert (await web.delete(base, headers=me)).status_code == 204
    assert (await web.get(f"{base}/runs", headers=me)).status_code == 404
    assert (await web.post("/api/monitors/0/run", json={}, headers=me)).status_code == 422


async def test_a_domain_entry_stops_the_messages_of_the_domains_below_it_too(
    world: World, sup: AppContext
) -> None:
    _, list_id, _ = await run_goal(sup)
    # Every café writes from a domain under co.uk: suppressing co.uk stops all fifteen drafts at once,
    # as the send-time check (suppressed_by) would refuse them one by one.
    stopped = await sup.outreach.suppress(USER.user_id, ["co.uk"], SuppressionReason.MANUAL)
    assert stopped == 15
    assert {m.status for m in (await sup.outreach.sequence(list_id)).messages} == {"stopped"}
    assert (await replace(sup.outreach, clock=Clock()).send(list_id)).due == 0
