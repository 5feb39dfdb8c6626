"""The event bus: hands each stored plan event to this process's live readers of that plan (SSE streams), and,
with a ``PgEventRelay`` (queue mode), tells every other process on the database to wake its readers too."""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import ValidationError

from wyshbone.domain.models import PlanEvent
from wyshbone.providers.limits import libpq_url

if TYPE_CHECKING:  # psycopg is loaded only in queue mode, when a relay starts
    from wyshbone.storage.notify import PgEventListener, PgNotifier, PlanNotice

__all__ = ["WAKE", "EventBus", "Live", "PgEventRelay"]

WAKE = None
"""Put on a reader's queue instead of an event: new events were stored elsewhere, read them from the store."""

Live = asyncio.Queue[PlanEvent | None]
"""One reader's queue: events published here, or ``WAKE``."""


@dataclass
class EventBus:
    """Hands each stored event to this process's live readers of its plan (SSE streams).

    Events are published only after they are stored, so a reader that catches up from the store and then
    follows the bus misses nothing. Events stored by another process arrive through a ``PgEventRelay`` (the
    event, or ``WAKE`` when it was too big for a notice), or are found by the reader's own poll of the store.
    """

    origin: str = field(default_factory=lambda: secrets.token_hex(8))
    """This bus's token in the notices it sends, so it can skip its own."""
    relay: Callable[[PlanNotice], None] | None = None
    """Tells other processes (set by ``PgEventRelay.start``); None: this process only."""
    _subscribers: dict[str, set[Live]] = field(default_factory=lambda: defaultdict(set))

    def publish(self, event: PlanEvent) -> None:
        for queue in self._subscribers.get(event.plan_id, ()):
            queue.put_nowait(event)
        if self.relay is not None:
            from wyshbone.storage.notify import PlanNotice  # loaded by PgEventRelay.start already

            notice = PlanNotice(event.plan_id, event.seq, self.origin, event=event.model_dump_json())
            self.relay(notice)

    def wake(self, plan_id: str) -> None:
        """Tell the readers of ``plan_id`` to read the store: it has events this bus did not publish."""
        for queue in self._subscribers.get(plan_id, ()):
            queue.put_nowait(WAKE)

    def wake_all(self) -> None:
        """Tell every reader to read the store (notices may have been lost)."""
        for plan_id in list(self._subscribers):
            self.wake(plan_id)

    def hear(self, notice: PlanNotice) -> None:
        """A notice from the relay: hand its event to the plan's readers (or, without one, wake them to read the
        store), unless this bus sent it (they have the event)."""
        if notice.origin == self.origin or notice.plan_id not in self._subscribers:
            return  # sent from here, or nobody here reads that plan: nothing to parse
        try:
            event = PlanEvent.model_validate_json(notice.event) if notice.event is not None else None
        except ValidationError:
            event = None
        if event is None or event.plan_id != notice.plan_id:
            self.wake(notice.plan_id)
            return
        for queue in self._subscribers.get(notice.plan_id, ()):
            queue.put_nowait(event)

    @contextmanager
    def subscribe(self, plan_id: str) -> Iterator[Live]:
        queue: Live = asyncio.Queue()
        self._subscribers[plan_id].add(queue)
        try:
            yield queue
        finally:
            subscribers = self._subscribers.get(plan_id)
            if subscribers is not None:
                subscribers.discard(queue)
                if not subscribers:
                    del self._subscribers[plan_id]


@dataclass
class PgEventRelay:
    """Joins a bus to every other process's over Postgres ``LISTEN``/``NOTIFY``: each event published here is
    announced (after it is stored), and each announcement heard from elsewhere wakes this bus's readers.

    ``start()`` on the loop that serves the readers, ``stop()`` before the loop ends; a process with no readers
    (a worker) may pass ``listen=False``.
    """

    bus: EventBus
    url: str
    """The database's URL (``postgresql://…`` or SQLAlchemy's ``postgresql+psycopg://…``)."""
    listen: bool = True
    _notifier: PgNotifier | None = None
    _listener: PgEventListener | None = None

    async def start(self) -> None:
        from wyshbone.storage.notify import PgEventListener, PgNotifier

        url = libpq_url(self.url)
        notifier = PgNotifier(url)
        await notifier.start()
        self._notifier = notifier
        if self.listen:
            listener = PgEventListener(url, on_notice=self.bus.hear, on_reconnect=self.bus.wake_all)
            try:
                await listener.start()
            except BaseException:
                await self.stop()
                raise
            self._listener = listener
        self.bus.relay = notifier.notify

    async def stop(self) -> None:
        self.bus.relay = None
        listener, self._listener = self._listener, None
        notifier, self._notifier = self._notifier, None
        if listener is not None:
            await listener.stop()
        if notifier is not None:
            await notifier.stop()
