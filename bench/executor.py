"""Executor overhead per durable step: 1,000 no-op steps (a chain and a fan-out), every event and step
result committed to SQLite before the step counts as done, against a bare asyncio loop doing the same awaits.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from wyshbone.domain.models import (
    LeadGenGoal,
    LeadGenPlan,
    LeadGenPlanStep,
    LeadToolExecutionEnv,
    LeadToolExecutionResult,
    OverallStatus,
    SupervisorUserContext,
)
from wyshbone.domain.planner import ProviderInfo
from wyshbone.domain.steps import StepParams
from wyshbone.executor import Runtime, execute_lead_generation_plan
from wyshbone.storage import sql_repositories
from wyshbone.storage.db import Database
from wyshbone.tools import Provider, ToolRegistry, ToolSpec

N_STEPS = 1000
GOAL_MS = 1.0
USER = SupervisorUserContext(user_id="bench")
_RESULT = LeadToolExecutionResult(success=True, data={"ok": True})


async def _noop(params: StepParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
    await asyncio.sleep(0)
    return _RESULT


def _plan(shape: str, plan_id: str) -> LeadGenPlan:
    steps = []
    for i in range(N_STEPS):
        deps = [f"s{i - 1}"] if shape == "chain" and i else (["s0"] if shape == "fanout" and i else [])
        steps.append(LeadGenPlanStep(id=f"s{i}", title=f"step {i}", tool="NOOP", depends_on=deps))
    return LeadGenPlan(id=plan_id, user_id="bench", goal=LeadGenGoal(raw_goal="bench"), steps=steps)


async def _bare(shape: str) -> float:
    env = LeadToolExecutionEnv.model_construct(user=USER, plan=None, prior_results={}, step_id="")
    start = time.perf_counter()
    if shape == "chain":
        for _ in range(N_STEPS):
            await _noop({}, env)
    else:
        await _noop({}, env)
        sem = asyncio.Semaphore(4)

        async def one() -> None:
            async with sem:
                await _noop({}, env)

        await asyncio.gather(*(one() for _ in range(N_STEPS - 1)))
    return time.perf_counter() - start


async def _executor(shape: str, db: Path) -> float:
    repos = sql_repositories(await Database.connect(f"sqlite:///{db}"))
    registry = ToolRegistry.of(
        [ToolSpec("NOOP", (Provider(ProviderInfo("noop", True, external=False), _noop),))]
    )
    runtime = Runtime(registry=registry, plans=repos.plans, max_concurrency=4)
    plan = _plan(shape, f"bench-{shape}")
    try:
        start = time.perf_counter()
        result = await execute_lead_generation_plan(plan, USER, runtime=runtime)
        elapsed = time.perf_counter() - start
        assert result.overall_status is OverallStatus.SUCCEEDED
        stored = await repos.plans.events(plan.id)
        assert len(stored) == 2 * N_STEPS + 2, len(stored)
    finally:
        await repos.close()
    return elapsed


async def _measure() -> list[tuple[str, float, str]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for shape in ("chain", "fanout"):
            bare = await _bare(shape)
            ours = await _executor(shape, Path(tmp) / f"{shape}.sqlite")
            per_step_ms = (ours - bare) / N_STEPS * 1000
            rows.append(
                (
                    f"executor overhead per durable step ({shape}, {N_STEPS} no-op steps)",
                    per_step_ms,
                    f"{per_step_ms:.3f} ms/step (goal ≤ {GOAL_MS} ms: ratio {per_step_ms / GOAL_MS:.2f}); "
                    f"run {ours * 1000:.0f} ms vs bare asyncio loop {bare * 1000:.1f} ms "
                    f"(ratio {ours / bare:.0f}×)",
                )
            )
    return rows


def run() -> list[tuple[str, float, str]]:
    return asyncio.run(_measure())


if __name__ == "__main__":
    for name, _, text in run():
        print(f"{name}: {text}")
