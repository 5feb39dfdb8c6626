"""The only module that issues queries: plans, the event log, step results, lead lists.

``PlanStore`` is the contract; ``SqlStore`` keeps it in SQLite or Postgres through SQLAlchemy's async engine,
``MemoryStore`` keeps it in memory for tests and one-off runs.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, bindparam, create_engine, func, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url

from wyshbone.domain.dedupe import lead_keys
from wyshbone.domain.models import (
    Lead,
    LeadGenExecutionResult,
    LeadGenPlan,
    LeadGenStepResult,
    PlanEvent,
    PlanStatus,
)
from wyshbone.domain.monitors import Monitor, MonitorRun, identities
from wyshbone.domain.outreach import (
    SENDABLE,
    Draft,
    OutreachLead,
    OutreachMessage,
    OutreachSequence,
    QueuedMessage,
    Sender,
    SequenceStep,
    Skipped,
    Suppression,
    SuppressionKind,
    idempotency_key,
)
from wyshbone.errors import InputError
from wyshbone.storage import migrate
from wyshbone.storage import tables as t

R = TypeVar("R")
READERS = 3
"""Reader threads (and pooled read connections) per store."""


def _head_query() -> Any:
    last = (
        select(func.coalesce(func.max(t.plan_events.c.seq), 0))
        .where(t.plan_events.c.plan_id == t.plans.c.id)
        .scalar_subquery()
    )
    return select(t.plans.c.id, t.plans.c.status, last.label("last_seq"))


# Built once: the progress routes are polled, and a prebuilt statement skips SQLAlchemy's per-call work.
_HEAD_BY_ID = _head_query().where(t.plans.c.id == bindparam("plan_id"))
_HEAD_BY_ID_AND_SESSION = _HEAD_BY_ID.where(t.plans.c.session_id == bindparam("session_id"))
_LATEST_HEAD = (
    _head_query()
    .where(t.plans.c.session_id == bindparam("session_id"))
    .order_by(t.plans.c.created_at.desc(), t.plans.c.id.desc())
    .limit(1)
)
_PendingEvent = tuple[PlanEvent, "LeadGenStepResult | None", "asyncio.Future[int]"]
_INSERT_EVENT = t.plan_events.insert()


@dataclass(frozen=True, slots=True)
class SavedList:
    """What saving leads to a list did."""

    list_id: int
    name: str
    added: int
    """Leads newly written by this call (0 when the same leads were saved before)."""
    total: int
    """Leads in the list after this call."""


@dataclass(frozen=True, slots=True)
class PlanRow:
    """A plan as listed: no steps or events, just what a history needs."""

    plan_id: str
    session_id: str | None
    user_id: str
    status: PlanStatus
    raw_goal: str
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class PlanHead:
    """What changes when a plan moves: its status and the ``seq`` of its last event (0 before any)."""

    plan_id: str
    status: PlanStatus
    last_seq: int


@dataclass(frozen=True, slots=True)
class RunLease:
    """A process's hold on the plans it runs: no other process runs them before ``until``."""

    owner: str
    """Who runs the plan: unique per process (host, pid and a random part)."""
    until: datetime
    """When the hold lapses unless renewed (the owner renews it while the plan runs)."""


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a session's conversation (e.g. a finished plan's summary)."""

    id: int
    session_id: str
    plan_id: str | None
    role: str
    text: str
    created_at: str


class PlanStore(Protocol):
    """Where plans, their event log, step results and lead lists are kept."""

    async def save_plan(self, plan: LeadGenPlan, *, session_id: str | None = None) -> None: ...
    async def get_plan(self, plan_id: str, *, session_id: str | None = None) -> LeadGenPlan | None:
        """The plan; with ``session_id``, only if that session owns it."""
        ...

    async def plan_head(self, plan_id: str, *, session_id: str | None = None) -> PlanHead | None: ...
    async def latest_plan_head(self, *, session_id: str) -> PlanHead | None: ...
    async def approve_plan(self, plan_id: str, *, lease: RunLease, session_id: str | None = None) -> bool:
        """Pending approval → executing, owned by ``lease.owner``; False when the plan was not pending."""
        ...

    async def cancel_pending(self, plan_id: str) -> bool:
        """Pending approval → cancelled; False when the plan was not pending."""
        ...

    async def finish_plan(
        self, plan_id: str, *, owner: str, status: PlanStatus, result: LeadGenExecutionResult | None = None
    ) -> bool:
        """Executing (owned by ``owner``) → ``status``, with the run's result; False when not so owned."""
        ...

    async def renew_leases(self, plan_ids: Collection[str], lease: RunLease) -> set[str]:
        """Extend ``lease.owner``'s lease on those of ``plan_ids`` it still owns; returns the ids of those
        another process has taken over meanwhile (the owner must stop running them)."""
        ...

    async def claim_orphans(self, lease: RunLease, *, now: datetime) -> list[PlanRow]:
        """Take over every executing plan whose lease has expired by ``now`` (one conditional update each)."""
        ...

    async def release_plans(self, plan_ids: Collection[str], *, owner: str) -> None:
        """End ``owner``'s leases at once (a clean shutdown): the next process to start resumes the plans."""
        ...

    async def append_event(
        self, event: PlanEvent, *, step_result: LeadGenStepResult | None = None
    ) -> PlanEvent: ...
    async def list_events(self, plan_id: str, *, after: int = 0) -> list[PlanEvent]: ...
    async def step_results(self, plan_id: str) -> dict[str, LeadGenStepResult]: ...
    async def save_leads(
        self, *, plan_id: str, step_id: str, list_name: str, leads: list[Lead]
    ) -> SavedList: ...
    async def list_leads(self, *, plan_id: str) -> list[Lead]: ...
    async def ensure_session(self, session_id: str) -> None: ...
    async def plan_session(self, plan_id: str) -> str | None: ...
    async def list_plans(self, *, session_id: str) -> list[PlanRow]: ...
    async def get_result(self, plan_id: str) -> LeadGenExecutionResult | None: ...
    async def add_message(self, *, session_id: str, plan_id: str | None, role: str, text: str) -> None: ...
    async def list_messages(self, *, session_id: str) -> list[Message]: ...
    async def close(self) -> None: ...


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _lead_keys(lead: Lead) -> tuple[str, str]:
    return lead_keys(lead.source_id, lead.name, lead.postcode)


