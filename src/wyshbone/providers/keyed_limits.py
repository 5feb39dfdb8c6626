"""Rate limits per key (the crawler's politeness: one for each website host) over pyrate-limiter's buckets: in
memory, one small bucket per key (the embedded mode), or every key in one Postgres table shared by every process
on that database (queue mode), so many workers together keep to each host's limit. ``keyed_limiter_for`` picks
the backend.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from pyrate_limiter import InMemoryBucket, PostgresBucket, PostgresClock, Rate, RateItem

from wyshbone.providers.limits import (
    MONOTONIC,
    POSTGRES_BUFFER_MS,
    POSTGRES_CONNECT_SECONDS,
    POSTGRES_LEAK_SECONDS,
    libpq_url,
    never_admits,
    smoothed,
    track_postgres_limiter,
    unreadable_limit,
)

if TYPE_CHECKING:
    from psycopg import Connection
    from psycopg_pool import ConnectionPool

__all__ = [
    "CRAWL_LIMITER",
    "KEYS_BEFORE_SWEEP",
    "InMemoryKeyedLimiter",
    "KeyedLimiter",
    "PostgresKeyedLimiter",
    "host_key",
    "host_politeness",
    "keyed_limiter_for",
]

CRAWL_LIMITER = "crawl_host"
"""The crawler's per-host politeness limiter (in queue mode, its one table: ``ratelimit___crawl_host``)."""
KEYS_BEFORE_SWEEP = 4096
"""An in-memory keyed limiter forgets the keys no window still sees once it holds this many (or twice as many
as after its last sweep), so memory follows the keys in use, not every key ever seen."""
KEYED_POSTGRES_THREADS = 4
"""Threads (and pooled connections) a Postgres keyed limiter decides on, so one key's turn waits on no other."""


class KeyedLimiter(Protocol):
    """Anything that waits until one more request for ``key`` (a host) is allowed; each key has its own limit."""

    async def acquire(self, key: str) -> None: ...


class InMemoryKeyedLimiter:
    """This process's limits per key: one small bucket per key, made on first use and dropped once no window
    sees anything in it (an empty bucket and no bucket admit alike, so dropping one changes nothing).

    A caller whose key is at its limit sleeps until the key's window has room, then asks again; callers of
    other keys never wait on it. ``clock`` (milliseconds) and ``sleep`` are there for a fake clock in tests.
    """

    def __init__(
        self,
        name: str,
        rates: Sequence[Rate],
        *,
        clock: Callable[[], int] = MONOTONIC.now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.name = name
        self._rates = InMemoryBucket(list(rates)).rates  # sorted and checked once, as pyrate-limiter does
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, InMemoryBucket] = {}
        self._lock = threading.Lock()  # one instance serves every event loop of the process
        self._sweep_at = KEYS_BEFORE_SWEEP

    def __repr__(self) -> str:
        return f"InMemoryKeyedLimiter({self.name!r}, {self._rates})"

    def __len__(self) -> int:
        """How many keys it holds a bucket for now."""
        return len(self._buckets)

    async def acquire(self, key: str) -> None:
        while (wait_ms := self._try(key)) > 0:
            await self._sleep(wait_ms / 1000)

    def _try(self, key: str) -> int:
        """0 when a request for ``key`` is granted now, else the milliseconds until one may be."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                self._sweep(now)
                bucket = self._buckets[key] = InMemoryBucket(self._rates)
            item = RateItem(key, now)
            if bucket.put(item):
                return 0
            wait = bucket.waiting(item)
            assert isinstance(wait, int)  # an in-memory bucket answers at once
            if wait < 0:
                raise never_admits(self.name, self._rates)
            return max(wait, 1)

    def _sweep(self, now: int) -> None:
        if len(self._buckets) < self._sweep_at:
            return
        for key, bucket in list(self._buckets.items()):
            bucket.leak(now)
            if not bucket.count():
                del self._buckets[key]
        self._sweep_at = max(KEYS_BEFORE_SWEEP, 2 * len(self._buckets))

    def close(self) -> None:
        """Nothing to release; here so every limiter closes alike."""


class _KeyedPostgresBucket(PostgresBucket):
    """pyrate-limiter's Postgres bucket holding many keys in one table: each key's rows (its ``name`` column)
    counted apart, under a transaction lock of its own, at the database's time read under that lock."""

    def __init__(self, pool: ConnectionPool, table: str, rates: list[Rate]) -> None:
        from psycopg import sql

        super().__init__(pool, table, rates)  # creates the table and its indexes if need be
        table_id = sql.Identifier(self._full_tbl)
        window = sql.SQL("COUNT(*) FILTER (WHERE item_timestamp >= TO_TIMESTAMP(%s))")
        fields = sql.SQL(", ").join([window] * len(self.rates))
        self._q_count_key = sql.SQL("SELECT {} FROM {} WHERE name = %s").format(fields, table_id)
        self._q_peek_key = sql.SQL(
            "SELECT (extract(epoch FROM item_timestamp::TIMESTAMPTZ) * 1000)::bigint FROM {} WHERE name = %s "
            "ORDER BY item_timestamp DESC LIMIT 1 OFFSET %s"
        ).format(table_id)

    def _create_table(self) -> None:
        """The table and its timestamp index (pyrate-limiter's), then an index by key and time, under the same
        lock as the table's creation so two processes starting together do not race."""
        from psycopg import sql
        from pyrate_limiter.buckets.postgres import advisory_lock_id

        super()._create_table()  # type: ignore[no-untyped-call]
        index = sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (name, item_timestamp)").format(
            sql.Identifier(f"keyindex_{self.table}"), sql.Identifier(self._full_tbl)
        )
        with self._get_conn() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_lock_id(self._full_tbl),))
            conn.execute(index)

    def put(self, item: RateItem) -> bool:
        """One grant for the key ``item.name`` at the database's time (not ``item.timestamp``)."""
        return self.grant(item.name) == 0

    def grant(self, key: str) -> int:
        """0 when a request for ``key`` is granted now (its row written), else the milliseconds until one may be."""
        with self._get_conn() as conn:  # one transaction: the lock is held until it commits
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(%s))", (self._full_tbl, key))
            now = _fetch_int(conn, "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint", ())
            assert now is not None
            starts = [self._algorithm.window_start(rate, now) / 1000 for rate in self.rates]
            counts = conn.execute(self._q_count_key, (*starts, key)).fetchone()
            assert counts is not None
            decision = self._algorithm.decide(
                self.rates, counts, 1, now, lambda offset: _fetch_int(conn, self._q_peek_key, (key, offset))
            )
            if decision.allowed:
                conn.execute(self._q_put, (key, 1, now / 1000, 1))
                return 0
        if decision.retry_after_ms is None:
            raise never_admits(self.table, self.rates)
        return max(decision.retry_after_ms, 1)


