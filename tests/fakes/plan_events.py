"""Another process appending a plan's events, as a worker would: each stored, then published on a bus whose
``PgEventRelay`` announces it to every process on the database. ``data.sentAt`` stamps each with the wall clock.

Run: ``python -m tests.fakes.plan_events DATABASE_URL ROUNDS INTERVAL_SECONDS PLAN_ID…``: each round appends
one event to every plan at once, then waits; the last round's events are ``PLAN_COMPLETED``. Prints ``seq stored_at`` for each event once it is stored.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime

from wyshbone.domain.models import PlanEvent, PlanEventType
from wyshbone.services.bus import EventBus, PgEventRelay
from wyshbone.storage import open_repositories
from wyshbone.storage.plans import PlanRepository


def plan_event(plan_id: str, *, last: bool, step: str | None = None) -> PlanEvent:
    """A step's start (or, ``last``, the plan's completion), stamped with the wall clock in ``data.sentAt``."""
    return PlanEvent(
        timestamp=datetime.now(UTC),
        type=PlanEventType.PLAN_COMPLETED if last else PlanEventType.STEP_STARTED,
        plan_id=plan_id,
        user_id="u",
        step_id=None if last else step,
        data={"sentAt": time.time()},
    )


async def append_and_publish(store: PlanRepository, bus: EventBus, event: PlanEvent) -> PlanEvent:
    """What ``executor.emit_plan_event`` does: store, then publish."""
    stored = await store.append_event(event)
    bus.publish(stored)
    return stored


async def _emit(store: PlanRepository, bus: EventBus, event: PlanEvent) -> None:
    """Store and publish, then say on stdout when it was stored: ``seq time`` (wall clock)."""
    stored = await append_and_publish(store, bus, event)
    print(stored.seq, time.time(), flush=True)


async def _main(url: str, rounds: int, interval: float, plan_ids: list[str]) -> None:
    repos = open_repositories(url)
    bus = EventBus()
    relay = PgEventRelay(bus, url, listen=False)
    await relay.start()
    try:
        for i in range(rounds):
            await asyncio.sleep(interval)
            last = i == rounds - 1
            await asyncio.gather(
                *(_emit(repos.plans, bus, plan_event(p, last=last, step=f"s{i}")) for p in plan_ids)
            )
    finally:
        await relay.stop()
        await repos.close()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]))
