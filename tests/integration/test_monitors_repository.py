"""The monitors repository: on SQLite, on Postgres and in memory, a monitor is made once, moves between active and
paused only from where it is, is held by one runner at a time (only while due), and records its runs whole."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import EVERY_BACKEND
from wyshbone.domain.models import Lead, LeadGenGoal, LeadGenPlan
from wyshbone.domain.monitors import MonitorRun, identities
from wyshbone.storage import Repositories
from wyshbone.storage.monitors import ACTIVE, PAUSED

pytestmark = pytest.mark.parametrize("store_url", EVERY_BACKEND, indirect=True)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
WEEK = timedelta(weeks=1)
SEARCH = {"stepId": "search", "tool": "GLOBAL_DB_SEARCH", "params": {"maxResults": 50}}


def lead(n: int, name: str | None = None) -> Lead:
    return Lead(name=name or f"Cafe {n}", source="fsa_fhrs", source_id=f"fsa_fhrs:{n}", postcode=f"M{n} 1AA")


def run(
    status: str = "succeeded", *, kind: str = "baseline", at: datetime = T0, **fields: object
) -> MonitorRun:
    times = {"started_at": at, "finished_at": at + timedelta(seconds=5)}
    return MonitorRun.model_validate({"monitor_id": 0, "kind": kind, "status": status, **times, **fields})


async def monitor_of(
    repos: Repositories,
    *,
    step: str = "monitor",
    session: str | None = "s1",
    baseline: MonitorRun | None = None,
) -> tuple[int, int, bool]:
    plan = LeadGenPlan(id="p1", user_id="u", goal=LeadGenGoal(raw_goal="g"), steps=[])
    await repos.plans.save(plan, session_id="s1")
    saved = await repos.leads.save(plan_id="p1", step_id="save", list_name="Cafes", leads=[lead(1), lead(2)])
    monitor_id, created = await repos.monitors.create(
        plan_id="p1",
        step_id=step,
        session_id=session,
        user_id="u",
        list_id=saved.list_id,
        name="New cafes in Manchester",
        search=SEARCH,
        cadence="weekly",
        baseline=baseline or run(found=2),
        known=[lead(1), lead(2), lead(2)],
        next_run_at=T0 + WEEK,
    )
    return monitor_id, saved.list_id, created


async def test_monitors_are_made_once_with_what_they_know_and_their_baseline(repos: Repositories) -> None:
    monitor_id, list_id, created = await monitor_of(repos)
    again, _, created_again = await monitor_of(repos, session="s2")
    assert (created, again, created_again) == (True, monitor_id, False)
    (monitor,) = await repos.monitors.find(session_id="s1")
    assert (monitor.id, monitor.plan_id, monitor.session_id, monitor.list_id, monitor.search) == (
        monitor_id,
        "p1",
        "s1",
        list_id,
        SEARCH,
    )
    assert (monitor.status, monitor.cadence.value, monitor.known) == (ACTIVE, "weekly", 2)
    assert (monitor.next_run_at, monitor.last_success_at, monitor.created_at) == (T0 + WEEK, T0, T0)
    assert monitor.last_run is not None
    assert (monitor.last_run.kind, monitor.last_run.found, monitor.last_run.monitor_id) == (
        "baseline",
        2,
        monitor_id,
    )
    assert await repos.monitors.known(monitor_id) == {key for n in (1, 2) for key in identities(lead(n))}
    assert await repos.monitors.find(session_id="s2") == []
    assert await repos.monitors.find(monitor_id=monitor_id) == [monitor]
    assert await repos.monitors.find() == [monitor]
    # a monitor whose baseline failed has no success yet: its next run takes the baseline
    failed, _, _ = await monitor_of(repos, step="other", baseline=run("failed", error="down"))
    newest = (await repos.monitors.find())[0]
    assert (newest.id, newest.last_success_at, newest.last_run.status) == (failed, None, "failed")  # type: ignore[union-attr]


async def test_monitors_move_between_active_and_paused_only_from_where_they_are(repos: Repositories) -> None:
    monitor_id, _, _ = await monitor_of(repos)
    assert not await repos.monitors.transition(monitor_id, from_=PAUSED, to=ACTIVE)  # it is active
    assert await repos.monitors.transition(monitor_id, from_=ACTIVE, to=PAUSED)
    assert not await repos.monitors.transition(monitor_id, from_=ACTIVE, to=PAUSED)
    assert await repos.monitors.due(T0 + 2 * WEEK) == []  # paused: never due
    assert await repos.monitors.transition(monitor_id, from_=PAUSED, to=ACTIVE)
    assert await repos.monitors.due(T0 + 2 * WEEK) == [monitor_id]  # missed while paused: due at once
    assert not await repos.monitors.transition(999, from_=ACTIVE, to=PAUSED)
    with pytest.raises(ValueError, match="between active and paused"):
        await repos.monitors.transition(monitor_id, from_=ACTIVE, to="deleted")


async def test_monitors_are_held_by_one_runner_at_a_time_and_only_while_due(repos: Repositories) -> None:
    monitor_id, _, _ = await monitor_of(repos)
    due = T0 + WEEK
    # not due yet: a scheduler does not take it, a manual run does
    assert await repos.monitors.due(due - timedelta(seconds=1)) == []
    assert not await repos.monitors.lease(
        monitor_id, owner="a", now=T0, until=T0 + timedelta(minutes=1), due=True
    )
    # due: of ten schedulers at once, one holds it
    held = await asyncio.gather(
        *(
            repos.monitors.lease(
                monitor_id, owner=f"s{i}", now=due, until=due + timedelta(minutes=1), due=True
            )
            for i in range(10)
        )
    )
    assert sorted(held) == [False] * 9 + [True]
    owner = f"s{held.index(True)}"
    assert await repos.monitors.renew_lease(monitor_id, owner=owner, until=due + timedelta(minutes=2))
    assert not await repos.monitors.renew_lease(monitor_id, owner="other", until=due + timedelta(minutes=3))
    later = due + timedelta(minutes=1, seconds=30)
    assert not await repos.monitors.lease(
        monitor_id, owner="other", now=later, until=later + timedelta(minutes=1)
    )
    # the holder stops renewing: once its hold lapses, another runner takes the monitor
    lapsed = due + timedelta(minutes=2, seconds=1)
    assert await repos.monitors.lease(
        monitor_id, owner="other", now=lapsed, until=lapsed + timedelta(minutes=1)
    )
    assert not await repos.monitors.renew_lease(monitor_id, owner=owner, until=lapsed + timedelta(minutes=5))


async def test_monitors_record_a_run_whole(repos: Repositories) -> None:
    monitor_id, list_id, _ = await monitor_of(repos)
    due = T0 + WEEK
    assert await repos.monitors.lease(
        monitor_id, owner="a", now=due, until=due + timedelta(minutes=1), due=True
    )
    # a failed run is recorded, releases the hold, and leaves the schedule: it is due again at the next tick
    failed = await repos.monitors.record_run(
        run("failed", kind="scheduled", at=due, monitor_id=monitor_id, error="down"),
        list_id=list_id,
        owner="a",
    )
    assert failed.id is not None
    assert await repos.monitors.due(due) == [monitor_id]
    # a successful one adds the new leads to the list, remembers all it saw, and moves the schedule on
    done = run(
        "succeeded", kind="scheduled", at=due, monitor_id=monitor_id, found=3, new=1, new_leads=["Cafe 3"]
    )
    assert await repos.monitors.lease(
        monitor_id, owner="b", now=due, until=due + timedelta(minutes=1), due=True
    )
    recorded = await repos.monitors.record_run(
        done,
        list_id=list_id,
        owner="b",
        fresh=[lead(3)],
        seen=[lead(1), lead(4, "Seen Only")],
        next_run_at=due + WEEK,
    )
    assert recorded == done.model_copy(update={"id": recorded.id})
    assert [x.source_id for x in await repos.leads.of_list(list_id)] == [
        "fsa_fhrs:1",
        "fsa_fhrs:2",
        "fsa_fhrs:3",
    ]
    assert await repos.monitors.known(monitor_id) >= {*identities(lead(3)), *identities(lead(4, "Seen Only"))}
    assert await repos.monitors.due(due + WEEK - timedelta(seconds=1)) == []
    (monitor,) = await repos.monitors.find()
    assert (monitor.known, monitor.last_success_at, monitor.next_run_at) == (4, due, due + WEEK)
    assert monitor.last_run == recorded
    # released: the next runner may hold it at once (manual run)
    assert await repos.monitors.lease(monitor_id, owner="c", now=due, until=due + timedelta(minutes=1))
    # what followed the run (its drafts) is added to it
    await repos.monitors.update_run(recorded.model_copy(update={"drafted": 1, "message": "1 new, drafted"}))
    runs = await repos.monitors.runs(monitor_id)
    assert [(r.kind, r.status, r.drafted, r.message) for r in runs] == [
        ("scheduled", "succeeded", 1, "1 new, drafted"),
        ("scheduled", "failed", 0, None),
        ("baseline", "succeeded", 0, None),
    ]
    assert runs[1] == failed
    assert [r.id for r in await repos.monitors.runs(monitor_id, limit=1)] == [recorded.id]


async def test_monitors_held_are_not_due_and_a_late_run_leaves_the_new_holders_lease(
    repos: Repositories,
) -> None:
    monitor_id, list_id, _ = await monitor_of(repos)
    due = T0 + WEEK
    minute = timedelta(minutes=1)
    assert await repos.monitors.lease(monitor_id, owner="a", now=due, until=due + minute, due=True)
    assert await repos.monitors.due(due) == []  # held: nobody queues another check of it
    late = due + 2 * minute  # a's hold lapsed (its runner stalled): due again, and b takes it
    assert await repos.monitors.due(late) == [monitor_id]
    assert await repos.monitors.lease(monitor_id, owner="b", now=late, until=late + minute, due=True)
    assert not await repos.monitors.renew_lease(monitor_id, owner="a", until=late + minute)
    await repos.monitors.record_run(
        run("failed", kind="scheduled", at=due, monitor_id=monitor_id, error="late"),
        list_id=list_id,
        owner="a",
    )
    # a's record ended no lease but b's: b still holds it, so nobody else may
    assert not await repos.monitors.lease(monitor_id, owner="c", now=late, until=late + minute)
    assert await repos.monitors.renew_lease(monitor_id, owner="b", until=late + 2 * minute)


async def test_monitors_deleted_are_gone_with_their_runs_and_what_they_knew(repos: Repositories) -> None:
    monitor_id, _, _ = await monitor_of(repos)
    kept, _, _ = await monitor_of(repos, step="other")
    await repos.monitors.delete(monitor_id)
    assert [m.id for m in await repos.monitors.find()] == [kept]
    assert (await repos.monitors.runs(monitor_id), await repos.monitors.known(monitor_id)) == ([], set())
    assert await repos.monitors.due(T0 + 2 * WEEK) == [kept]
    assert len(await repos.monitors.runs(kept)) == 1
