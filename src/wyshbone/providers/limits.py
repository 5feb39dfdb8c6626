"""Provider rate limits over pyrate-limiter's sliding-window log: in memory (one process, the embedded mode) or
in one Postgres table per limiter, shared by every process on that database (queue mode), so many workers
together stay within a service's limit. ``limiter_for`` picks the backend; clients take a ``Limiter``.
"""

from __future__ import annotations

import asyncio
import math
import time
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from pyrate_limiter import (
    InMemoryBucket,
    MonotonicClock,
    PostgresBucket,
    PostgresClock,
    Rate,
    SingleBucketFactory,
)
from pyrate_limiter import Limiter as Pyrate
from sqlalchemy.engine import make_url

from wyshbone.config import Settings
from wyshbone.errors import PermanentToolError, RetryableToolError

__all__ = [
    "MONOTONIC",
    "Closes",
    "InMemoryLimiter",
    "Limiter",
    "PostgresLimiter",
    "close_postgres_limiters",
    "libpq_url",
    "limiter_for",
    "never_admits",
    "shared_limits_url",
    "smoothed",
    "track_postgres_limiter",
    "unreadable_limit",
    "windows",
]

IN_MEMORY_BUFFER_MS = 0
"""Sleep no more than the computed wait (which already ends 1 ms past the window): one clock, one process."""
POSTGRES_BUFFER_MS = 1
"""Also the pause after losing the table lock to another process, so a contended limiter does not spin."""
MONOTONIC = MonotonicClock()
"""The in-memory buckets' clock (milliseconds)."""
POSTGRES_RETRY_SECONDS = 1.0
"""When the database behind a shared limit does not answer, the step is retried after this long."""
POSTGRES_CONNECT_SECONDS = 5.0
"""How long an acquisition waits for a connection to the database before the step is retried."""
POSTGRES_LEAK_SECONDS = 10.0
"""How often a Postgres limiter deletes the rows no window still sees."""


class Limiter(Protocol):
    """Anything that waits until one more request is allowed."""

    async def acquire(self) -> None: ...


class Closes(Protocol):
    """Anything holding a thread or connection to release."""

    def close(self) -> None: ...


def windows(*pairs: tuple[int, float]) -> list[Rate]:
    """``(limit, seconds)`` pairs as pyrate-limiter rates: ``windows((15, 1.0), (500, 61.0))``."""
    return [Rate(limit, max(1, math.ceil(seconds * 1000))) for limit, seconds in pairs]


