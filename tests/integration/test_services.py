"""The use cases end to end on the real directory: start → approve → run → progress → leads."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from wyshbone.bootstrap import AppContext, assemble, open_context
from wyshbone.config import Settings
from wyshbone.domain.models import (
    LeadGenGoal,
    LeadGenPlan,
    LeadGenPlanStep,
    LeadToolExecutionEnv,
    LeadToolExecutionResult,
    PlanEvent,
    PlanStatus,
    SupervisorUserContext,
)
from wyshbone.domain.planner import ProviderInfo
from wyshbone.errors import InputError, PlanStateError, UnplannableGoalError
from wyshbone.geodata import load_gazetteer
from wyshbone.storage import Repositories, memory_repositories
from wyshbone.storage.plans import MemoryPlanRepository
from wyshbone.tools import Provider, ToolRegistry, ToolSpec

USER = SupervisorUserContext(user_id="u1")
pytestmark = pytest.mark.data


@pytest.fixture
async def sup(real_db: tuple[Path, object], tmp_path: Path, data_dir: Path) -> AsyncIterator[AppContext]:
    settings = Settings(home=tmp_path / "home", directory_path=real_db[0], open_data_dir=data_dir)
    supervisor = await open_context(settings)
    yield supervisor
    await supervisor.close()


async def test_supervisor_start_approve_run_reports_progress_and_leads(sup: AppContext) -> None:
    plan = await sup.plans.start_plan("Find 50 pubs in Leeds and email them", USER, session_id="s1")
    assert (await sup.repos.plans.get(plan.id)).status is PlanStatus.PENDING_APPROVAL  # type: ignore[union-attr]
    assert (await sup.plans.progress(plan.id)).overall_status.value == "pending"

    approved = await sup.plans.approve_plan(plan.id)
    with pytest.raises(PlanStateError, match="this plan has already been approved and is running"):
        await sup.plans.approve_plan(plan.id)  # approving twice

    seen: list[PlanEvent] = []
    result = await sup.plans.run_plan(approved, USER, on_event=seen.append)
    assert result.overall_status.value == "partial"
    assert [r.status.value for r in result.step_results] == [
        "succeeded",
        "skipped",
        "skipped",
        "succeeded",
        "skipped",  # Prepare Outreach: no provider configured yet
    ]
    assert (await sup.repos.plans.get(plan.id)).status is PlanStatus.PARTIAL  # type: ignore[union-attr]
    progress = await sup.plans.progress(plan.id)
    assert (progress.overall_status.value, progress.detail) == ("completed", "partial")
    assert [s.status.value for s in progress.steps] == [
        "completed",
        "skipped",
        "skipped",
        "completed",
        "skipped",
    ]
    assert await sup.repos.plans.events(plan.id) == seen
    leads = await sup.plans.leads(plan.id)
    assert len(leads) == 50
    assert all(lead.postcode and lead.postcode.startswith("LS") for lead in leads)

    # running the same plan again (e.g. after a crash) re-runs nothing that succeeded and adds no leads
    again = await sup.plans.run_plan(approved, USER)
    assert [r.attempts for r in again.step_results if r.status.value == "succeeded"] == [1, 1]
    assert len(await sup.plans.leads(plan.id)) == 50


async def test_supervisor_cancel_event_marks_plan_cancelled(sup: AppContext) -> None:
    plan = await sup.plans.approve_plan((await sup.plans.start_plan("Find 20 cafes in Manchester", USER)).id)
    cancel = asyncio.Event()
    cancel.set()
    result = await sup.plans.run_plan(plan, USER, cancel=cancel)
    assert result.overall_status.value == "cancelled"
    assert (await sup.repos.plans.get(plan.id)).status is PlanStatus.CANCELLED  # type: ignore[union-attr]
    assert (await sup.plans.progress(plan.id)).overall_status.value == "cancelled"


async def test_supervisor_interrupted_run_stays_executing_and_resumes(sup: AppContext) -> None:
    plan = await sup.plans.approve_plan((await sup.plans.start_plan("Find 20 cafes in Manchester", USER)).id)

    def interrupt(event: PlanEvent) -> None:
        if event.type.value == "STEP_STARTED":
            task.cancel()  # a shutdown mid-step, not a decision to cancel

    task = asyncio.create_task(sup.plans.run_plan(plan, USER, on_event=interrupt))
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await sup.repos.plans.get(plan.id)).status is PlanStatus.EXECUTING  # type: ignore[union-attr]
    result = await sup.plans.run_plan(plan, USER)
    assert result.overall_status.value == "partial"
    assert len(await sup.plans.leads(plan.id)) == 20


@pytest.mark.parametrize(
    ("goal", "error"),
    [
        ("", InputError),  # empty
        ("x" * 1001, InputError),  # too long
        ("hello", UnplannableGoalError),  # nothing to plan
    ],
)
async def test_supervisor_rejects_bad_goals_and_stores_nothing(
    sup: AppContext, goal: str, error: type
) -> None:
    with pytest.raises(error):
        await sup.plans.start_plan(goal, USER)
    assert not (sup.settings.home / "wyshbone.sqlite").exists()


async def test_supervisor_unknown_plan_is_an_input_error(sup: AppContext) -> None:
    with pytest.raises(InputError, match="no plan 'nope'"):
        await sup.plans.approve_plan("nope")


class BrokenResultPlans(MemoryPlanRepository):
    """Plans whose write of the finished run fails, as a full disk or a lost database connection would."""

    async def transition(self, plan_id: str, **move: Any) -> bool:
        if move.get("result") is not None:
            raise RuntimeError("disk full")
        return await super().transition(plan_id, **move)


def with_plans(plans: MemoryPlanRepository) -> Repositories:
    return dataclasses.replace(memory_repositories(), plans=plans)


async def test_runner_records_a_crashed_run_as_failed(data_dir: Path, tmp_path: Path) -> None:
    plans = BrokenResultPlans()
    settings = Settings(home=tmp_path / "home", open_data_dir=data_dir)
    sup = assemble(
        settings, repos=with_plans(plans), registry=ToolRegistry.of([]), gazetteer=load_gazetteer(data_dir)
    )
    runner = sup.runs
    plan = LeadGenPlan(id="p1", user_id="u1", goal=LeadGenGoal(raw_goal="x"), steps=[])
    await plans.save(plan, session_id="s1")
    runner.submit(await sup.plans.approve_plan("p1"), session_id="s1")
    await runner.wait_idle()
    events = await plans.events("p1")
    # the run itself finished; storing its result failed, and the plan ends failed, visibly
    assert [(e.type.value, e.status) for e in events] == [
        ("PLAN_STARTED", "executing"),
        ("PLAN_COMPLETED", "succeeded"),
        ("PLAN_COMPLETED", "failed"),
    ]
    assert "internal error (RuntimeError)" in (events[-1].error_message or "")
    assert (await plans.get("p1")).status is PlanStatus.FAILED  # type: ignore[union-attr]
    assert (await sup.plans.progress("p1")).overall_status.value == "failed"


@dataclass
class Gate:
    """A tool that holds every call until the test opens the gate."""

    opened: asyncio.Event = field(default_factory=asyncio.Event)
    running: int = 0
    most: int = 0

    async def __call__(self, params: dict[str, Any], env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await self.opened.wait()
        finally:
            self.running -= 1
        return LeadToolExecutionResult(success=True, data={"ok": True})


async def test_runner_runs_at_most_its_slots_and_the_rest_wait_visibly_queued(
    data_dir: Path, tmp_path: Path
) -> None:
    gate = Gate()
    registry = ToolRegistry.of([ToolSpec("WAIT", (Provider(ProviderInfo("gate", True), gate),))])
    settings = Settings(home=tmp_path / "home", open_data_dir=data_dir, max_concurrent_plans=2)
    sup = assemble(
        settings, repos=memory_repositories(), registry=registry, gazetteer=load_gazetteer(data_dir)
    )
    runner = sup.runs
    step = LeadGenPlanStep(id="wait", title="Wait", tool="WAIT")
    for n in range(5):
        plan = LeadGenPlan(id=f"p{n}", user_id="u1", goal=LeadGenGoal(raw_goal="x"), steps=[step])
        await sup.repos.plans.save(plan, session_id="s1")
        runner.submit(await sup.plans.approve_plan(plan.id), session_id="s1")
    for _ in range(50):
        await asyncio.sleep(0.01)
    # two run; three wait, each saying so in its log and its progress
    assert gate.running == 2
    details = [(await sup.plans.progress(f"p{n}")).detail for n in range(5)]
    assert details == [None, None, "queued", "queued", "queued"]
    queued = (await sup.repos.plans.events("p4"))[0]
    assert (queued.type.value, queued.data) == ("PLAN_QUEUED", {"ahead": 2})
    # one is cancelled while it waits: nothing of it runs
    assert await runner.cancel("p3", session_id="s1") is PlanStatus.CANCELLED
    assert [e.type.value for e in await sup.repos.plans.events("p3")] == ["PLAN_QUEUED", "PLAN_CANCELLED"]
    gate.opened.set()
    await runner.wait_idle()
    assert gate.most == 2
    statuses = [(await sup.plans.progress(f"p{n}")).detail for n in range(5)]
    assert statuses == ["succeeded", "succeeded", "succeeded", "cancelled", "succeeded"]
