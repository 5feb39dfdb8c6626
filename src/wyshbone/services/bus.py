"""The event bus: hands each stored plan event to this process's live readers of that plan (SSE streams)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from wyshbone.domain.models import PlanEvent

__all__ = ["EventBus"]


@dataclass
class EventBus:
    """Hands each stored event to this process's live readers of its plan (SSE streams).

    Events are published only after they are stored, so a reader that catches up from the store and then
    follows the bus misses nothing; events stored by another process are found by polling the store.
    """

    _subscribers: dict[str, set[asyncio.Queue[PlanEvent]]] = field(default_factory=lambda: defaultdict(set))

    def publish(self, event: PlanEvent) -> None:
        for queue in self._subscribers.get(event.plan_id, ()):
            queue.put_nowait(event)

    @contextmanager
    def subscribe(self, plan_id: str) -> Iterator[asyncio.Queue[PlanEvent]]:
        queue: asyncio.Queue[PlanEvent] = asyncio.Queue()
        self._subscribers[plan_id].add(queue)
        try:
            yield queue
        finally:
            subscribers = self._subscribers.get(plan_id)
            if subscribers is not None:
                subscribers.discard(queue)
                if not subscribers:
                    del self._subscribers[plan_id]
