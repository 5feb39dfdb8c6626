"""The plans repository: on SQLite, on Postgres and in memory, plans move, are held and log their events alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import EVERY_BACKEND
from wyshbone.domain.models import (
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
from wyshbone.storage import Repositories
from wyshbone.storage.plans import PlanHead, PlanRepository, RunLease

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 1, 2, tzinfo=UTC)
PENDING, EXECUTING = PlanStatus.PENDING_APPROVAL, PlanStatus.EXECUTING

pytestmark = pytest.mark.parametrize("store_url", EVERY_BACKEND, indirect=True)


@pytest.fixture
def plans(repos: Repositories) -> PlanRepository:
    return repos.plans


def plan_of(plan_id: str = "p1", *, goal: str = "g", created: datetime = T0, user: str = "u") -> LeadGenPlan:
    return LeadGenPlan(
        id=plan_id, user_id=user, goal=LeadGenGoal(raw_goal=goal), steps=[], created_at=created
    )


def event(type_: PlanEventType, plan_id: str = "p1", step: str | None = None) -> PlanEvent:
    return PlanEvent(timestamp=T0, type=type_, plan_id=plan_id, user_id="u", step_id=step)


def lease(owner: str, seconds: int = 30) -> RunLease:
    return RunLease(owner, T0 + timedelta(seconds=seconds))


async def approve(plans: PlanRepository, plan_id: str, owner: str, **scope: str) -> bool:
    return await plans.transition(plan_id, from_=PENDING, to=EXECUTING, lease=lease(owner), **scope)


async def finish(plans: PlanRepository, plan_id: str, owner: str, status: PlanStatus, **more: object) -> bool:
    return await plans.transition(plan_id, from_=EXECUTING, to=status, owner=owner, **more)  # type: ignore[arg-type]


async def test_plans_roundtrip_and_status(plans: PlanRepository) -> None:
    plan = plan_of()
    await plans.save(plan, session_id="s1")
    await plans.save(plan.model_copy(update={"steps": []}), session_id="s2")  # stored once: ignored
    assert await approve(plans, "p1", "a")
    assert await plans.get("p1") == plan.model_copy(update={"status": EXECUTING})
    assert await plans.get("p1", session_id="s2") is None
    assert await plans.get("nope") is None


async def test_plans_transitions_are_conditional(plans: PlanRepository) -> None:
    await plans.save(plan_of("p1"), session_id="s1")
    await plans.save(plan_of("p2"), session_id="s1")
    # another session's approval does not apply; then exactly one of ten approvals at once wins
    assert not await approve(plans, "p1", "x", session_id="s2")
    won = await asyncio.gather(*(approve(plans, "p1", f"o{i}") for i in range(10)))
    assert sorted(won) == [False] * 9 + [True]
    owner = f"o{won.index(True)}"
    assert not await plans.transition("p1", from_=PENDING, to=PlanStatus.CANCELLED)  # no longer pending
    assert not await finish(plans, "p1", "someone-else", PlanStatus.SUCCEEDED)
    assert await finish(plans, "p1", owner, PlanStatus.SUCCEEDED)
    assert not await finish(plans, "p1", owner, PlanStatus.FAILED)  # finished once
    assert (await plans.get("p1")).status is PlanStatus.SUCCEEDED  # type: ignore[union-attr]
    # a pending plan: cancelled once, then neither approvable nor cancellable
    assert await plans.transition("p2", from_=PENDING, to=PlanStatus.CANCELLED)
    assert not await plans.transition("p2", from_=PENDING, to=PlanStatus.CANCELLED)
    assert not await approve(plans, "p2", "a")
    assert (await plans.get("p2")).status is PlanStatus.CANCELLED  # type: ignore[union-attr]
    assert not await approve(plans, "nope", "a")


@pytest.mark.parametrize(
    ("from_", "to", "with_lease"),
    [
        (PENDING, EXECUTING, False),  # a run is always held by someone
        (PENDING, PENDING, True),  # not a move
    ],
)
async def test_plans_transition_refuses_a_move_that_is_not_one(
    plans: PlanRepository, from_: PlanStatus, to: PlanStatus, with_lease: bool
) -> None:
    await plans.save(plan_of(), session_id="s1")
    with pytest.raises(ValueError, match="a plan"):
        await plans.transition("p1", from_=from_, to=to, lease=lease("a") if with_lease else None)
    assert (await plans.get("p1")).status is PENDING  # type: ignore[union-attr]


async def test_plans_leases_keep_a_running_plan_from_other_processes(plans: PlanRepository) -> None:
    for plan_id in ("p1", "p2"):
        await plans.save(plan_of(plan_id), session_id="s1")
        assert await approve(plans, plan_id, "a")
    # while a's leases run, nobody takes the plans over
    assert await plans.claim_orphans(lease("b", 60), now=T0 + timedelta(seconds=29)) == []
    # a renews p1 only; once the first lease has run out, b takes p2 over, and only p2
    assert await plans.renew_leases({"p1"}, lease("a", seconds=90)) == set()
    claimed = await plans.claim_orphans(lease("b", 120), now=T0 + timedelta(seconds=31))
    assert [row.plan_id for row in claimed] == ["p2"]
    assert await plans.claim_orphans(lease("c", 120), now=T0 + timedelta(seconds=31)) == []
    # a learns that p2 is held by another process now; its lease on p1 holds
    assert await plans.renew_leases({"p1", "p2"}, lease("a", seconds=90)) == {"p2"}
    assert not await finish(plans, "p2", "a", PlanStatus.SUCCEEDED)
    # a shuts down cleanly: its plan is free at once, for the next process to resume
    await plans.release({"p1"}, owner="a")
    claimed = await plans.claim_orphans(lease("c", 60), now=T0)
    assert [row.plan_id for row in claimed] == ["p1"]
    assert await finish(plans, "p1", "c", PlanStatus.PARTIAL)
    # a finished plan is nobody's: neither renewed, nor lost, nor claimed once every lease has run out
    assert await plans.renew_leases({"p1"}, lease("c", 90)) == set()
    assert [row.plan_id for row in await plans.claim_orphans(lease("d", 60), now=T1)] == ["p2"]


async def test_plans_cancelled_by_another_process_are_lost_to_their_runner(plans: PlanRepository) -> None:
    await plans.save(plan_of(), session_id="s1")
    assert await approve(plans, "p1", "a")
    # ended cancelled elsewhere (a cancel that found no live job), while a's run still holds it
    assert await plans.transition("p1", from_=PlanStatus.EXECUTING, to=PlanStatus.CANCELLED)
    assert await plans.renew_leases({"p1"}, lease("a", seconds=90)) == {"p1"}


async def test_plans_events_are_ordered_per_plan_and_pageable(plans: PlanRepository) -> None:
    # appended concurrently: the group commit must keep each caller's seq and the log order
    stored = await asyncio.gather(
        plans.append_event(event(PlanEventType.PLAN_STARTED)),
        plans.append_event(event(PlanEventType.PLAN_STARTED, plan_id="p2")),
        plans.append_event(event(PlanEventType.STEP_STARTED, step="a")),
    )
    seqs = [e.seq for e in stored]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    events = await plans.events("p1")
    assert [(e.type.value, e.step_id) for e in events] == [("PLAN_STARTED", None), ("STEP_STARTED", "a")]
    assert events == [stored[0], stored[2]]
    assert await plans.events("p1", after=stored[0].seq or 0) == [stored[2]]


async def test_plans_head_follows_the_status_and_the_last_event(plans: PlanRepository) -> None:
    await plans.save(plan_of("p1", created=T0), session_id="s1")
    await plans.save(plan_of("p2", created=T1), session_id="s1")
    assert await plans.head("p1") == PlanHead("p1", PENDING, 0)
    first = await plans.append_event(event(PlanEventType.PLAN_STARTED))
    assert await approve(plans, "p1", "a")
    assert await plans.head("p1", session_id="s1") == PlanHead("p1", EXECUTING, first.seq or 0)
    assert await plans.head("p1", session_id="s2") is None
    assert await plans.head("nope") is None
    assert await plans.latest_head(session_id="s1") == PlanHead("p2", PENDING, 0)
    assert await plans.latest_head(session_id="s2") is None


async def test_plans_step_result_written_with_its_event(plans: PlanRepository) -> None:
    first = LeadGenStepResult(step_id="a", status=LeadGenStepStatus.FAILED, attempts=1)
    final = LeadGenStepResult(step_id="a", status=LeadGenStepStatus.SUCCEEDED, attempts=2, data={"n": 1})
    await plans.append_event(event(PlanEventType.STEP_FAILED, step="a"), step_result=first)
    await plans.append_event(event(PlanEventType.STEP_SUCCEEDED, step="a"), step_result=final)
    assert await plans.step_results("p1") == {"a": final}
    assert await plans.step_results("p2") == {}


async def test_plans_lists_a_sessions_plans_and_keeps_a_runs_result(plans: PlanRepository) -> None:
    await plans.save(plan_of("p1", goal="pubs in Leeds", created=T0), session_id="s1")
    await plans.save(plan_of("p2", goal="cafes in York", created=T1), session_id="s1")
    await plans.save(plan_of("p3", goal="dentists", created=T1, user="v"), session_id="s2")
    assert await approve(plans, "p2", "a")

    rows = await plans.for_session(session_id="s1")
    assert [(r.plan_id, r.session_id, r.user_id, r.status, r.raw_goal) for r in rows] == [
        ("p2", "s1", "u", EXECUTING, "cafes in York"),
        ("p1", "s1", "u", PENDING, "pubs in Leeds"),
    ]
    assert (await plans.session_of("p3"), await plans.session_of("nope")) == ("s2", None)

    result = LeadGenExecutionResult(
        plan_id="p2",
        overall_status=OverallStatus.PARTIAL,
        started_at=T0,
        finished_at=T1,
        step_results=[LeadGenStepResult(step_id="a", status=LeadGenStepStatus.FAILED, errorMessage="quota")],
    )
    assert await plans.result("p2") is None
    assert await finish(plans, "p2", "a", PlanStatus.PARTIAL, result=result)
    assert await plans.result("p2") == result
    assert (await plans.get("p2")).status is PlanStatus.PARTIAL  # type: ignore[union-attr]