def sync_url(url: str) -> URL:
    """The blocking-driver form of ``url``: async driver names are accepted and mapped to their sync twin."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    raise InputError(
        f"unsupported database URL {parsed.render_as_string(hide_password=True)}: use sqlite or postgresql"
    )


class SqlStore:
    """``PlanStore`` over SQLAlchemy Core (SQLite or Postgres).

    Queries run on one dedicated thread with a blocking driver, so the event loop never waits on the database
    and each call costs one thread hop (an async driver costs several per statement). Appended events are
    group-committed: events appended while a commit is in flight go into the next single transaction.
    """

    def __init__(self, engine: Engine, read_engine: Engine | None = None) -> None:
        self._engine = engine
        self._read_engine = read_engine or engine
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
        # One writer thread on one connection (its page cache stays warm, and writes never contend with each
        # other), and a few reader threads: in WAL mode (and on Postgres) reads run beside the writer.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wyshbone-db-write")
        self._readers = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="wyshbone-db-read")
        self._create_lock = threading.Lock()
        self._pending: list[_PendingEvent] = []
        self._writing = False
        self._created = False
        self._sqlite = engine.dialect.name == "sqlite"
        self._loop_conn: sqlite3.Connection | None = None

    @classmethod
    async def connect(cls, url: str) -> SqlStore:
        """Open and create the store at ``url``; a SQLite file gets WAL mode and its folder is made."""
        store = cls.lazy(url)
        await store._call(lambda: None)
        return store

    @classmethod
    def lazy(cls, url: str) -> SqlStore:
        """The store at ``url``, touched only on first use (so reading a bad goal writes nothing)."""
        target = sync_url(url)
        ping = target.get_backend_name() != "sqlite"
        writer = create_engine(target, pool_pre_ping=ping, pool_size=1, max_overflow=0)
        reader = create_engine(target, pool_pre_ping=ping, pool_size=READERS + 1, max_overflow=2)
        if writer.dialect.name == "sqlite":
            sa_event.listen(writer, "connect", _sqlite_pragmas)
            sa_event.listen(reader, "connect", _sqlite_pragmas)
        return cls(writer, reader)

    def _create(self) -> None:
        url = self._engine.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            Path(url.database or "").parent.mkdir(parents=True, exist_ok=True)
        migrate.upgrade(self._engine)
        self._created = True

    async def _call(self, fn: Callable[[], R], *, write: bool = True) -> R:
        def work() -> R:
            if not self._created:
                with self._create_lock:
                    if not self._created:
                        self._create()
            return fn()

        pool = self._writer if write else self._readers
        return await asyncio.get_running_loop().run_in_executor(pool, work)

    async def _tx(self, fn: Callable[[Connection], R]) -> R:
        """Run ``fn`` in a write transaction on the writer thread."""

        def work() -> R:
            with self._engine.begin() as conn:
                return fn(conn)

        return await self._call(work)

    async def _read(self, fn: Callable[[Connection], R]) -> R:
        """Run ``fn`` on a reader thread (its own connection; sees everything committed before it starts)."""

        def work() -> R:
            with self._read_engine.connect() as conn:
                return fn(conn)

        return await self._call(work, write=False)

    async def close(self) -> None:
        if self._loop_conn is not None:
            self._loop_conn.close()
            self._loop_conn = None

        def shut() -> None:
            # Queries still running (a cancelled caller's, say) finish first: a connection disposed of while
            # checked out would be left open.
            self._readers.shutdown(wait=True)
            self._writer.shutdown(wait=True)
            self._read_engine.dispose()
            self._engine.dispose()

        await asyncio.to_thread(shut)

    async def save_plan(self, plan: LeadGenPlan, *, session_id: str | None = None) -> None:
        now = _now()
        row = {
            "id": plan.id,
            "session_id": session_id,
            "user_id": plan.user_id,
            "status": plan.status.value,
            "created_at": plan.created_at.isoformat() if plan.created_at else now,
            "updated_at": now,
            "plan": plan.to_json_dict(),
        }
        # Stored once: afterwards its status moves only by conditional transitions.
        stmt = self._insert(t.plans).values(row).on_conflict_do_nothing(index_elements=[t.plans.c.id])
        await self._tx(lambda conn: conn.execute(stmt))

    async def get_plan(self, plan_id: str, *, session_id: str | None = None) -> LeadGenPlan | None:
        stmt = select(t.plans.c.plan, t.plans.c.status).where(t.plans.c.id == plan_id)
        if session_id is not None:
            stmt = stmt.where(t.plans.c.session_id == session_id)
        row = await self._read(lambda conn: conn.execute(stmt).first())
        if row is None:
            return None
        return LeadGenPlan.model_validate({**row.plan, "status": row.status})

    async def plan_head(self, plan_id: str, *, session_id: str | None = None) -> PlanHead | None:
        if session_id is None:
            return await self._head(_HEAD_BY_ID, {"plan_id": plan_id})
        return await self._head(_HEAD_BY_ID_AND_SESSION, {"plan_id": plan_id, "session_id": session_id})

    async def latest_plan_head(self, *, session_id: str) -> PlanHead | None:
        return await self._head(_LATEST_HEAD, {"session_id": session_id})

    async def _head(self, stmt: Any, params: dict[str, str]) -> PlanHead | None:
        if self._sqlite and self._created:
            found = self._read_on_loop(stmt, params)
            return None if found is None else PlanHead(found[0], PlanStatus(found[1]), int(found[2]))

        def read(conn: Connection) -> Any:
            return conn.execute(stmt, params).first()

        row = await self._read(read)
        return None if row is None else PlanHead(row.id, PlanStatus(row.status), int(row.last_seq))

    def _read_on_loop(self, stmt: Any, params: dict[str, str]) -> tuple[Any, ...] | None:
        """A tiny read on the event loop's own SQLite connection, for the polled progress heads only.

        SQLite in WAL mode never makes a reader wait, and a thread hop costs several times the query. The
        statement is compiled once and run on the bare driver in autocommit (each read sees the latest
        commit): SQLAlchemy's execution path costs three times the query itself (~40 µs of ~52 µs a poll).
        """
        if self._loop_conn is None:
            database = self._read_engine.url.database or ""
            self._loop_conn = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
            _sqlite_pragmas(self._loop_conn, None)
        sql, names, fixed = _compiled_for_sqlite(stmt)
        values = [params[n] if n in params else fixed[n] for n in names]
        row: tuple[Any, ...] | None = self._loop_conn.execute(sql, values).fetchone()
        return row

    async def _transition(
        self,
        plan_id: str,
        expected: PlanStatus,
        *where: Any,
        result: LeadGenExecutionResult | None = None,
        **values: Any,
    ) -> bool:
        """One conditional update of one plan: applied only if it is still ``expected`` (and ``where``)."""
        p = t.plans.c

        def work(conn: Connection) -> bool:
            # The result (every lead of the run) is serialised here, on the writer thread, not on the loop.
            extra = {} if result is None else {"result": result.to_json_dict()}
            stmt = (
                update(t.plans)
                .where(p.id == plan_id, p.status == expected.value, *where)
                .values(updated_at=_now(), **values, **extra)
            )
            return bool(conn.execute(stmt).rowcount == 1)

        return await self._tx(work)

    async def approve_plan(self, plan_id: str, *, lease: RunLease, session_id: str | None = None) -> bool:
        scope = () if session_id is None else (t.plans.c.session_id == session_id,)
        return await self._transition(
            plan_id,
            PlanStatus.PENDING_APPROVAL,
            *scope,
            status=PlanStatus.EXECUTING.value,
            owner=lease.owner,
            lease_until=iso(lease.until),
        )

    async def cancel_pending(self, plan_id: str) -> bool:
        return await self._transition(plan_id, PlanStatus.PENDING_APPROVAL, status=PlanStatus.CANCELLED.value)

    async def finish_plan(
        self, plan_id: str, *, owner: str, status: PlanStatus, result: LeadGenExecutionResult | None = None
    ) -> bool:
        return await self._transition(
            plan_id,
            PlanStatus.EXECUTING,
            t.plans.c.owner == owner,
            result=result,
            status=status.value,
            owner=None,
            lease_until=None,
        )

    async def renew_leases(self, plan_ids: Collection[str], lease: RunLease) -> set[str]:
        if not plan_ids:
            return set()
        p = t.plans.c
        running = (p.id.in_(list(plan_ids)), p.status == PlanStatus.EXECUTING.value)
        renew = update(t.plans).where(*running, p.owner == lease.owner).values(lease_until=iso(lease.until))
        others = select(p.id).where(*running, p.owner.is_(None) | (p.owner != lease.owner))

        def work(conn: Connection) -> set[str]:
            conn.execute(renew)
            return set(conn.execute(others).scalars())

        return await self._tx(work)

    async def claim_orphans(self, lease: RunLease, *, now: datetime) -> list[PlanRow]:
        p = t.plans.c
        expired = (
            p.status == PlanStatus.EXECUTING.value,
            p.lease_until.is_(None) | (p.lease_until < iso(now)),
        )
        candidates = select(p.id).where(*expired).order_by(p.created_at)

        def work(conn: Connection) -> list[PlanRow]:
            claimed = []
            for plan_id in conn.execute(candidates).scalars().all():
                # Conditional per plan: of two processes claiming at once, exactly one gets each plan.
                take = (
                    update(t.plans)
                    .where(p.id == plan_id, *expired)
                    .values(owner=lease.owner, lease_until=iso(lease.until))
                )
                if conn.execute(take).rowcount == 1:
                    claimed.append(plan_id)
            rows = conn.execute(select(*self._PLAN_ROW).where(p.id.in_(claimed)).order_by(p.created_at))
            return [_plan_row(row) for row in rows]

        return await self._tx(work)

    async def release_plans(self, plan_ids: Collection[str], *, owner: str) -> None:
        if not plan_ids:
            return
        p = t.plans.c
        stmt = (
            update(t.plans)
            .where(p.id.in_(list(plan_ids)), p.status == PlanStatus.EXECUTING.value, p.owner == owner)
            .values(lease_until=None)
        )
        await self._tx(lambda conn: conn.execute(stmt))

    async def append_event(
        self, event: PlanEvent, *, step_result: LeadGenStepResult | None = None
    ) -> PlanEvent:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((event, step_result, future))
        if not self._writing:
            # The first caller leads: it commits everything queued, including what arrives meanwhile.
            self._writing = True
            try:
                while self._pending:
                    batch, self._pending = self._pending, []
                    await self._commit_events(batch)
            finally:
                self._writing = False
        seq = await future
        return event.model_copy(update={"seq": seq})

    async def _commit_events(self, batch: list[_PendingEvent]) -> None:
        try:
            seqs = await self._tx(lambda conn: self._write_events(conn, batch))
        except Exception as exc:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, _, future), seq in zip(batch, seqs, strict=True):
            if not future.done():
                future.set_result(seq)

    def _write_events(self, conn: Connection, batch: list[_PendingEvent]) -> list[int]:
        seqs = []
        for event, step_result, _ in batch:
            row = {
                "plan_id": event.plan_id,
                "type": event.type.value,
                "step_id": event.step_id,
                "timestamp": event.timestamp.isoformat(),
                "event": event.model_dump(mode="json", exclude={"seq"}),
            }
            result = conn.execute(_INSERT_EVENT, row)
            seqs.append(int(result.inserted_primary_key[0]))  # type: ignore[index]
            if step_result is not None:
                self._upsert_step_result(conn, event.plan_id, step_result)
        return seqs

    def _upsert_step_result(self, conn: Connection, plan_id: str, result: LeadGenStepResult) -> None:
        payload = result.to_json_dict()
        stmt = self._insert(t.step_results).values(
            plan_id=plan_id, step_id=result.step_id, status=result.status.value, result=payload
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.step_results.c.plan_id, t.step_results.c.step_id],
            set_={"status": result.status.value, "result": payload},
        )
        conn.execute(stmt)

    async def list_events(self, plan_id: str, *, after: int = 0) -> list[PlanEvent]:
        stmt = (
            select(t.plan_events.c.seq, t.plan_events.c.event)
            .where(t.plan_events.c.plan_id == plan_id, t.plan_events.c.seq > after)
            .order_by(t.plan_events.c.seq)
        )
        rows = await self._read(lambda conn: conn.execute(stmt).all())
        return [PlanEvent.model_validate({**row.event, "seq": row.seq}) for row in rows]

    async def step_results(self, plan_id: str) -> dict[str, LeadGenStepResult]:
        stmt = select(t.step_results.c.result).where(t.step_results.c.plan_id == plan_id)
        rows = await self._read(lambda conn: conn.execute(stmt).all())
        results = [LeadGenStepResult.model_validate(row.result) for row in rows]
        return {r.step_id: r for r in results}

    async def save_leads(self, *, plan_id: str, step_id: str, list_name: str, leads: list[Lead]) -> SavedList:
        def work(conn: Connection) -> SavedList:
            list_id = self._ensure_list(conn, plan_id=plan_id, step_id=step_id, name=list_name)
            added, total = self._insert_leads(conn, list_id, leads)
            return SavedList(list_id=list_id, name=list_name, added=added, total=total)

        return await self._tx(work)

    def _insert_leads(self, conn: Connection, list_id: int, leads: Sequence[Lead]) -> tuple[int, int]:
        """Append ``leads`` to the list, skipping any it has already; (added, total)."""
        count = select(func.count()).select_from(t.leads).where(t.leads.c.list_id == list_id)
        before = int(conn.execute(count).scalar_one())
        rows = []
        for position, lead in enumerate(leads, start=before):
            source_id, name_key = _lead_keys(lead)
            rows.append(
                {
                    "list_id": list_id,
                    "position": position,
                    "source_id": source_id,
                    "name_key": name_key,
                    "name": lead.name,
                    "postcode": lead.postcode,
                    "score": lead.score,
                    "lead": lead.to_json_dict(),
                }
            )
        if rows:
            conn.execute(self._insert(t.leads).on_conflict_do_nothing(), rows)
        total = int(conn.execute(count).scalar_one())
        return total - before, total

    def _ensure_list(self, conn: Connection, *, plan_id: str, step_id: str, name: str) -> int:
        stmt = self._insert(t.lead_lists).values(
            plan_id=plan_id, step_id=step_id, name=name, created_at=_now()
        )
        conn.execute(stmt.on_conflict_do_nothing())
        found = select(t.lead_lists.c.id).where(
            t.lead_lists.c.plan_id == plan_id, t.lead_lists.c.step_id == step_id
        )
        return int(conn.execute(found).scalar_one())

    async def list_leads(self, *, plan_id: str) -> list[Lead]:
        stmt = (
            select(t.leads.c.lead)
            .join(t.lead_lists, t.lead_lists.c.id == t.leads.c.list_id)
            .where(t.lead_lists.c.plan_id == plan_id)
            .order_by(t.leads.c.list_id, t.leads.c.position)
        )
        rows = await self._read(lambda conn: conn.execute(stmt).all())
        return [Lead.model_validate(row.lead) for row in rows]

    async def ensure_session(self, session_id: str) -> None:
        stmt = self._insert(t.sessions).values(id=session_id, created_at=_now()).on_conflict_do_nothing()
        await self._tx(lambda conn: conn.execute(stmt))

    async def plan_session(self, plan_id: str) -> str | None:
        stmt = select(t.plans.c.session_id).where(t.plans.c.id == plan_id)
        return await self._read(lambda conn: conn.execute(stmt).scalar())

    _PLAN_ROW = (
        t.plans.c.id,
        t.plans.c.session_id,
        t.plans.c.user_id,
        t.plans.c.status,
        t.plans.c.plan,
        t.plans.c.created_at,
        t.plans.c.updated_at,
    )

    async def list_plans(self, *, session_id: str) -> list[PlanRow]:
        stmt = (
            select(*self._PLAN_ROW)
            .where(t.plans.c.session_id == session_id)
            .order_by(t.plans.c.created_at.desc(), t.plans.c.id.desc())
        )
        rows = await self._read(lambda conn: conn.execute(stmt).all())
        return [_plan_row(row) for row in rows]

    async def get_result(self, plan_id: str) -> LeadGenExecutionResult | None:
        stmt = select(t.plans.c.result).where(t.plans.c.id == plan_id)
        raw = await self._read(lambda conn: conn.execute(stmt).scalar())
        return LeadGenExecutionResult.model_validate(raw) if raw else None

    async def add_message(self, *, session_id: str, plan_id: str | None, role: str, text: str) -> None:
        stmt = t.messages.insert().values(
            session_id=session_id, plan_id=plan_id, role=role, text=text, created_at=_now()
        )
        await self._tx(lambda conn: conn.execute(stmt))

    async def list_messages(self, *, session_id: str) -> list[Message]:
        stmt = select(t.messages).where(t.messages.c.session_id == session_id).order_by(t.messages.c.id)
        rows = await self._read(lambda conn: conn.execute(stmt).all())
        return [Message(r.id, r.session_id, r.plan_id, r.role, r.text, r.created_at) for r in rows]

    # --- outreach ------------------------------------------------------------------------------------------

    async def lead_list(self, list_id: int) -> LeadListRow | None:
        """The list with its plan, its session and its leads' count."""
        count = select(func.count()).select_from(t.leads).where(t.leads.c.list_id == t.lead_lists.c.id)
        stmt = (
            select(
                t.lead_lists.c.id,
                t.lead_lists.c.plan_id,
                t.lead_lists.c.step_id,
                t.lead_lists.c.name,
                t.plans.c.session_id,
                t.plans.c.user_id,
                count.scalar_subquery().label("leads"),
            )
            .join(t.plans, t.plans.c.id == t.lead_lists.c.plan_id)
            .where(t.lead_lists.c.id == list_id)
        )
        row = await self._read(lambda conn: conn.execute(stmt).first())
        if row is None:
            return None
        return LeadListRow(row.id, row.plan_id, row.step_id, row.name, row.session_id, row.user_id, row.leads)

    async def list_leads_of(self, list_id: int) -> list[Lead]:
        stmt = select(t.leads.c.lead).where(t.leads.c.list_id == list_id).order_by(t.leads.c.position)
        rows = await self._read(lambda conn: conn.execute(stmt).all())
        return [Lead.model_validate(row.lead) for row in rows]

    async def suppressions(self, account_id: str, *, email: str | None = None) -> dict[tuple[str, str], str]:
        """(kind, value) → reason, for every entry of the account's suppression list; with ``email``, only the
        entries that could cover that address (itself, its domain and the domains above it)."""
        c = t.suppressions.c
        stmt = select(c.kind, c.value, c.reason).where(c.account_id == account_id)
        if email is not None:
            address = email.strip().lower()
            labels = address.rpartition("@")[2].split(".")
            domains = [".".join(labels[i:]) for i in range(len(labels) - 1)]
            stmt = stmt.where(
                ((c.kind == SuppressionKind.ADDRESS.value) & (c.value == address))
                | ((c.kind == SuppressionKind.DOMAIN.value) & c.value.in_(domains))
            )
        rows = await self._read(lambda conn: conn.execute(stmt).all())
        return {(r.kind, r.value): r.reason for r in rows}

    async def list_suppressions(self, account_id: str) -> list[Suppression]:
        stmt = (
            select(t.suppressions)
            .where(t.suppressions.c.account_id == account_id)
            .order_by(t.suppressions.c.created_at, t.suppressions.c.value)
        )
        rows = await self._read(lambda conn: conn.execute(stmt).all())
        return [
            Suppression(
                kind=r.kind, value=r.value, reason=r.reason, created_at=datetime.fromisoformat(r.created_at)
            )
            for r in rows
        ]

    async def add_suppressions(
        self, account_id: str, entries: Sequence[Suppression], *, lead_status: str = "suppressed"
    ) -> int:
        """Put ``entries`` on the account's list (an entry already there keeps its first reason) and stop every
        unsent message to them in the account's sequences. Returns how many messages were stopped."""
        if not entries:
            return 0
        now = iso()

        def work(conn: Connection) -> int:
            rows = [
                {"account_id": account_id, "kind": e.kind.value, "value": e.value, "reason": e.reason.value}
                | {"created_at": now}
                for e in entries
            ]
            conn.execute(self._insert(t.suppressions).on_conflict_do_nothing(), rows)
            stopped = 0
            for entry in entries:
                email = t.outreach_leads.c.email
                match = (
                    email == entry.value
                    if entry.kind is SuppressionKind.ADDRESS
                    # the domain and the domains below it, as ``suppressed_by`` reads a domain entry
                    else email.like(f"%@{entry.value}") | email.like(f"%@%.{entry.value}")
                )
                stopped += self._stop_leads(
                    conn, account_id, match, lead_status, f"{entry.reason.value}: {entry.value}"
                )
            return stopped

        return await self._tx(work)

    def _stop_leads(self, conn: Connection, account_id: str, match: Any, status: str, reason: str) -> int:
        """Mark the account's active sequence leads matching ``match`` with ``status``; stop their unsent mail."""
        sequences = select(t.outreach_sequences.c.id).where(t.outreach_sequences.c.account_id == account_id)
        leads = conn.execute(
            select(t.outreach_leads.c.sequence_id, t.outreach_leads.c.lead_key).where(
                t.outreach_leads.c.sequence_id.in_(sequences), t.outreach_leads.c.status == "active", match
            )
        ).all()
        stopped = 0
        now = iso()
        for sequence_id, key in leads:
            conn.execute(
                update(t.outreach_leads)
                .where(t.outreach_leads.c.sequence_id == sequence_id, t.outreach_leads.c.lead_key == key)
                .values(status=status, reason=reason, updated_at=now)
            )
            stopped += conn.execute(
                update(t.outreach_messages)
                .where(
                    t.outreach_messages.c.sequence_id == sequence_id,
                    t.outreach_messages.c.lead_key == key,
                    t.outreach_messages.c.status.in_(SENDABLE),
                )
                .values(status="stopped", updated_at=now)  # why is on the lead; ``reply`` stays the server's
            ).rowcount
        return stopped

    async def mark_lead(self, sequence_id: int, email: str, *, status: str, reason: str) -> int:
        """Stop the sequence for the lead(s) written to at ``email`` (they replied, say). Returns messages stopped."""
        account = select(t.outreach_sequences.c.account_id).where(t.outreach_sequences.c.id == sequence_id)

        def work(conn: Connection) -> int:
            account_id = conn.execute(account).scalar_one()
            match = (t.outreach_leads.c.email == email.strip().lower()) & (
                t.outreach_leads.c.sequence_id == sequence_id
            )
            return self._stop_leads(conn, account_id, match, status, reason)

        return await self._tx(work)

    async def create_sequence(
        self,
        *,
        plan_id: str,
        step_id: str,
        list_id: int,
        account_id: str,
        steps: Sequence[SequenceStep],
        sender: Sender,
        drafts: Sequence[Draft],
        skipped: Sequence[Skipped],
    ) -> tuple[int, bool]:
        """Store the sequence with its drafts, one sequence per plan step: run again (for leads a monitor added),
        it adds the drafts of leads it does not have yet and leaves the others as they are. Returns (id, created
        now)."""
        now = iso()

        def work(conn: Connection) -> tuple[int, bool]:
            sequence_id, created = _insert_once(
                conn,
                t.outreach_sequences,
                plan_id=plan_id,
                step_id=step_id,
                values=dict(
                    list_id=list_id,
                    account_id=account_id,
                    steps=[s.to_json_dict() for s in steps],
                    sender=sender.to_json_dict(),
                    created_at=now,
                ),
            )
            leads: dict[str, tuple[str, str | None, str, str | None]] = {
                d.lead_key: (d.lead_name, d.email, "active", None) for d in drafts
            }
            leads.update({s.lead_key: (s.lead_name, s.email, s.status, s.reason) for s in skipped})
            if leads:
                conn.execute(
                    self._insert(t.outreach_leads).on_conflict_do_nothing(),
                    [
                        {"sequence_id": sequence_id, "lead_key": key, "lead_name": name, "email": email}
                        | {"status": status, "reason": reason, "updated_at": now}
                        for key, (name, email, status, reason) in leads.items()
                    ],
                )
            if drafts:
                conn.execute(
                    self._insert(t.outreach_messages).on_conflict_do_nothing(),
                    [
                        {
                            "sequence_id": sequence_id,
                            "lead_key": d.lead_key,
                            "email": d.email,
                            "step_index": d.step_index,
                            "step_key": d.step_key,
                            "day": d.day,
                            "subject": d.subject,
                            "body_text": d.text,
                            "body_html": d.html,
                            "idempotency_key": idempotency_key(sequence_id, d.lead_key, d.step_index),
                            "status": "draft",
                            "attempts": 0,
                            "updated_at": now,
                        }
                        for d in drafts
                    ],
                )
            return sequence_id, created

        return await self._tx(work)

    async def sequence_lead_keys(self, *, plan_id: str, step_id: str) -> set[str]:
        """The leads the plan step's sequence already has (drafted or not), none when it has no sequence yet."""
        sequences = select(t.outreach_sequences.c.id).where(
            t.outreach_sequences.c.plan_id == plan_id, t.outreach_sequences.c.step_id == step_id
        )
        stmt = select(t.outreach_leads.c.lead_key).where(t.outreach_leads.c.sequence_id.in_(sequences))
        return set(await self._read(lambda conn: conn.execute(stmt).scalars().all()))

    async def sequence(
        self, *, list_id: int | None = None, sequence_id: int | None = None, items: bool = True
    ) -> OutreachSequence | None:
        """The (first) sequence of a list, or the sequence with ``sequence_id``, with its leads and messages
        (``items=False``: without them, for callers that need only the sequence itself)."""
        where = (
            t.outreach_sequences.c.id == sequence_id
            if sequence_id is not None
            else t.outreach_sequences.c.list_id == list_id
        )

        def read(conn: Connection) -> OutreachSequence | None:
            row = conn.execute(
                select(t.outreach_sequences).where(where).order_by(t.outreach_sequences.c.id)
            ).first()
            if row is None:
                return None
            if not items:
                return _sequence(row, [], [])
            leads = conn.execute(
                select(t.outreach_leads)
                .where(t.outreach_leads.c.sequence_id == row.id)
                .order_by(t.outreach_leads.c.lead_name, t.outreach_leads.c.lead_key)
            ).all()
            names = {lead.lead_key: lead.lead_name for lead in leads}
            messages = conn.execute(
                select(t.outreach_messages)
                .where(t.outreach_messages.c.sequence_id == row.id)
                .order_by(t.outreach_messages.c.step_index, t.outreach_messages.c.id)
            ).all()
            return _sequence(row, leads, [_message(m, names.get(m.lead_key, "")) for m in messages])

        return await self._read(read)

    async def queued_messages(self, sequence_id: int) -> list[QueuedMessage]:
        """The messages of the sequence's active leads, as ``due_messages`` reads them."""
        active = select(t.outreach_leads.c.lead_key).where(
            t.outreach_leads.c.sequence_id == sequence_id, t.outreach_leads.c.status == "active"
        )
        m = t.outreach_messages.c
        stmt = select(m.id, m.lead_key, m.step_index, m.day, m.status, m.attempts, m.sent_at).where(
            m.sequence_id == sequence_id, m.lead_key.in_(active)
        )
        rows = await self._read(lambda conn: conn.execute(stmt).all())
        return [
            QueuedMessage(r.id, r.lead_key, r.step_index, r.day, r.status, r.attempts, _when(r.sent_at))
            for r in rows
        ]

    async def outgoing(self, message_id: int) -> tuple[OutreachMessage, str]:
        """The message as the API shows it, and its HTML part: what the sender needs."""
        stmt = (
            select(t.outreach_messages, t.outreach_leads.c.lead_name)
            .join(
                t.outreach_leads,
                (t.outreach_leads.c.sequence_id == t.outreach_messages.c.sequence_id)
                & (t.outreach_leads.c.lead_key == t.outreach_messages.c.lead_key),
            )
            .where(t.outreach_messages.c.id == message_id)
        )
        row = await self._read(lambda conn: conn.execute(stmt).one())
        return _message(row, row.lead_name), str(row.body_html)

    async def claim_message(self, message_id: int) -> bool:
        """Take a draft (or a failed message) for sending; False when another sender has it or it is done."""
        now = iso()
        stmt = (
            update(t.outreach_messages)
            .where(t.outreach_messages.c.id == message_id, t.outreach_messages.c.status.in_(SENDABLE))
            .values(status="sending", attempts=t.outreach_messages.c.attempts + 1, updated_at=now)
        )
        return bool(await self._tx(lambda conn: conn.execute(stmt).rowcount))

    async def finish_message(
        self, message_id: int, *, status: str, reply: str, sent_at: datetime | None
    ) -> None:
        stmt = (
            update(t.outreach_messages)
            .where(t.outreach_messages.c.id == message_id)
            .values(status=status, reply=reply, sent_at=iso(sent_at) if sent_at else None, updated_at=iso())
        )
        await self._tx(lambda conn: conn.execute(stmt))

    async def sent_since(self, account_id: str, since: datetime) -> int:
        """Messages of the account sent (or being sent) since ``since``: what the daily cap counts."""
        m = t.outreach_messages.c
        sequences = select(t.outreach_sequences.c.id).where(t.outreach_sequences.c.account_id == account_id)
        stmt = (
            select(func.count())
            .select_from(t.outreach_messages)
            .where(
                m.sequence_id.in_(sequences),
                ((m.status == "sent") & (m.sent_at >= iso(since)))
                | ((m.status == "sending") & (m.updated_at >= iso(since))),
            )
        )
        return int(await self._read(lambda conn: conn.execute(stmt).scalar_one()))

    # --- monitors ------------------------------------------------------------------------------------------

    async def create_monitor(
        self,
        *,
        plan_id: str,
        step_id: str,
        session_id: str | None,
        user_id: str,
        list_id: int,
        name: str,
        search: dict[str, Any],
        cadence: str,
        baseline: MonitorRun,
        known: Iterable[Lead],
        next_run_at: datetime,
    ) -> tuple[int, bool]:
        """Store the monitor with what it already knows and its baseline run (idempotent per plan step)."""

        def work(conn: Connection) -> tuple[int, bool]:
            monitor_id, created = _insert_once(
                conn,
                t.monitors,
                plan_id=plan_id,
                step_id=step_id,
                values=dict(
                    session_id=session_id,
                    user_id=user_id,
                    list_id=list_id,
                    name=name,
                    search=search,
                    cadence=cadence,
                    status="active",
                    next_run_at=iso(next_run_at),
                    last_run_at=iso(baseline.finished_at),
                    # A failed baseline leaves this unset: the next run then takes the baseline instead.
                    last_success_at=iso(baseline.started_at) if baseline.status == "succeeded" else None,
                    created_at=iso(baseline.started_at),
                ),
            )
            if not created:
                return monitor_id, False
            self._remember(conn, monitor_id, known)
            self._insert_run(conn, baseline.model_copy(update={"monitor_id": monitor_id}))
            return monitor_id, True

        return await self._tx(work)

    def _remember(self, conn: Connection, monitor_id: int, leads: Iterable[Lead]) -> None:
        keys: dict[str, str] = {}
        for lead in leads:
            source, name = identities(lead)
            keys.setdefault(source, "source")
            keys.setdefault(name, "name")
        rows = [{"monitor_id": monitor_id, "key": key, "kind": kind} for key, kind in keys.items()]
        if rows:
            conn.execute(self._insert(t.monitor_known).on_conflict_do_nothing(), rows)

    def _insert_run(self, conn: Connection, run: MonitorRun) -> int:
        values = run.model_dump(exclude={"id"}, by_alias=False) | {
            "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at),
        }
        return _new_id(conn, t.monitor_runs.insert().values(values))

    async def monitor_known(self, monitor_id: int) -> set[str]:
        stmt = select(t.monitor_known.c.key).where(t.monitor_known.c.monitor_id == monitor_id)
        return set(await self._read(lambda conn: conn.execute(stmt).scalars().all()))

    async def list_monitors(
        self, *, session_id: str | None = None, monitor_id: int | None = None
    ) -> list[Monitor]:
        """The session's monitors (every monitor when None), newest first, each with its last run.

        Two queries whatever the number of monitors: the monitors with their counts and last run ids, then
        those runs."""
        m, known, runs = t.monitors.c, t.monitor_known.c, t.monitor_runs.c
        known_count = (
            select(func.count()).where(known.monitor_id == m.id, known.kind == "source").scalar_subquery()
        )
        last_run = select(func.max(runs.id)).where(runs.monitor_id == m.id).scalar_subquery()
        stmt = select(t.monitors, known_count.label("known"), last_run.label("last_run_id")).order_by(
            m.id.desc()
        )
        if session_id is not None:
            stmt = stmt.where(m.session_id == session_id)
        if monitor_id is not None:
            stmt = stmt.where(m.id == monitor_id)

        def read(conn: Connection) -> list[Monitor]:
            rows = conn.execute(stmt).all()
            run_ids = [row.last_run_id for row in rows if row.last_run_id is not None]
            last = {r.id: _run(r) for r in conn.execute(select(t.monitor_runs).where(runs.id.in_(run_ids)))}
            return [_monitor(row, row.known, last.get(row.last_run_id)) for row in rows]

        return await self._read(read)

    async def monitor_runs(self, monitor_id: int, *, limit: int = 50) -> list[MonitorRun]:
        stmt = (
            select(t.monitor_runs)
            .where(t.monitor_runs.c.monitor_id == monitor_id)
            .order_by(t.monitor_runs.c.id.desc())
            .limit(limit)
        )
        rows = await self._read(lambda conn: conn.execute(stmt).all())
        return [_run(r) for r in rows]

    async def due_monitors(self, now: datetime) -> list[int]:
        stmt = (
            select(t.monitors.c.id)
            .where(t.monitors.c.status == "active", t.monitors.c.next_run_at <= iso(now))
            .order_by(t.monitors.c.next_run_at)
        )
        return list(await self._read(lambda conn: conn.execute(stmt).scalars().all()))

    async def lease_monitor(
        self, monitor_id: int, *, owner: str, now: datetime, until: datetime, due: bool = False
    ) -> bool:
        """Hold the monitor for one run; False when another runner holds it, or (``due``) when it is no longer
        due: one conditional statement, so of two schedulers that both saw it due, one runs it."""
        m = t.monitors.c
        where = [m.id == monitor_id, (m.lease_until.is_(None)) | (m.lease_until < iso(now))]
        if due:
            where += [m.status == "active", m.next_run_at <= iso(now)]
        stmt = update(t.monitors).where(*where).values(lease_until=iso(until), lease_owner=owner)
        return bool(await self._tx(lambda conn: conn.execute(stmt).rowcount) == 1)

    async def renew_monitor_lease(self, monitor_id: int, *, owner: str, until: datetime) -> bool:
        """Extend ``owner``'s hold on the monitor while its run goes on; False when it no longer holds it."""
        m = t.monitors.c
        stmt = (
            update(t.monitors)
            .where(m.id == monitor_id, m.lease_owner == owner, m.lease_until.is_not(None))
            .values(lease_until=iso(until))
        )
        return bool(await self._tx(lambda conn: conn.execute(stmt).rowcount) == 1)

    async def record_monitor_run(
        self,
        run: MonitorRun,
        *,
        list_id: int,
        fresh: Sequence[Lead] = (),
        seen: Sequence[Lead] = (),
        next_run_at: datetime | None = None,
    ) -> MonitorRun:
        """In one transaction: add the ``fresh`` leads to the list, remember every lead ``seen``, record the run,
        release the lease and (when ``next_run_at`` is given) move the schedule on. A failed run leaves the
        schedule as it was: it is due again at the next tick."""

        def work(conn: Connection) -> MonitorRun:
            self._insert_leads(conn, list_id, fresh)
            self._remember(conn, run.monitor_id, (*fresh, *seen))
            run_id = self._insert_run(conn, run)
            values: dict[str, Any] = {
                "lease_until": None,
                "lease_owner": None,
                "last_run_at": iso(run.finished_at),
            }
            if run.status == "succeeded":
                values["last_success_at"] = iso(run.started_at)
            if next_run_at is not None:
                values["next_run_at"] = iso(next_run_at)
            conn.execute(update(t.monitors).where(t.monitors.c.id == run.monitor_id).values(values))
            return run.model_copy(update={"id": run_id})

        return await self._tx(work)

    async def update_monitor_run(self, run: MonitorRun) -> None:
        """Record what followed a run (its drafts, and the message that says so)."""
        stmt = (
            update(t.monitor_runs)
            .where(t.monitor_runs.c.id == run.id)
            .values(drafted=run.drafted, message=run.message)
        )
        await self._tx(lambda conn: conn.execute(stmt))

    async def update_monitor(self, monitor_id: int, **values: Any) -> None:
        stmt = (
            update(t.monitors)
            .where(t.monitors.c.id == monitor_id)
            .values({k: iso(v) if isinstance(v, datetime) else v for k, v in values.items()})
        )
        await self._tx(lambda conn: conn.execute(stmt))

    async def delete_monitor(self, monitor_id: int) -> None:
        def work(conn: Connection) -> None:
            for table in (t.monitor_runs, t.monitor_known):
                conn.execute(table.delete().where(table.c.monitor_id == monitor_id))
            conn.execute(t.monitors.delete().where(t.monitors.c.id == monitor_id))

        await self._tx(work)