def _fetch_int(conn: Connection[tuple[int]], query: object, params: tuple[object, ...]) -> int | None:
    row = conn.execute(query, params).fetchone()  # type: ignore[call-overload]
    return None if row is None else int(row[0])


class PostgresKeyedLimiter:
    """Limits per key kept in ONE table (``ratelimit___<name>``, a row per grant naming its key) on a Postgres
    database, shared by every process using the same name: one host's requests are counted together, whichever
    process sends them. Each attempt is one short transaction on a small thread pool; the waits between
    attempts are slept on the event loop, so a key at its limit holds up no other key.
    """

    def __init__(self, name: str, rates: Sequence[Rate], *, url: str) -> None:
        self.name = name
        self._rates = list(rates)
        self._url = libpq_url(url)
        self._thread: ThreadPoolExecutor | None = None
        self._bucket: _KeyedPostgresBucket | None = None
        self._opening = threading.Lock()
        self._leaked_at = 0.0
        track_postgres_limiter(self)

    def __repr__(self) -> str:
        return f"PostgresKeyedLimiter({self.name!r}, {self._rates})"

    async def acquire(self, key: str) -> None:
        import psycopg

        if self._thread is None:
            self._thread = ThreadPoolExecutor(
                KEYED_POSTGRES_THREADS, thread_name_prefix=f"ratelimit-{self.name}"
            )
        loop = asyncio.get_running_loop()
        try:
            while True:
                wait_ms = await loop.run_in_executor(self._thread, self._grant_blocking, key)
                if not wait_ms:
                    return
                await asyncio.sleep((wait_ms + POSTGRES_BUFFER_MS) / 1000)
        except psycopg.Error as exc:
            raise unreadable_limit(self.name, exc) from exc

    def close(self) -> None:
        """Stop the threads (after the attempts in progress) and close the pool; the next ``acquire`` reopens."""
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.shutdown(wait=True, cancel_futures=True)
        bucket, self._bucket = self._bucket, None
        if bucket is not None:
            bucket.pool.close()

    def _grant_blocking(self, key: str) -> int:
        bucket = self._open()
        wait = bucket.grant(key)
        if time.monotonic() - self._leaked_at >= POSTGRES_LEAK_SECONDS:
            self._leaked_at = time.monotonic()
            bucket.leak(PostgresClock(bucket.pool).now())
        return wait

    def _open(self) -> _KeyedPostgresBucket:
        with self._opening:
            if self._bucket is None:
                from psycopg_pool import ConnectionPool

                pool = ConnectionPool(
                    self._url,
                    min_size=1,
                    max_size=KEYED_POSTGRES_THREADS,
                    open=True,
                    timeout=POSTGRES_CONNECT_SECONDS,
                    name=self.name,
                )
                try:
                    self._bucket = _KeyedPostgresBucket(pool, self.name, self._rates)
                except BaseException:
                    pool.close()
                    raise
            return self._bucket


def keyed_limiter_for(
    name: str, rates: Sequence[Rate], *, postgres_url: str | None
) -> InMemoryKeyedLimiter | PostgresKeyedLimiter:
    """Limits per key called ``name``: every key in one Postgres table when given a Postgres URL (shared by
    every process using that name and database), else this process's own."""
    if postgres_url is None:
        return InMemoryKeyedLimiter(name, rates)
    return PostgresKeyedLimiter(name, rates, url=postgres_url)


# --- the crawler's politeness: one request at a time to each host ------------------------------------


def host_key(url: str) -> str | None:
    """What politeness counts requests by: the URL's host, and its port when it has one ("Example.com:8080/x"
    → "example.com:8080"), as robots.txt is per host and port; None for what is not an http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    return parts.hostname if port is None else f"{parts.hostname}:{port}"


def host_politeness(interval: float, postgres_url: str | None = None) -> KeyedLimiter | None:
    """At most one request per ``interval`` seconds to each host (the window stretched a little, so the host
    sees no two closer on its own clock): one limiter per process, every host in one Postgres table shared by
    every process on that database when given its URL (queue mode); None when ``interval`` is 0 (off)."""
    return _host_politeness(interval, postgres_url)  # one cache key whether the URL is passed or left out


@functools.cache
def _host_politeness(interval: float, postgres_url: str | None) -> KeyedLimiter | None:
    if interval <= 0:
        return None
    return keyed_limiter_for(CRAWL_LIMITER, smoothed(1, interval), postgres_url=postgres_url)
