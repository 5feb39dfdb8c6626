"""Running SQL: the engines, one writer thread and a few reader threads, transactions, migrations on first use,
group commit, and the polled read SQLite answers on the event loop itself. No query of the domain lives here.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Generic, TypeVar

import sqlalchemy.exc
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url

from wyshbone.errors import InputError, SetupError
from wyshbone.storage import migrate

R = TypeVar("R")
T = TypeVar("T")
READERS = 3
"""Reader threads (and pooled read connections) per database."""


def shown_url(url: str) -> str:
    """Where the store is, as a person may be shown it: a SQLite file's path, or the URL without its password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    plain = parsed.set(drivername=parsed.get_backend_name()).difference_update_query(["password"])
    return plain.render_as_string(hide_password=True)  # nor in ?password=


def sync_url(url: str) -> URL:
    """The blocking-driver form of ``url``: async driver names are accepted and mapped to their sync twin."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    raise InputError(f"unsupported database URL {shown_url(url)}: use sqlite or postgresql")


class Database:
    """SQLAlchemy Core over SQLite or Postgres, run off the event loop.

    Queries run on dedicated threads with a blocking driver, so the event loop never waits on the database and
    each call costs one thread hop (an async driver costs several per statement). One writer thread on one
    connection (its page cache stays warm, and writes never contend with each other), and a few reader
    threads: in WAL mode (and on Postgres) reads run beside the writer. On Postgres the group commits (a plan's
    events) have a writer thread and connection of their own, so they never queue behind the other writes.
    The schema is migrated on first use.
    """

    def __init__(
        self, engine: Engine, read_engine: Engine | None = None, batch_engine: Engine | None = None
    ) -> None:
        self._engine = engine
        self._read_engine = read_engine or engine
        self._batch_engine = batch_engine or engine
        self.dialect: str = engine.dialect.name
        """``sqlite`` or ``postgresql``."""
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wyshbone-db-write")
        self._readers = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="wyshbone-db-read")
        self._batcher = (
            self._writer
            if batch_engine is None
            else ThreadPoolExecutor(max_workers=1, thread_name_prefix="wyshbone-db-batch")
        )
        self._create_lock = threading.Lock()
        self._created = False
        self._loop_conn: sqlite3.Connection | None = None

    @classmethod
    def lazy(cls, url: str) -> Database:
        """The database at ``url``, touched only on first use (so reading a bad goal writes nothing)."""
        target = sync_url(url)
        ping = target.get_backend_name() != "sqlite"
        writer = create_engine(target, pool_pre_ping=ping, pool_size=1, max_overflow=0)
        reader = create_engine(target, pool_pre_ping=ping, pool_size=READERS + 1, max_overflow=2)
        if writer.dialect.name == "sqlite":
            sa_event.listen(writer, "connect", sqlite_pragmas)
            sa_event.listen(reader, "connect", sqlite_pragmas)
            return cls(writer, reader)
        # Postgres takes writes side by side: group commits (a plan's events) get a thread and connection of
        # their own, so they never queue behind the other writes (leases, transitions, leads).
        return cls(writer, reader, create_engine(target, pool_pre_ping=ping, pool_size=1, max_overflow=0))

    @classmethod
    async def connect(cls, url: str) -> Database:
        """Open and migrate the database at ``url`` now; a SQLite file gets WAL mode and its folder is made."""
        database = cls.lazy(url)
        try:
            await database.open()
        except BaseException:
            await database.close()
            raise
        return database

    async def open(self) -> None:
        """Connect and migrate now (else done on first use); ``SetupError`` saying in plain words why when the
        database cannot be reached."""
        try:
            await self._call(lambda: None)
        except sqlalchemy.exc.OperationalError as exc:
            reason = str(exc.orig or exc).strip().splitlines()[0]
            where = shown_url(self._engine.url.render_as_string(hide_password=False))
            raise SetupError(
                f"cannot reach the database at {where} ({reason}); check WYSHBONE_DATABASE_URL"
            ) from exc

    def insert(self, table: Any) -> Any:
        """``INSERT`` into ``table`` in this dialect's form, which has ``on_conflict_do_nothing/update``."""
        return (pg_insert if self.dialect == "postgresql" else sqlite_insert)(table)

    def _create(self) -> None:
        url = self._engine.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            Path(url.database or "").parent.mkdir(parents=True, exist_ok=True)
        migrate.upgrade(self._engine)
        self._created = True

    async def _call(
        self, fn: Callable[[], R], *, write: bool = True, pool: ThreadPoolExecutor | None = None
    ) -> R:
        def work() -> R:
            if not self._created:
                with self._create_lock:
                    if not self._created:
                        self._create()
            return fn()

        if pool is None:
            pool = self._writer if write else self._readers
        return await asyncio.get_running_loop().run_in_executor(pool, work)

    async def write(self, fn: Callable[[Connection], R]) -> R:
        """Run ``fn`` in one write transaction on the writer thread."""

        def work() -> R:
            with self._engine.begin() as conn:
                return fn(conn)

        return await self._call(work)

    async def write_apart(self, fn: Callable[[Connection], R]) -> R:
        """``write``, but on Postgres on a thread and connection of its own (group commits): it does not wait
        for the other writes. On SQLite, ``write``."""

        def work() -> R:
            with self._batch_engine.begin() as conn:
                return fn(conn)

        return await self._call(work, pool=self._batcher)

    async def read(self, fn: Callable[[Connection], R]) -> R:
        """Run ``fn`` on a reader thread (its own connection; sees everything committed before it starts)."""

        def work() -> R:
            with self._read_engine.connect() as conn:
                return fn(conn)

        return await self._call(work, write=False)

    async def polled_first(self, stmt: Any, params: dict[str, str]) -> tuple[Any, ...] | None:
        """The first row of a prebuilt ``stmt`` that is polled often (a plan's progress head).

        On SQLite it is read on the event loop's own connection: WAL mode never makes a reader wait, and a
        thread hop costs several times the query. The statement is compiled once and run on the bare driver
        in autocommit (each read sees the latest commit): SQLAlchemy's execution path costs three times the
        query itself (~40 µs of ~52 µs a poll). Elsewhere (and before the first migration) a reader thread.
        """
        if self.dialect == "sqlite" and self._created:
            if self._loop_conn is None:
                database = self._read_engine.url.database or ""
                self._loop_conn = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
                sqlite_pragmas(self._loop_conn, None)
            sql, names, fixed = _compiled_for_sqlite(stmt)
            values = [params[n] if n in params else fixed[n] for n in names]
            found: tuple[Any, ...] | None = self._loop_conn.execute(sql, values).fetchone()
            return found
        row = await self.read(lambda conn: conn.execute(stmt, params).first())
        return None if row is None else tuple(row)

    async def close(self) -> None:
        """Close every connection, once the queries still running (a cancelled caller's, say) have finished:
        a connection disposed of while checked out would be left open."""
        if self._loop_conn is not None:
            self._loop_conn.close()
            self._loop_conn = None

        def shut() -> None:
            self._readers.shutdown(wait=True)
            self._batcher.shutdown(wait=True)
            self._writer.shutdown(wait=True)
            self._read_engine.dispose()
            self._batch_engine.dispose()
            self._engine.dispose()

        await asyncio.to_thread(shut)


