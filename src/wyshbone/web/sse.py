"""Server-sent events: a plan's stored events, in order, as they are stored; resumable by ``seq``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from wyshbone.domain.models import PlanEvent, PlanEventType
from wyshbone.services import Supervisor

KEEPALIVE_SECONDS = 15.0
"""A comment line this often keeps proxies from closing an idle stream."""
POLL_SECONDS = 1.0
"""Also look in the store this often: events written by another process wake no one here."""
_FINAL = frozenset({PlanEventType.PLAN_COMPLETED, PlanEventType.PLAN_CANCELLED})


def format_event(event: PlanEvent) -> str:
    return f"id: {event.seq}\nevent: {event.type.value}\ndata: {event.model_dump_json()}\n\n"


async def event_stream(
    sup: Supervisor, plan_id: str, *, after: int, disconnected: Callable[[], Awaitable[bool]]
) -> AsyncIterator[str]:
    """Yield every event after ``after``, then each new one; end after the plan's final event."""
    yield "retry: 2000\n\n"
    idle = 0.0
    while not await disconnected():
        batch = await sup.store.list_events(plan_id, after=after)
        for event in batch:
            after = event.seq or after
            yield format_event(event)
            if event.type in _FINAL:
                return
        if batch:
            idle = 0.0
            continue
        await sup.bus.wait(plan_id, within=POLL_SECONDS)
        idle += POLL_SECONDS
        if idle >= KEEPALIVE_SECONDS:
            idle = 0.0
            yield ": keepalive\n\n"
