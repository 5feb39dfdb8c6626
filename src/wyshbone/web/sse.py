"""Server-sent events: a plan's stored events, in order, as they are stored; resumable by ``seq``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from wyshbone.domain.models import PlanEvent, PlanEventType, PlanStatus
from wyshbone.services import EventBus
from wyshbone.services.bus import WAKE, Live
from wyshbone.storage.plans import PlanRepository

KEEPALIVE_SECONDS = 15.0
"""A comment line this often keeps proxies from closing an idle stream."""
POLL_SECONDS = 1.0
"""Also look in the store this often: without a ``PgEventRelay`` (or if a notice is lost) events stored by
another process reach no one here."""
_FINAL = frozenset({PlanEventType.PLAN_COMPLETED, PlanEventType.PLAN_CANCELLED})
_DONE = frozenset({PlanStatus.SUCCEEDED, PlanStatus.PARTIAL, PlanStatus.FAILED, PlanStatus.CANCELLED})


async def _finished(store: PlanRepository, plan_id: str) -> bool:
    head = await store.head(plan_id)
    return head is None or head.status in _DONE


def format_event(event: PlanEvent) -> str:
    return f"id: {event.seq}\nevent: {event.type.value}\ndata: {event.model_dump_json()}\n\n"


async def _next(store: PlanRepository, live: Live, plan_id: str, *, after: int) -> list[PlanEvent]:
    """What the bus brought (waiting up to ``POLL_SECONDS``), all of it; a ``WAKE`` among it means events were
    stored elsewhere, so the store is read instead (it holds everything published here too)."""
    brought = [await asyncio.wait_for(live.get(), POLL_SECONDS)]
    while not live.empty():
        brought.append(live.get_nowait())
    if any(item is WAKE for item in brought):
        return await store.events(plan_id, after=after)
    return sorted((item for item in brought if item is not None), key=lambda event: event.seq or 0)


async def event_stream(
    store: PlanRepository,
    bus: EventBus,
    plan_id: str,
    *,
    after: int,
    disconnected: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    """Yield every event after ``after``, then each new one; end after the plan's final event."""
    yield "retry: 2000\n\n"
    # Subscribe before catching up, so nothing published in between is missed (duplicates are skipped by seq).
    with bus.subscribe(plan_id) as live:
        pending = await store.events(plan_id, after=after)
        idle = 0.0
        while True:
            for event in pending:
                if (event.seq or 0) <= after:
                    continue
                after = event.seq or after
                yield format_event(event)
                if event.type in _FINAL:
                    return
            if await disconnected():
                return
            try:
                pending = await _next(store, live, plan_id, after=after)
                idle = 0.0
            except TimeoutError:
                pending = await store.events(plan_id, after=after)
                if not pending and await _finished(store, plan_id):
                    return  # e.g. a reconnect after the final event: nothing more will come
                idle += POLL_SECONDS
                if idle >= KEEPALIVE_SECONDS:
                    idle = 0.0
                    yield ": keepalive\n\n"