class GroupCommit(Generic[T, R]):
    """Writes ``write(conn, items)`` in batches: items submitted while a commit is in flight go into the next
    single transaction, so a burst of small writes (a plan's events) costs one commit, not one each. ``apart``:
    committed by ``Database.write_apart``, not behind the other writes."""

    def __init__(
        self, database: Database, write: Callable[[Connection, list[T]], list[R]], *, apart: bool = False
    ) -> None:
        self._database = database
        self._write = write
        self._commit_with = database.write_apart if apart else database.write
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Write ``item`` (with whatever else is queued) and return what ``write`` returned for it, as soon as
        its own batch is committed: callers resume in the order their items were written."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._drainer is None or self._drainer.done():
            # A task of its own commits the batches, not a caller: no caller waits for others' batches.
            self._drainer = asyncio.create_task(self._drain(), name="group-commit")
        return await future

    async def _drain(self) -> None:
        """Commit everything queued, including what arrives meanwhile, one batch per transaction."""
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                await self._commit(batch)
                batch = []
        except BaseException:  # cancelled (the loop is closing): what was not committed is not known to be
            for _, future in [*batch, *self._pending]:
                future.cancel()
            self._pending = []
            raise

    async def _commit(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        items = [item for item, _ in batch]
        try:
            results = await self._commit_with(lambda conn: self._write(conn, items))
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


@functools.lru_cache(maxsize=8)
def _compiled_for_sqlite(stmt: Any) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """A prebuilt statement as SQLite's SQL text, its parameters' names in the order it binds them, and the
    values of those it fixes itself (literals such as the 0 of ``coalesce(max(seq), 0)``)."""
    compiled = stmt.compile(dialect=sqlite_dialect.dialect())
    return str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params)


def sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """Set on every SQLite connection as it opens."""
    cursor = dbapi_conn.cursor()
    # WAL lets readers (the web page) read while a plan writes; NORMAL is durable across process crashes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