def iso(when: datetime | None = None) -> str:
    """A UTC time as stored: fixed width (microseconds always written), so stored times compare as strings."""
    return (when or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _insert_once(
    conn: Connection, table: Any, *, plan_id: str, step_id: str, values: dict[str, Any]
) -> tuple[int, bool]:
    """The id of ``table``'s row for this plan step, inserting it with ``values`` when there is none; and
    whether it was inserted now (a step run again after a crash finds its row and adds nothing)."""
    found = select(table.c.id).where(table.c.plan_id == plan_id, table.c.step_id == step_id)
    existing = conn.execute(found).scalar()
    if existing is not None:
        return int(existing), False
    return _new_id(conn, table.insert().values(plan_id=plan_id, step_id=step_id, **values)), True


def _new_id(conn: Connection, insert: Any) -> int:
    """Run ``insert`` and return the row's new integer key."""
    return int(conn.execute(insert).inserted_primary_key[0])  # type: ignore[index]


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True, slots=True)
class LeadListRow:
    list_id: int
    plan_id: str
    step_id: str
    name: str
    session_id: str | None
    user_id: str
    leads: int


def _sequence(row: Any, leads: Sequence[Any], messages: list[OutreachMessage]) -> OutreachSequence:
    return OutreachSequence(
        id=row.id,
        plan_id=row.plan_id,
        step_id=row.step_id,
        list_id=row.list_id,
        account_id=row.account_id,
        steps=row.steps,
        sender=row.sender,
        created_at=datetime.fromisoformat(row.created_at),
        leads=[
            OutreachLead(
                lead_key=r.lead_key, lead_name=r.lead_name, email=r.email, status=r.status, reason=r.reason
            )
            for r in leads
        ],
        messages=messages,
    )


