"""200 plans executing at once in one process, each step a fake 20 ms tool, every event durable in SQLite.

Reports wall time against the critical path of one plan (the floor) and against running the plans one
after another (what a sequential runner would take), and the memory the run added.
"""

from __future__ import annotations

import asyncio
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

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
from wyshbone.executor import Runtime, execute_lead_generation_plan
from wyshbone.storage import sql_repositories
from wyshbone.storage.db import Database
from wyshbone.tools import Provider, ToolRegistry, ToolSpec

PLANS = 200
STEP_SECONDS = 0.020
CHAIN = ("search", "domains", "enrich", "save")
USER = SupervisorUserContext(user_id="bench")


async def _fake(params: dict[str, Any], env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
    await asyncio.sleep(STEP_SECONDS)
    return LeadToolExecutionResult(success=True, data={"step": env.step_id})


def _plan(n: int) -> LeadGenPlan:
    steps = [
        LeadGenPlanStep(id=sid, title=sid.title(), tool="FAKE", depends_on=[CHAIN[i - 1]] if i else [])
        for i, sid in enumerate(CHAIN)
    ]
    return LeadGenPlan(id=f"plan-{n}", user_id="bench", goal=LeadGenGoal(raw_goal="bench"), steps=steps)


async def _measure(db: Path) -> tuple[float, float, int]:
    repos = sql_repositories(await Database.connect(f"sqlite:///{db}"))
    registry = ToolRegistry.of(
        [ToolSpec("FAKE", (Provider(ProviderInfo("fake", True, external=False), _fake),))]
    )
    runtime = Runtime(registry=registry, plans=repos.plans)
    plans = [_plan(n) for n in range(PLANS)]
    tracemalloc.start()
    start = time.perf_counter()
    results = await asyncio.gather(*(execute_lead_generation_plan(p, USER, runtime=runtime) for p in plans))
    wall = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert all(r.overall_status is OverallStatus.SUCCEEDED for r in results)
    events = 0
    for p in plans:
        events += len(await repos.plans.events(p.id))
    await repos.close()
    return wall, peak / 1e6, events


def run() -> list[tuple[str, float, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        wall, peak_mb, events = asyncio.run(_measure(Path(tmp) / "plans.sqlite"))
    floor = len(CHAIN) * STEP_SECONDS
    sequential = PLANS * floor
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [
        (
            f"{PLANS} plans at once ({len(CHAIN)} fake {STEP_SECONDS * 1000:.0f} ms steps each)",
            wall,
            f"all {PLANS} succeeded, {events} events stored, in {wall:.2f} s: {wall / floor:.1f}× one plan's "
            f"critical path ({floor:.2f} s), {sequential / wall:.0f}× faster than one after another "
            f"({sequential:.0f} s); peak traced memory {peak_mb:.1f} MB ({peak_mb * 1000 / PLANS:.0f} kB/plan), "
            f"process max RSS {rss_mb:.0f} MB",
        )
    ]


if __name__ == "__main__":
    for name, _, text in run():
        print(f"{name}: {text}")
