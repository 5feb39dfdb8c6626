"""A monitor's check is a plan: its own id, event log, progress, result and live stream, like any plan's; its
retries and fallbacks are in its log. The first check takes the baseline (reports nothing new); only later ones
report new businesses. The same cafés and fakes as the end-to-end CLI test."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.fakes.cafes import GOAL, NEW_CAFES, World
from tests.fakes.tools import ScriptedProvider
from wyshbone.bootstrap import AppContext
from wyshbone.config import Settings
from wyshbone.domain.models import LeadToolIdentifier as T
from wyshbone.domain.models import PlanEvent, PlanStatus, SupervisorUserContext
from wyshbone.errors import PermanentToolError, RetryableToolError
from wyshbone.web import create_app

pytestmark = pytest.mark.data

USER = SupervisorUserContext(user_id="u-cafes")
SESSION = "session-cafes-0001"
ME = {"X-Session-Id": SESSION}
CHECK_STEPS = [
    "global_db_search_1",
    "monitor_new_leads_1",
    "hunter_domain_lookup_1",
    "hunter_enrich_1",
    "monitor_save_new_1",
    "email_sequence_setup_1",
]


@pytest.fixture
async def web(world: World, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv(
        "WYSHBONE_MONITOR_TICK_SECONDS", "0"
    )  # only the tests run the monitor, when they mean to
    application = create_app(Settings())
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as http:
            yield http


async def _planned(web: httpx.AsyncClient) -> dict[str, Any]:
    """The goal planned, approved and run through the API; its monitor."""
    plan_id = (await web.post("/api/plan/start", json={"goal": GOAL}, headers=ME)).json()["planId"]
    assert (await web.post(f"/api/plan/{plan_id}/approve", json={}, headers=ME)).status_code == 200
    for _ in range(600):
        if (await web.get(f"/api/plan/{plan_id}/progress", headers=ME)).json()["status"] == "completed":
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"plan {plan_id} did not complete within 30 s")
    (monitor,) = (await web.get("/api/monitors", headers=ME)).json()
    return dict(monitor)


async def test_a_monitor_check_runs_as_a_plan_with_its_own_events_progress_result_and_stream(
    web: httpx.AsyncClient, world: World
) -> None:
    monitor = await _planned(web)
    # The set-up recorded what the plan knew; the first check, due at once, takes the baseline: nothing new.
    assert (monitor["lastRun"]["kind"], monitor["lastRun"]["status"]) == ("setup", "succeeded")
    assert datetime.fromisoformat(monitor["nextRunAt"]) <= datetime.now(UTC)
    baseline = (await web.post(f"/api/monitors/{monitor['id']}/run", json={}, headers=ME)).json()
    assert (baseline["kind"], baseline["found"], baseline["new"], baseline["drafted"]) == (
        "baseline",
        7,
        0,
        0,
    )
    assert baseline["message"].startswith("Baseline taken: 7 found now;")
    assert baseline["planId"] not in (None, monitor["planId"])
    # From the second check on, businesses that opened since are reported, saved and drafted.
    world.add_to_directory(NEW_CAFES)
    run = (await web.post(f"/api/monitors/{monitor['id']}/run", json={}, headers=ME)).json()
    check_id = run["planId"]
    assert run["kind"] == "manual" and check_id != baseline["planId"]
    assert check_id != monitor["planId"] and (run["new"], run["drafted"]) == (3, 1)

    plan = (await web.get(f"/api/plan/{check_id}", headers=ME)).json()
    assert (plan["monitorId"], plan["status"]) == (monitor["id"], "succeeded")
    assert plan["goal"]["rawGoal"] == "Check for new coffee shops in Manchester"
    assert [s["id"] for s in plan["steps"]] == CHECK_STEPS

    events = (await web.get(f"/api/plan/{check_id}/events", headers=ME)).json()
    assert events[0]["type"] == "PLAN_STARTED" and events[-1]["type"] == "PLAN_COMPLETED"
    assert [s["stepId"] for s in events[0]["data"]["steps"]] == CHECK_STEPS
    finished = {e["stepId"]: e["type"] for e in events if e["type"].startswith("STEP_") and e["stepId"]}
    assert finished == {step: "STEP_SUCCEEDED" for step in CHECK_STEPS}
    assert {e["planId"] for e in events} == {check_id}

    progress = (await web.get(f"/api/plan/{check_id}/progress", headers=ME)).json()
    assert (progress["status"], progress["totalSteps"]) == ("completed", 6)
    assert [s["title"] for s in progress["steps"]][1::3] == [
        "Leave out businesses already known",
        "Save the new businesses to the list",
    ]
    result = (await web.get(f"/api/plan/{check_id}/result", headers=ME)).json()
    saved = next(r for r in result["stepResults"] if r["stepId"] == "monitor_save_new_1")
    assert (saved["data"]["new"], sorted(saved["data"]["names"])) == (
        3,
        ["Fresh Grounds", "Second Cup Corner", "The Third Wave"],
    )

    # Over SSE, as any plan: every event of its log, in order.
    stream = await web.get(f"/api/plan/{check_id}/stream", headers=ME)
    assert stream.headers["content-type"].startswith("text/event-stream")
    frames = [f for f in stream.text.split("\n\n") if f.startswith("id:")]
    assert [json.loads(f.split("data: ", 1)[1])["seq"] for f in frames] == [e["seq"] for e in events]

    # The session's history lists the check; its message says what it found.
    plans = (await web.get("/api/plans", headers=ME)).json()
    assert plans[0]["planId"] == check_id and plans[0]["goal"] == "Check for new coffee shops in Manchester"
    messages = (await web.get("/api/conversations/current/messages", headers=ME)).json()
    assert messages[-1]["planId"] == check_id
    # The monitor's runs name their checks, the set-up's record none.
    runs = (await web.get(f"/api/monitors/{monitor['id']}/runs", headers=ME)).json()
    assert [r.get("planId") for r in runs] == [check_id, baseline["planId"], None]
    assert messages[-1]["text"].startswith("3 new coffee shops in Manchester since ")


async def test_a_checks_retries_and_fallbacks_are_in_its_event_log(world: World, sup: AppContext) -> None:
    plan = await sup.plans.start_plan(GOAL, USER, session_id=SESSION)
    await sup.plans.run_plan(await sup.plans.approve_plan(plan.id), USER)
    (monitor,) = await sup.monitors.all()
    baseline = await sup.monitors.run(monitor.id)  # the first check learns what is there
    assert (baseline.kind, baseline.status, baseline.new) == ("baseline", "succeeded", 0)
    # An online search in front of the directory: busy once, then refusing; the directory then serves.
    flaky = ScriptedProvider(
        "flaky_search",
        [RetryableToolError("busy", retry_after=0.01), PermanentToolError("flaky_search: refused")],
    )
    sup.registry.add_provider(T.GLOBAL_DB_SEARCH, flaky.provider())
    world.add_to_directory(NEW_CAFES[:1])
    heard: list[PlanEvent] = []
    run = await sup.monitors.run(monitor.id, on_event=heard.append)

    assert (run.status, run.new, run.new_leads) == ("succeeded", 1, ["Fresh Grounds"])
    assert run.plan_id is not None
    events = await sup.plans.events(run.plan_id)
    assert [e.seq for e in heard] == [e.seq for e in events]  # told as they were stored
    search = [(e.type.value, e.provider) for e in events if e.step_id == "global_db_search_1"]
    assert search == [
        ("STEP_STARTED", "flaky_search"),
        ("STEP_RETRYING", "flaky_search"),
        ("STEP_FALLBACK", "local_directory"),
        ("STEP_SUCCEEDED", "local_directory"),
    ]
    check = await sup.plans.get_plan(run.plan_id)
    assert (check.status, check.monitor_id) == (PlanStatus.SUCCEEDED, monitor.id)


async def test_the_first_check_takes_the_baseline_so_only_businesses_opened_since_are_new(
    world: World, sup: AppContext
) -> None:
    # Two cafés asked for: the plan's own search fetches four of the directory's seven, while a check looks
    # at up to monitor_max_results. The three it did not fetch were there all along: they are not news.
    goal = "Find 2 coffee shops in Manchester and check every week for new ones"
    plan = await sup.plans.start_plan(goal, USER, session_id=SESSION)
    await sup.plans.run_plan(await sup.plans.approve_plan(plan.id), USER)
    (monitor,) = await sup.monitors.all()
    assert monitor.known == 4 and monitor.last_run is not None
    assert (monitor.last_run.kind, monitor.next_run_at <= datetime.now(UTC)) == ("setup", True)
    saved = len(await sup.plans.leads(plan.id))

    (first,) = await sup.monitors.run_due()  # due at once
    assert (first.kind, first.status, first.found, first.new, first.new_leads) == (
        "baseline",
        "succeeded",
        7,
        0,
        [],
    )
    assert first.message == "Baseline taken: 7 found now; later checks report only businesses beyond these."
    assert len(await sup.plans.leads(plan.id)) == saved  # nothing added to the list
    after = await sup.monitors.get(monitor.id)
    assert after.known == 7 and after.next_run_at > datetime.now(UTC) + timedelta(days=6)
    messages = await sup.plans.messages(session_id=SESSION)
    assert messages[-1].text == first.message

    world.add_to_directory(NEW_CAFES[:1])  # a café opens after the baseline
    second = await sup.monitors.run(monitor.id)
    assert (second.kind, second.found, second.new, second.new_leads) == ("manual", 8, 1, ["Fresh Grounds"])
    assert second.message is not None and second.message.startswith("1 new coffee shop in Manchester since ")
    assert [lead.name for lead in await sup.plans.leads(plan.id)][saved:] == ["Fresh Grounds"]
    kinds = [(r.kind, r.new) for r in await sup.monitors.runs(monitor.id)]
    assert kinds == [("manual", 1), ("baseline", 0), ("setup", 0)]


async def test_when_the_baseline_check_failed_the_next_check_takes_it_and_reports_nothing_new(
    world: World, sup: AppContext
) -> None:
    plan = await sup.plans.start_plan(GOAL, USER, session_id=SESSION)
    await sup.plans.run_plan(await sup.plans.approve_plan(plan.id), USER)
    monitors = sup.monitors
    (monitor,) = await monitors.all()
    hidden = world.directory.rename(world.directory.with_suffix(".away"))  # the directory is gone
    failed = await monitors.run(monitor.id)
    assert (failed.kind, failed.status) == ("manual", "failed")
    assert (await monitors.get(monitor.id)).last_success_at is None  # no baseline taken yet
    hidden.rename(world.directory)
    world.add_to_directory(NEW_CAFES[:2])
    first = await monitors.run(monitor.id)
    # Without a baseline it cannot tell new from unseen-before: it learns everything and reports nothing.
    assert (first.kind, first.status, first.new, first.found) == ("baseline", "succeeded", 0, 9)
    world.add_to_directory(NEW_CAFES)
    second = await monitors.run(monitor.id)
    assert (second.kind, second.new, second.new_leads) == ("manual", 1, ["The Third Wave"])