def _message(row: Any, lead_name: str) -> OutreachMessage:
    return OutreachMessage(
        id=row.id,
        lead_key=row.lead_key,
        lead_name=lead_name,
        email=row.email,
        step_index=row.step_index,
        step_key=row.step_key,
        day=row.day,
        subject=row.subject,
        body_text=row.body_text,
        status=row.status,
        attempts=row.attempts,
        reply=row.reply,
        sent_at=_when(row.sent_at),
        idempotency_key=row.idempotency_key,
    )


def _run(row: Any) -> MonitorRun:
    return MonitorRun.model_validate(row._asdict())


def _monitor(row: Any, known: int, last: MonitorRun | None) -> Monitor:
    fields = {k: v for k, v in row._asdict().items() if k not in ("lease_until", "last_run_id")}
    return Monitor.model_validate(fields | {"known": known, "last_run": last})


def _plan_row(row: Any) -> PlanRow:
    return PlanRow(
        plan_id=row.id,
        session_id=row.session_id,
        user_id=row.user_id,
        status=PlanStatus(row.status),
        raw_goal=str(row.plan.get("goal", {}).get("rawGoal", "")),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@functools.lru_cache(maxsize=8)
def _compiled_for_sqlite(stmt: Any) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """A prebuilt statement as SQLite's SQL text, its parameters' names in the order it binds them, and the
    values of those it fixes itself (literals such as the 0 of ``coalesce(max(seq), 0)``)."""
    compiled = stmt.compile(dialect=sqlite_dialect.dialect())
    return str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # WAL lets readers (the web page) read while a plan writes; NORMAL is durable across process crashes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@dataclass
class MemoryStore:
    """``PlanStore`` kept in memory: same behaviour as ``SqlStore``, nothing survives the process."""

    plans: dict[str, tuple[LeadGenPlan, str | None]] = field(default_factory=dict)
    events: list[PlanEvent] = field(default_factory=list)
    results: dict[str, dict[str, LeadGenStepResult]] = field(default_factory=dict)
    lists: dict[tuple[str, str], tuple[str, list[Lead]]] = field(default_factory=dict)
    sessions: set[str] = field(default_factory=set)
    plan_results: dict[str, LeadGenExecutionResult] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    leases: dict[str, RunLease] = field(default_factory=dict)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _created: dict[str, str] = field(default_factory=dict)

    async def save_plan(self, plan: LeadGenPlan, *, session_id: str | None = None) -> None:
        self.plans.setdefault(plan.id, (plan, session_id))

    async def get_plan(self, plan_id: str, *, session_id: str | None = None) -> LeadGenPlan | None:
        found = self.plans.get(plan_id)
        if found is None or (session_id is not None and found[1] != session_id):
            return None
        return found[0]

    async def plan_head(self, plan_id: str, *, session_id: str | None = None) -> PlanHead | None:
        plan = await self.get_plan(plan_id, session_id=session_id)
        if plan is None:
            return None
        seqs = [e.seq or 0 for e in self.events if e.plan_id == plan_id]
        return PlanHead(plan_id, plan.status, max(seqs, default=0))

    async def latest_plan_head(self, *, session_id: str) -> PlanHead | None:
        rows = await self.list_plans(session_id=session_id)
        return await self.plan_head(rows[0].plan_id) if rows else None

    def _transition(self, plan_id: str, expected: PlanStatus, to: PlanStatus, *, held: bool = True) -> bool:
        found = self.plans.get(plan_id)
        if found is None or found[0].status is not expected or not held:
            return False
        self.plans[plan_id] = (found[0].model_copy(update={"status": to}), found[1])
        return True

    async def approve_plan(self, plan_id: str, *, lease: RunLease, session_id: str | None = None) -> bool:
        ours = session_id is None or self.plans.get(plan_id, (None, session_id))[1] == session_id
        if not self._transition(plan_id, PlanStatus.PENDING_APPROVAL, PlanStatus.EXECUTING, held=ours):
            return False
        self.leases[plan_id] = lease
        return True

    async def cancel_pending(self, plan_id: str) -> bool:
        return self._transition(plan_id, PlanStatus.PENDING_APPROVAL, PlanStatus.CANCELLED)

    async def finish_plan(
        self, plan_id: str, *, owner: str, status: PlanStatus, result: LeadGenExecutionResult | None = None
    ) -> bool:
        held = (lease := self.leases.get(plan_id)) is not None and lease.owner == owner
        if not self._transition(plan_id, PlanStatus.EXECUTING, status, held=held):
            return False
        del self.leases[plan_id]
        if result is not None:
            self.plan_results[plan_id] = result
        return True

    async def renew_leases(self, plan_ids: Collection[str], lease: RunLease) -> set[str]:
        lost = set()
        for plan_id in plan_ids:
            plan = self.plans.get(plan_id)
            if plan is None or plan[0].status is not PlanStatus.EXECUTING:
                continue
            if (old := self.leases.get(plan_id)) is not None and old.owner == lease.owner:
                self.leases[plan_id] = lease
            else:
                lost.add(plan_id)
        return lost

    async def claim_orphans(self, lease: RunLease, *, now: datetime) -> list[PlanRow]:
        claimed = []
        for plan, session_id in self.plans.values():
            old = self.leases.get(plan.id)
            if plan.status is PlanStatus.EXECUTING and (old is None or old.until < now):
                self.leases[plan.id] = lease
                claimed.append(self._row(plan, session_id))
        return claimed

    async def release_plans(self, plan_ids: Collection[str], *, owner: str) -> None:
        for plan_id in plan_ids:
            if (lease := self.leases.get(plan_id)) is not None and lease.owner == owner:
                del self.leases[plan_id]

    async def append_event(
        self, event: PlanEvent, *, step_result: LeadGenStepResult | None = None
    ) -> PlanEvent:
        stored = event.model_copy(update={"seq": next(self._seq)})
        self.events.append(stored)
        if step_result is not None:
            self.results.setdefault(event.plan_id, {})[step_result.step_id] = step_result
        return stored

    async def list_events(self, plan_id: str, *, after: int = 0) -> list[PlanEvent]:
        return [e for e in self.events if e.plan_id == plan_id and (e.seq or 0) > after]

    async def step_results(self, plan_id: str) -> dict[str, LeadGenStepResult]:
        return dict(self.results.get(plan_id, {}))

    async def save_leads(self, *, plan_id: str, step_id: str, list_name: str, leads: list[Lead]) -> SavedList:
        name, saved = self.lists.setdefault((plan_id, step_id), (list_name, []))
        seen = {k for lead in saved for k in _lead_keys(lead)}
        before = len(saved)
        for lead in leads:
            keys = _lead_keys(lead)
            if not seen.intersection(keys):
                saved.append(lead)
                seen.update(keys)
        list_id = list(self.lists).index((plan_id, step_id)) + 1
        return SavedList(list_id=list_id, name=name, added=len(saved) - before, total=len(saved))

    async def list_leads(self, *, plan_id: str) -> list[Lead]:
        return [lead for (pid, _), (_, saved) in self.lists.items() if pid == plan_id for lead in saved]

    async def ensure_session(self, session_id: str) -> None:
        self.sessions.add(session_id)

    async def plan_session(self, plan_id: str) -> str | None:
        found = self.plans.get(plan_id)
        return found[1] if found else None

    def _row(self, plan: LeadGenPlan, session_id: str | None) -> PlanRow:
        created = self._created.setdefault(
            plan.id, plan.created_at.isoformat() if plan.created_at else _now()
        )
        return PlanRow(plan.id, session_id, plan.user_id, plan.status, plan.goal.raw_goal, created, created)

    async def list_plans(self, *, session_id: str) -> list[PlanRow]:
        rows = [self._row(p, s) for p, s in self.plans.values() if s == session_id]
        return sorted(rows, key=lambda r: (r.created_at, r.plan_id), reverse=True)

    async def get_result(self, plan_id: str) -> LeadGenExecutionResult | None:
        return self.plan_results.get(plan_id)

    async def add_message(self, *, session_id: str, plan_id: str | None, role: str, text: str) -> None:
        self.messages.append(Message(len(self.messages) + 1, session_id, plan_id, role, text, _now()))

    async def list_messages(self, *, session_id: str) -> list[Message]:
        return [m for m in self.messages if m.session_id == session_id]

    async def close(self) -> None:
        return None


def open_store(url: str | None) -> PlanStore:
    """``memory://`` (or None) → ``MemoryStore``; anything else → ``SqlStore`` (created on first use)."""
    if url in (None, "memory://"):
        return MemoryStore()
    return SqlStore.lazy(url)
