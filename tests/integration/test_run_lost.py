"""A run whose plan another process ended cancelled (a cancel that found no live job, while a late earlier run
still held the plan) stops at its next lease renewal: no step runs after it, and the one cancellation stays the
only one in the log. A run this process is cancelling itself is left to record its own end."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.processes import step_started
from wyshbone.bootstrap import open_context
from wyshbone.config import Settings
from wyshbone.domain.models import PlanEventType, PlanStatus, SupervisorUserContext
from wyshbone.services.runs import InProcessRunQueue

pytestmark = pytest.mark.data

GOAL = "Find 20 coffee shops in Manchester"
SLOW_STEP = "hunter_domain_lookup_1"


async def test_a_run_stops_when_another_process_ended_its_plan_cancelled(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WYSHBONE_FAKE_STEP_SECONDS", "30")
    settings = Settings(
        home=tmp_path,
        open_data_dir=data_dir,
        plugins="bench.fake_tools:providers,tests.fakes.slow_tools:providers",
    )
    context = await open_context(settings)
    try:
        runs = context.runs
        assert isinstance(runs, InProcessRunQueue)
        user = SupervisorUserContext(user_id="session-lost-000001")
        plans = []
        for _ in range(2):
            plan = await context.plans.start_plan(GOAL, user, session_id=user.user_id)
            plans.append(await context.plans.approve_plan(plan.id, session_id=user.user_id))
            runs.submit(plans[-1], session_id=user.user_id)

        async def slow_step_running(plan_id: str) -> None:
            for _ in range(1000):
                events = [e.model_dump(by_alias=True) for e in await context.plans.events(plan_id)]
                if step_started(events, SLOW_STEP):
                    return
                await asyncio.sleep(0.02)
            raise AssertionError(f"{SLOW_STEP} did not start")

        await asyncio.gather(*(slow_step_running(p.id) for p in plans))
        ended, own = plans
        # Another process ends the first cancelled, as a cancel that found no live job does.
        store = context.repos.plans
        assert await store.transition(ended.id, from_=PlanStatus.EXECUTING, to=PlanStatus.CANCELLED)
        await context.plans.record(ended, PlanEventType.PLAN_CANCELLED, status="cancelled", data={})
        # This process cancels the second itself, at the same moment.
        assert runs.stop(own.id)
        await runs.renew()
        await asyncio.wait_for(runs.wait_idle(), 20)

        ended_events = await context.plans.events(ended.id)
        ended_log = [e.type for e in ended_events]
        assert ended_log.count(PlanEventType.PLAN_CANCELLED) == 1
        assert ended_log[-1] is PlanEventType.PLAN_CANCELLED
        # The slow step never ended, and no step after it started.
        after = ended_log.index(PlanEventType.STEP_STARTED, ended_log.index(PlanEventType.STEP_SUCCEEDED))
        assert ended_events[after].step_id == SLOW_STEP
        assert ended_log[after + 1 :] == [PlanEventType.PLAN_CANCELLED]
        own_log = [e.type for e in await context.plans.events(own.id)]
        assert (
            own_log.count(PlanEventType.PLAN_CANCELLED) == 1 and own_log[-1] is PlanEventType.PLAN_CANCELLED
        )
        assert (await context.plans.get_plan(own.id)).status is PlanStatus.CANCELLED
    finally:
        await context.close()
