"""The plan store: SqlStore on SQLite and on Postgres, and MemoryStore, behave the same."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from wyshbone.domain.models import (
    Lead,
    LeadGenExecutionResult,
    LeadGenGoal,
    LeadGenPlan,
    LeadGenStepResult,
    LeadGenStepStatus,
    OverallStatus,
    PlanEvent,
    PlanEventType,
    PlanStatus,
)
from wyshbone.storage import MemoryStore, PlanStore, SqlStore
from wyshbone.storage.repository import RunLease

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 1, 2, tzinfo=UTC)


# Every test runs on each store: SqlStore on SQLite and on Postgres, and MemoryStore, which must behave the same.
pytestmark = pytest.mark.parametrize(
    "store_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "memory"], indirect=True
)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[PlanStore]:
    the_store: PlanStore = MemoryStore() if store_url == "memory://" else await SqlStore.connect(store_url)
    yield the_store
    await the_store.close()


def event(type_: PlanEventType, plan_id: str = "p1", step: str | None = None) -> PlanEvent:
    return PlanEvent(timestamp=T0, type=type_, plan_id=plan_id, user_id="u", step_id=step)


def lead(source_id: str, name: str, postcode: str | None) -> Lead:
    return Lead(
        name=name, source="fsa_fhrs", source_id=source_id, postcode=postcode, provenance={"name": "fsa_fhrs"}
    )


def lease(owner: str, seconds: int = 30) -> RunLease:
    return RunLease(owner, T0 + timedelta(seconds=seconds))


async def test_store_plan_roundtrip_and_status(store: PlanStore) -> None:
    plan = LeadGenPlan(id="p1", user_id="u", goal=LeadGenGoal(raw_goal="g"), steps=[], created_at=T0)
    await store.save_plan(plan, session_id="s1")
    await store.save_plan(plan.model_copy(update={"steps": []}), session_id="s2")  # stored once: ignored
    assert await store.approve_plan("p1", lease=lease("a"))
    assert await store.get_plan("p1") == plan.model_copy(update={"status": PlanStatus.EXECUTING})
    assert await store.get_plan("p1", session_id="s2") is None
    assert await store.get_plan("nope") is None


async def test_store_transitions_are_conditional(store: PlanStore) -> None:
    plan = LeadGenPlan(id="p1", user_id="u", goal=LeadGenGoal(raw_goal="g"), steps=[], created_at=T0)
    await store.save_plan(plan, session_id="s1")
    await store.save_plan(plan.model_copy(update={"id": "p2"}), session_id="s1")
    # another session's approval does not apply; then exactly one of ten approvals at once wins
    assert not await store.approve_plan("p1", lease=lease("x"), session_id="s2")
    won = await asyncio.gather(*(store.approve_plan("p1", lease=lease(f"o{i}")) for i in range(10)))
    assert sorted(won) == [False] * 9 + [True]
    owner = f"o{won.index(True)}"
    assert not await store.cancel_pending("p1")  # no longer pending
    assert not await store.finish_plan("p1", owner="someone-else", status=PlanStatus.SUCCEEDED)
    assert await store.finish_plan("p1", owner=owner, status=PlanStatus.SUCCEEDED)
    assert not await store.finish_plan("p1", owner=owner, status=PlanStatus.FAILED)  # finished once
    assert (await store.get_plan("p1")).status is PlanStatus.SUCCEEDED  # type: ignore[union-attr]
    # a pending plan: cancelled once, then neither approvable nor cancellable
    assert await store.cancel_pending("p2")
    assert not await store.cancel_pending("p2")
    assert not await store.approve_plan("p2", lease=lease("a"))
    assert (await store.get_plan("p2")).status is PlanStatus.CANCELLED  # type: ignore[union-attr]


async def test_store_leases_keep_a_running_plan_from_other_processes(store: PlanStore) -> None:
    for plan_id in ("p1", "p2"):
        plan = LeadGenPlan(id=plan_id, user_id="u", goal=LeadGenGoal(raw_goal="g"), steps=[], created_at=T0)
        await store.save_plan(plan, session_id="s1")
        assert await store.approve_plan(plan_id, lease=lease("a", seconds=30))
    # while a's leases run, nobody takes the plans over
    assert await store.claim_orphans(lease("b", 60), now=T0 + timedelta(seconds=29)) == []
    # a renews p1 only; once the first lease has run out, b takes p2 over, and only p2
    assert await store.renew_leases({"p1"}, lease("a", seconds=90)) == set()
    claimed = await store.claim_orphans(lease("b", 120), now=T0 + timedelta(seconds=31))
    assert [row.plan_id for row in claimed] == ["p2"]
    assert await store.claim_orphans(lease("c", 120), now=T0 + timedelta(seconds=31)) == []
    # a learns that p2 is held by another process now; its lease on p1 holds
    assert await store.renew_leases({"p1", "p2"}, lease("a", seconds=90)) == {"p2"}
    assert not await store.finish_plan("p2", owner="a", status=PlanStatus.SUCCEEDED)
    # a shuts down cleanly: its plan is free at once, for the next process to resume
    await store.release_plans({"p1"}, owner="a")
    claimed = await store.claim_orphans(lease("c", 60), now=T0)
    assert [row.plan_id for row in claimed] == ["p1"]
    assert await store.finish_plan("p1", owner="c", status=PlanStatus.PARTIAL)


async def test_store_events_are_ordered_per_plan_and_pageable(store: PlanStore) -> None:
    # appended concurrently: the group commit must keep each caller's seq and the log order
    stored = await asyncio.gather(
        store.append_event(event(PlanEventType.PLAN_STARTED)),
        store.append_event(event(PlanEventType.PLAN_STARTED, plan_id="p2")),
        store.append_event(event(PlanEventType.STEP_STARTED, step="a")),
    )
    seqs = [e.seq for e in stored]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    events = await store.list_events("p1")
    assert [(e.type.value, e.step_id) for e in events] == [("PLAN_STARTED", None), ("STEP_STARTED", "a")]
    assert events == [stored[0], stored[2]]
    assert await store.list_events("p1", after=stored[0].seq or 0) == [stored[2]]


async def test_store_step_result_written_with_its_event(store: PlanStore) -> None:
    first = LeadGenStepResult(step_id="a", status=LeadGenStepStatus.FAILED, attempts=1)
    final = LeadGenStepResult(step_id="a", status=LeadGenStepStatus.SUCCEEDED, attempts=2, data={"n": 1})
    await store.append_event(event(PlanEventType.STEP_FAILED, step="a"), step_result=first)
    await store.append_event(event(PlanEventType.STEP_SUCCEEDED, step="a"), step_result=final)
    assert await store.step_results("p1") == {"a": final}


async def test_store_save_leads_is_idempotent_and_deduplicates(store: PlanStore) -> None:
    leads = [
        lead("fsa_fhrs:1", "The Crown & Anchor", "M1 1AA"),
        lead("fsa_fhrs:2", "Crown and Anchor", "M11AA"),  # same name + postcode as 1
        lead("fsa_fhrs:3", "Costa Coffee", None),  # no postcode: only its id identifies it
        lead("fsa_fhrs:4", "Costa Coffee", None),
    ]
    first = await store.save_leads(plan_id="p1", step_id="save", list_name="Pubs", leads=leads)
    again = await store.save_leads(plan_id="p1", step_id="save", list_name="Pubs", leads=leads)
    assert (first.added, first.total, again.added, again.total) == (3, 3, 0, 3)
    assert first.list_id == again.list_id
    saved = await store.list_leads(plan_id="p1")
    assert [x.source_id for x in saved] == ["fsa_fhrs:1", "fsa_fhrs:3", "fsa_fhrs:4"]
    assert saved[0] == leads[0]
    assert await store.list_leads(plan_id="other") == []


async def test_store_keeps_leads_whose_keys_outgrow_their_columns(store: PlanStore) -> None:
    # Keys are unbounded text (an OpenStreetMap id, a list of postcodes): every store must save them whole.
    long_id = "overpass:node/" + "7" * 300
    leads = [
        lead(long_id + "1", "The Bell", "SW1A 1AA;SW1A 2AA;SW1A 3AA"),  # an OpenStreetMap list of postcodes
        lead(long_id + "2", "The Bell", None),  # its id differs from the first only past the column's length
    ]
    saved = await store.save_leads(plan_id="p1", step_id="save", list_name="Pubs", leads=leads)
    assert (saved.added, saved.total) == (2, 2)
    assert await store.list_leads(plan_id="p1") == leads


async def test_store_lists_a_sessions_plans_results_and_messages(store: PlanStore) -> None:
    await store.ensure_session("s1")
    await store.ensure_session("s1")  # a session seen again is no error
    older = LeadGenPlan(
        id="p1", user_id="u", goal=LeadGenGoal(raw_goal="pubs in Leeds"), steps=[], created_at=T0
    )
    newer = LeadGenPlan(
        id="p2", user_id="u", goal=LeadGenGoal(raw_goal="cafes in York"), steps=[], created_at=T1
    )
    elsewhere = LeadGenPlan(
        id="p3", user_id="v", goal=LeadGenGoal(raw_goal="dentists"), steps=[], created_at=T1
    )
    await store.save_plan(older, session_id="s1")
    await store.save_plan(newer, session_id="s1")
    await store.save_plan(elsewhere, session_id="s2")
    assert await store.approve_plan("p2", lease=lease("a"))

    rows = await store.list_plans(session_id="s1")
    assert [(r.plan_id, r.session_id, r.user_id, r.status, r.raw_goal) for r in rows] == [
        ("p2", "s1", "u", PlanStatus.EXECUTING, "cafes in York"),
        ("p1", "s1", "u", PlanStatus.PENDING_APPROVAL, "pubs in Leeds"),
    ]
    assert (await store.plan_session("p3"), await store.plan_session("nope")) == ("s2", None)

    result = LeadGenExecutionResult(
        plan_id="p2",
        overall_status=OverallStatus.PARTIAL,
        started_at=T0,
        finished_at=T1,
        step_results=[LeadGenStepResult(step_id="a", status=LeadGenStepStatus.FAILED, errorMessage="quota")],
    )
    assert await store.get_result("p2") is None
    assert await store.finish_plan("p2", owner="a", status=PlanStatus.PARTIAL, result=result)
    assert await store.get_result("p2") == result
    assert (await store.get_plan("p2")).status is PlanStatus.PARTIAL  # type: ignore[union-attr]

    await store.add_message(session_id="s1", plan_id="p2", role="assistant", text="Found 3 cafes")
    await store.add_message(session_id="s2", plan_id=None, role="user", text="dentists")
    messages = await store.list_messages(session_id="s1")
    assert [(m.session_id, m.plan_id, m.role, m.text) for m in messages] == [
        ("s1", "p2", "assistant", "Found 3 cafes")
    ]
