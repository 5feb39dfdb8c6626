"""Monitor leases: two schedulers at once run each due monitor once; a crashed run's hold lapses within a minute.

The same cafés and fakes as the end-to-end CLI test; the schedulers are real ``wyshbone monitors run-due``
processes on one store.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, update

from tests.fakes.cafes import GOAL, World
from tests.processes import REPO
from wyshbone.bootstrap import AppContext
from wyshbone.domain.models import SupervisorUserContext
from wyshbone.services import MONITOR_HEARTBEAT, MONITOR_LEASE
from wyshbone.storage import tables
from wyshbone.storage._sql import iso
from wyshbone.storage.db import sync_url
from wyshbone.storage.monitors import MonitorRepository

pytestmark = [pytest.mark.data, pytest.mark.timeout(240)]

USER = SupervisorUserContext(user_id="u-cafes")
MONITORS = 8


async def _run_due_process() -> tuple[int, str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wyshbone.cli",
        "monitors",
        "run-due",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def test_two_schedulers_at_once_run_each_due_monitor_once(
    world: World, sup: AppContext, store_url: str
) -> None:
    for _ in range(MONITORS):
        plan = await sup.plans.start_plan(GOAL, USER, session_id="session-cafes-0001")
        await sup.plans.run_plan(await sup.plans.approve_plan(plan.id), USER)
    repo = sup.repos.monitors
    # Every monitor's first check (the baseline) is due at once; then, a week and a day on, the next one.
    await _two_schedulers_run_each_monitor_once(repo, ["baseline", "setup"])
    engine = create_engine(sync_url(store_url))
    with engine.begin() as conn:
        conn.execute(update(tables.monitors).values(next_run_at=iso(datetime.now(UTC) - timedelta(days=1))))
    engine.dispose()
    await _two_schedulers_run_each_monitor_once(repo, ["baseline", "scheduled", "setup"])


async def _two_schedulers_run_each_monitor_once(repo: MonitorRepository, kinds: list[str]) -> None:
    """Two ``run-due`` processes at once; then every monitor has run once more, by whichever leased it first."""
    assert len(await repo.due(datetime.now(UTC))) == MONITORS
    (code_a, out_a), (code_b, out_b) = await asyncio.gather(_run_due_process(), _run_due_process())
    assert (code_a, code_b) == (0, 0), out_a + out_b
    monitors = await repo.find()
    assert len(monitors) == MONITORS
    for monitor in monitors:
        runs = [run.kind for run in await repo.runs(monitor.id)]
        assert sorted(runs) == kinds, (monitor.id, runs, out_a, out_b)
        assert monitor.next_run_at > datetime.now(UTC) + timedelta(days=6)


async def test_a_crashed_runs_monitor_lease_lapses_within_a_minute(world: World, sup: AppContext) -> None:
    plan = await sup.plans.start_plan(GOAL, USER, session_id="session-cafes-0001")
    await sup.plans.run_plan(await sup.plans.approve_plan(plan.id), USER)
    repo = sup.repos.monitors
    (monitor,) = await repo.find()
    t0 = monitor.next_run_at + timedelta(minutes=1)  # due
    assert MONITOR_HEARTBEAT * 2 < MONITOR_LEASE <= timedelta(minutes=1)

    async def lease(owner: str, at: datetime) -> bool:
        return await repo.lease(monitor.id, owner=owner, now=at, until=at + MONITOR_LEASE, due=True)

    assert await lease("crashed", t0)
    # while its heartbeat renews the hold, nobody else runs the monitor
    renewed = t0 + MONITOR_HEARTBEAT
    assert await repo.renew_lease(monitor.id, owner="crashed", until=renewed + MONITOR_LEASE)
    assert not await repo.renew_lease(monitor.id, owner="someone-else", until=renewed)
    assert not await lease("other", renewed + MONITOR_LEASE - timedelta(seconds=1))
    # then it crashes: the last heartbeat's hold lapses, and another scheduler takes the monitor
    assert await lease("other", renewed + MONITOR_LEASE + timedelta(seconds=1))
