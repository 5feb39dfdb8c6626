"""Live progress from any web server: an event stored and published through one process's bus wakes the SSE
streams of every other process on the same Postgres (``PgEventRelay``: ``LISTEN``/``NOTIFY``)."""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest

from tests.fakes.plan_events import append_and_publish, plan_event
from tests.fakes.postgres import create_database, drop_database
from tests.processes import REPO
from wyshbone.domain.models import LeadGenGoal, LeadGenPlan, PlanEvent
from wyshbone.services.bus import WAKE, EventBus, PgEventRelay
from wyshbone.storage import Repositories, open_repositories
from wyshbone.storage.notify import PlanNotice, decode_notice, encode_notice
from wyshbone.web.sse import POLL_SECONDS, event_stream

PLANS = 100
ROUNDS = 10


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    url = create_database(postgres_url)
    yield url
    drop_database(url)


@asynccontextmanager
async def server(url: str) -> AsyncIterator[tuple[Repositories, EventBus]]:
    """One "web server": its own store connections, bus and relay."""
    repos, bus = open_repositories(url), EventBus()
    relay = PgEventRelay(bus, url)
    await relay.start()
    try:
        yield repos, bus
    finally:
        await relay.stop()
        await repos.close()


async def _never_disconnected() -> bool:
    return False


async def _save_plans(repos: Repositories, count: int) -> list[str]:
    ids = [f"plan-{i}" for i in range(count)]
    for plan_id in ids:
        await repos.plans.save(LeadGenPlan(id=plan_id, user_id="u", goal=LeadGenGoal(raw_goal="g"), steps=[]))
    return ids


async def _read_stream(
    repos: Repositories,
    bus: EventBus,
    plan_id: str,
    arrivals: list[float],
    seen: dict[int, float] | None = None,
) -> None:
    """Follow one plan's SSE stream to its end; for each event, how long after ``data.sentAt`` it came out
    (and, in ``seen``, when: seq → wall clock)."""
    async for chunk in event_stream(repos.plans, bus, plan_id, after=0, disconnected=_never_disconnected):
        if chunk.startswith("id:"):
            data = json.loads(chunk.split("data: ", 1)[1])
            now = time.time()
            arrivals.append(now - data["data"]["sentAt"])
            if seen is not None:
                seen[data["seq"]] = now


def test_notice_payload_round_trips_and_foreign_payloads_are_ignored() -> None:
    notice = PlanNotice(plan_id='p 1 "x"', seq=7, origin="abc")
    assert decode_notice(encode_notice(notice)) == notice
    assert [decode_notice(p) for p in ("", "hello", "[1,2,3]", '{"a":1}')] == [None] * 4


def _stored(plan_id: str, seq: int, **data: object) -> PlanEvent:
    return plan_event(plan_id, last=False).model_copy(update={"seq": seq, "data": data})


@pytest.mark.postgres
async def test_event_published_on_one_bus_reaches_another_servers_readers(database: str) -> None:
    async with server(database) as (_, bus_a), server(database) as (_, bus_b):
        with bus_a.subscribe("p1") as here, bus_b.subscribe("p1") as there, bus_b.subscribe("p2") as other:
            small, big = _stored("p1", 1, note="hi"), _stored("p1", 2, note="x" * 8000)
            bus_a.publish(small)
            bus_a.publish(big)

            assert await asyncio.wait_for(there.get(), 2.0) == small  # carried by its notice
            assert await asyncio.wait_for(there.get(), 2.0) is WAKE  # too big for one: read it from the store
            assert [here.get_nowait(), here.get_nowait()] == [
                small,
                big,
            ]  # the publishing server's own readers
            await asyncio.sleep(0.2)
            assert here.empty()  # ... hear nothing more from their own notices
            assert other.empty()  # and another plan's readers nothing at all


@pytest.mark.postgres
async def test_sse_on_one_server_sees_events_stored_through_another_in_the_same_process(
    database: str,
) -> None:
    async with server(database) as (repos_a, bus_a), server(database) as (repos_b, bus_b):
        plan_ids = await _save_plans(repos_a, 10)
        arrivals: list[float] = []
        readers = [asyncio.create_task(_read_stream(repos_b, bus_b, p, arrivals)) for p in plan_ids]
        await asyncio.sleep(0.3)  # every reader has caught up and waits on its bus
        for round_ in range(ROUNDS):
            events = (plan_event(p, last=round_ == ROUNDS - 1, step=f"s{round_}") for p in plan_ids)
            await asyncio.gather(*(append_and_publish(repos_a.plans, bus_a, e) for e in events))
            await asyncio.sleep(0.05)
        await asyncio.wait_for(asyncio.gather(*readers), 10.0)

    assert len(arrivals) == 10 * ROUNDS  # every event, once
    assert max(arrivals) < POLL_SECONDS / 2  # each woken by its notice, not found by the poll


async def _from_another_process(
    database: str, *, plans: int, rounds: int, interval: float
) -> tuple[list[float], list[float]]:
    """SSE readers here following ``plans`` plans whose events another process stores; each event's delay
    from its emission (the store's write included), and from the moment it was stored."""
    async with server(database) as (repos, bus):
        plan_ids = await _save_plans(repos, plans)
        arrivals: list[float] = []
        seen: dict[int, float] = {}
        readers = [asyncio.create_task(_read_stream(repos, bus, p, arrivals, seen)) for p in plan_ids]
        command = [sys.executable, "-m", "tests.fakes.plan_events", database, str(rounds), str(interval)]
        sender = await asyncio.create_subprocess_exec(
            *command, *plan_ids, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        out, err = await sender.communicate()
        assert sender.returncode == 0, err.decode()
        await asyncio.wait_for(asyncio.gather(*readers), 10.0)
    stored = {int(seq): float(at) for seq, at in (line.split() for line in out.decode().splitlines())}
    assert len(arrivals) == len(seen) == len(stored) == plans * rounds  # every event, once
    return arrivals, [seen[seq] - at for seq, at in stored.items()]


@pytest.mark.postgres
async def test_sse_sees_events_stored_by_another_process(database: str) -> None:
    arrivals, _ = await _from_another_process(database, plans=1, rounds=5, interval=0.3)

    print(f"event stored by another process -> SSE here: {', '.join(f'{a * 1000:.0f}' for a in arrivals)} ms")
    assert max(arrivals) < 0.3  # each woken by its notice (the poll, once a second, would be later)


@pytest.mark.postgres
async def test_sse_wake_p95_with_100_plans_running_in_another_process(database: str) -> None:
    emitted, stored = await _from_another_process(database, plans=PLANS, rounds=ROUNDS, interval=0.05)

    def ms(delays: list[float]) -> str:
        p50, p95 = statistics.median(delays), statistics.quantiles(delays, n=20)[18]
        return f"p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"

    print(f"{PLANS} plans in a worker process -> SSE in a web process (goal p95 100 ms):")
    print(f"  event stored -> SSE: {ms(stored)}; emitted (the store's write included) -> SSE: {ms(emitted)}")
    assert statistics.quantiles(stored, n=20)[18] < POLL_SECONDS / 2  # woken by the notice, not the poll