def smoothed(rate: int, per: float, *, margin: float = 0.03) -> list[Rate]:
    """Rates that keep ``rate`` per ``per`` as the *server* counts it, on its own clock.

    The window is stretched by ``margin`` (3%) for the jitter between a grant and its arrival, and grants are
    paced in small groups (at most 1/25 of the rate at once) so that a ``per`` holds at most ``rate`` less one
    group: a pause of the whole process (a garbage collection, 70-250 ms in bench/enrich.py) holds back the
    group granted just before it, which then arrives with those granted just after, so a slot is kept for it.
    Bigger bursts (a tenth of the rate at once) let a pause hold back the whole burst: Hunter's busiest second
    saw 51-54 requests against 50.
    """
    if rate < 1:
        raise ValueError(f"a rate limit admits at least one request, not {rate}")
    long_ms = round(per * 1000 * (1.0 + margin))
    group = max(1, rate // 25)
    groups = (rate - group) // group  # per `per`, leaving one group's room
    if groups < 1:
        return [Rate(rate, long_ms)]
    # The window counts its lower bound, so a group every (interval + 1) ms.
    pace = Rate(group, max(1, math.ceil(per * 1000 / groups) - 1))
    if pace.limit / pace.interval < rate / long_ms:
        return [pace]  # the pace alone keeps the long window (pyrate-limiter refuses a denser long one)
    return [pace, Rate(rate, long_ms)]


class InMemoryLimiter:
    """One process's limiter: waiting callers queue first come, first served (pyrate-limiter's loop-local lock)
    and the one at the head sleeps until the window has room, so no crowd wakes at once.

    Bucket state is guarded by a thread lock, so one instance serves every event loop of the process.
    """

    def __init__(self, name: str, rates: Sequence[Rate]) -> None:
        self.name = name
        self._bucket = InMemoryBucket(list(rates))
        # No leak thread: forgotten grants are dropped after each acquisition (a bisect and a slice).
        self._limiter = Pyrate(_single(self._bucket), buffer_ms=IN_MEMORY_BUFFER_MS)

    def __repr__(self) -> str:
        return f"InMemoryLimiter({self.name!r}, {self._bucket.rates})"

    @property
    def rates(self) -> list[Rate]:
        return list(self._bucket.rates)

    async def acquire(self) -> None:
        if not await self._limiter.try_acquire_async(self.name):
            raise never_admits(self.name, self._bucket.rates)
        self._bucket.leak(MONOTONIC.now())  # the in-memory bucket's own clock

    def close(self) -> None:
        """Nothing to release (no thread, no connection); here so both limiters close alike."""


class PostgresLimiter:
    """A limiter whose grants are rows of one table (``ratelimit___<name>``) on a Postgres database, so every
    process using the same name shares one limit; timestamps come from the database's clock.

    pyrate-limiter's Postgres bucket is blocking, so each acquisition runs on this limiter's own thread: the
    event loop never waits on the database, and the process's callers queue there first come, first served.
    The thread, the connection pool and the table are made on first use (a process that never calls out opens
    nothing), and again after ``close()``.
    """

    def __init__(self, name: str, rates: Sequence[Rate], *, url: str) -> None:
        self.name = name
        self._rates = list(rates)
        self._url = libpq_url(url)
        self._thread: ThreadPoolExecutor | None = None
        self._limiter: Pyrate | None = None
        self._bucket: PostgresBucket | None = None
        self._leaked_at = 0.0
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        track_postgres_limiter(self)

    def __repr__(self) -> str:
        return f"PostgresLimiter({self.name!r}, {self._rates})"

    @property
    def rates(self) -> list[Rate]:
        return list(self._rates)

    async def acquire(self) -> None:
        import psycopg  # only a Postgres limiter needs it; embedded start-up does not load it

        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"ratelimit-{self.name}")
        loop = asyncio.get_running_loop()
        # One acquisition of this process at a time, the next asked only once the loop has taken the last
        # grant: a stalled loop (a garbage collection) then holds back at most one granted request, which
        # would otherwise pile up on the thread and arrive at the service together with the next ones.
        turn = self._turns.setdefault(loop, asyncio.Lock())
        try:
            async with turn:
                admitted = await loop.run_in_executor(self._thread, self._acquire_blocking)
        except psycopg.Error as exc:
            raise unreadable_limit(self.name, exc) from exc
        if not admitted:
            raise never_admits(self.name, self._rates)

    def close(self) -> None:
        """Stop the thread (after an acquisition in progress) and close the pool; the next ``acquire`` reopens."""
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.shutdown(wait=True, cancel_futures=True)
        limiter, self._limiter, self._bucket = self._limiter, None, None
        if limiter is not None:
            limiter.close()  # closes the bucket, which closes its pool

    def _acquire_blocking(self) -> bool:
        limiter, bucket = self._open()
        admitted = limiter.try_acquire(self.name, blocking=True)
        if time.monotonic() - self._leaked_at >= POSTGRES_LEAK_SECONDS:
            self._leaked_at = time.monotonic()
            bucket.leak(PostgresClock(bucket.pool).now())
        return bool(admitted)

    def _open(self) -> tuple[Pyrate, PostgresBucket]:
        if self._limiter is None or self._bucket is None:
            from psycopg_pool import ConnectionPool

            pool = ConnectionPool(
                self._url, min_size=1, max_size=2, open=True, timeout=POSTGRES_CONNECT_SECONDS, name=self.name
            )
            try:
                self._bucket = PostgresBucket(pool, self.name, self._rates)  # creates the table if need be
            except BaseException:
                pool.close()
                raise
            self._limiter = Pyrate(_single(self._bucket), buffer_ms=POSTGRES_BUFFER_MS)
        return self._limiter, self._bucket


_POSTGRES_LIMITERS: weakref.WeakSet[Closes] = weakref.WeakSet()


def track_postgres_limiter(limiter: Closes) -> None:
    """Have ``close_postgres_limiters`` close ``limiter`` too (kept weakly: a forgotten limiter is not held)."""
    _POSTGRES_LIMITERS.add(limiter)


def close_postgres_limiters() -> None:
    """Close every Postgres limiter of this process (their threads and pools); each reopens on its next use.
    For the end of a process's life (``AppContext`` closing), so no connection outlives its store."""
    for limiter in list(_POSTGRES_LIMITERS):
        limiter.close()


def shared_limits_url(settings: Settings) -> str | None:
    """Where the rate limits are kept: the Postgres database every process shares in queue mode; None (this
    process's memory) in the embedded mode."""
    return settings.database_url if settings.execution == "queue" else None


def limiter_for(
    name: str, rates: Sequence[Rate], *, postgres_url: str | None
) -> InMemoryLimiter | PostgresLimiter:
    """The limiter called ``name``: shared through Postgres when given a Postgres URL (every process using that
    name and database shares it), else this process's own."""
    if postgres_url is None:
        return InMemoryLimiter(name, rates)
    return PostgresLimiter(name, rates, url=postgres_url)


def libpq_url(url: str) -> str:
    """A SQLAlchemy-style URL (``postgresql+psycopg://…``) as libpq reads it (``postgresql://…``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        shown = parsed.difference_update_query(["password"]).render_as_string(hide_password=True)
        raise ValueError(f"not a PostgreSQL URL: {shown}")
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _single(bucket: InMemoryBucket | PostgresBucket) -> SingleBucketFactory:
    # No leak thread: each limiter drops the grants no window still sees itself.
    return SingleBucketFactory(bucket, schedule_leak=False)


def never_admits(name: str, rates: Sequence[Rate]) -> PermanentToolError:
    # Only a limit below one request can refuse for good: a configuration error, not the service's.
    return PermanentToolError(f"{name}: the rate limit {list(rates)} can never admit a request")


def unreadable_limit(name: str, exc: Exception) -> RetryableToolError:
    return RetryableToolError(
        f"{name}: the shared rate limit could not be read: {type(exc).__name__}: {exc}",
        retry_after=POSTGRES_RETRY_SECONDS,
        explanation="the shared rate limit could not be checked (the database did not answer)",
    )
