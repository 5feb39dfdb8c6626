"""Postgres ``LISTEN``/``NOTIFY`` for plan events: a notice that a plan has new events in the store, sent by the
process that stored them and heard by every other process listening on the same database.

A notice says where to look (the plan, the event's ``seq``, who sent it) and carries the event itself when it
fits (NOTIFY payloads stop at 8000 bytes), so a reader need not read the store for it; the event store stays
the source of truth, so a lost notice costs a reader at most its next poll of the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

__all__ = ["CHANNEL", "PgEventListener", "PgNotifier", "PlanNotice", "decode_notice", "encode_notice"]

CHANNEL = "wyshbone_plan_events"
"""The one channel every process sends and listens on."""
RECONNECT_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)
"""Pauses between attempts to get a lost connection back (the last one repeats)."""
MAX_EVENT_CHARS = 7000
"""An event's JSON longer than this is left out of its notice (readers then read it from the store)."""
MAX_BATCH = 500
"""Most notices sent in one statement."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PlanNotice:
    """What one notice says."""

    plan_id: str
    seq: int | None
    """The stored event's ``seq`` (None when unknown)."""
    origin: str
    """The sending process's token, so it can ignore its own notices (its readers heard the event already)."""
    event: str | None = None
    """The stored event as JSON, when it fits in a notice (``MAX_EVENT_CHARS``)."""


def encode_notice(notice: PlanNotice) -> str:
    event = notice.event if notice.event is not None and len(notice.event) <= MAX_EVENT_CHARS else None
    return json.dumps([notice.origin, notice.plan_id, notice.seq, event], separators=(",", ":"))


def decode_notice(payload: str) -> PlanNotice | None:
    """The notice in ``payload``; None for anything else (another sender's payload on the channel)."""
    try:
        origin, plan_id, seq, event = json.loads(payload)
    except (ValueError, TypeError):
        return None
    if not isinstance(origin, str) or not isinstance(plan_id, str):
        return None
    return PlanNotice(
        plan_id=plan_id,
        seq=seq if isinstance(seq, int) else None,
        origin=origin,
        event=event if isinstance(event, str) else None,
    )


async def _connect(url: str) -> psycopg.AsyncConnection[tuple[object, ...]]:
    return await psycopg.AsyncConnection.connect(url, autocommit=True)


@dataclass
class PgNotifier:
    """Sends notices from one connection; ``notify`` never waits (it queues), a task sends what is queued in one
    statement, so a burst of events costs one round trip. A notice that cannot be sent is dropped (logged)."""

    url: str
    """A libpq URL (``postgresql://…``)."""
    _queue: asyncio.Queue[PlanNotice | None] = field(default_factory=asyncio.Queue)
    """Notices to send; None: send what came before, then close."""
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        connection = await _connect(self.url)
        self._task = asyncio.create_task(self._send(connection), name="pg-notifier")

    def notify(self, notice: PlanNotice) -> None:
        if self._task is not None:
            self._queue.put_nowait(notice)

    async def stop(self) -> None:
        """Send what is queued, then close."""
        task, self._task = self._task, None
        if task is None:
            return
        self._queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _send(self, connection: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
        try:
            while True:
                batch = [await self._queue.get()]
                while not self._queue.empty() and len(batch) < MAX_BATCH:
                    batch.append(self._queue.get_nowait())
                notices = [n for n in batch if n is not None]
                if notices:
                    connection = await self._send_batch(connection, notices)
                if len(notices) < len(batch):
                    return
        finally:
            await connection.close()

    async def _send_batch(
        self, connection: psycopg.AsyncConnection[tuple[object, ...]], notices: list[PlanNotice]
    ) -> psycopg.AsyncConnection[tuple[object, ...]]:
        """Send ``notices``; on a lost connection, reconnect once and drop them if that fails too."""
        payloads = [encode_notice(n) for n in notices]
        for attempt in range(2):
            try:
                if connection.closed:
                    connection = await _connect(self.url)
                await connection.execute(
                    "SELECT pg_notify(%s, p) FROM unnest(%s::text[]) AS p", (CHANNEL, payloads)
                )
                return connection
            except psycopg.OperationalError as exc:
                logger.warning("plan event notices not sent (attempt %d): %s", attempt + 1, exc)
        return connection


@dataclass
class PgEventListener:
    """Listens on ``CHANNEL`` and hands each notice to ``on_notice`` (on the loop that started it).

    A lost connection is reopened (``RECONNECT_SECONDS``); notices sent meanwhile are lost, so ``on_reconnect``
    is called once listening again (readers should look in the store).
    """

    url: str
    """A libpq URL (``postgresql://…``)."""
    on_notice: Callable[[PlanNotice], None]
    on_reconnect: Callable[[], None] = lambda: None
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Return once listening (so nothing sent after this is missed); fails if the database cannot be reached."""
        connection = await self._listen_on()
        self._task = asyncio.create_task(self._run(connection), name="pg-event-listener")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen_on(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        connection = await _connect(self.url)
        await connection.execute(f"LISTEN {CHANNEL}")
        return connection

    async def _run(self, connection: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
        while True:
            try:
                async for notify in connection.notifies():
                    notice = decode_notice(notify.payload)
                    if notice is not None:
                        self.on_notice(notice)
            except psycopg.OperationalError as exc:
                logger.warning("plan event listener lost its connection: %s", exc)
            finally:
                await connection.close()
            connection = await self._reconnect()
            self.on_reconnect()

    async def _reconnect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        for attempt in itertools.count():
            await asyncio.sleep(RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)])
            try:
                return await self._listen_on()
            except psycopg.OperationalError as exc:
                logger.warning("plan event listener cannot reconnect: %s", exc)
        raise AssertionError("unreachable")
