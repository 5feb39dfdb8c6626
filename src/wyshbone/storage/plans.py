"""Plans: each plan and its status moves, the lease of its run, its event log and its step results.

``PlanRepository`` is the contract; ``SqlPlanRepository`` keeps it in the database, ``MemoryPlanRepository``
in memory, with the same behaviour (tests/integration/test_plans_repository.py runs both).
"""

from __future__ import annotations

import itertools
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, func, select, update

from wyshbone.domain.models import (
    LeadGenExecutionResult,
    LeadGenPlan,
    LeadGenStepResult,
    PlanEvent,
    PlanStatus,
)
from wyshbone.storage import tables as t
from wyshbone.storage._sql import iso, lapsed, stamp
from wyshbone.storage.db import Database, GroupCommit

EXECUTING = PlanStatus.EXECUTING
CANCELLED = PlanStatus.CANCELLED


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
class PlanMove:
    """One conditional move of one plan, as ``PlanRepository.transition`` decides it and a backend applies it."""

    plan_id: str
    from_: PlanStatus
    """Applied only while the plan is in this status..."""
    owner: str | None
    """... and, when given, held by this owner..."""
    session_id: str | None
    """... and, when given, this session's."""
    to: PlanStatus
    hold: tuple[str | None, datetime | None] | None
    """The hold it leaves, (owner, until): taken by moving to executing, ended by moving from it; None keeps it."""
    result: LeadGenExecutionResult | None
    """The run's result, stored with the move."""


class PlanRepository(Protocol):
    """Where plans, their event log and their step results are kept.

    Implementations subclass it: ``transition`` is decided here, once, and applied by their ``_apply``.
    """

    async def save(self, plan: LeadGenPlan, *, session_id: str | None = None) -> None:
        """Store the plan, owned by ``session_id``; stored once, a plan saved again is left as it was."""
        ...

    async def get(self, plan_id: str, *, session_id: str | None = None) -> LeadGenPlan | None:
        """The plan; with ``session_id``, only if that session owns it."""
        ...

    async def head(self, plan_id: str, *, session_id: str | None = None) -> PlanHead | None: ...
    async def latest_head(self, *, session_id: str) -> PlanHead | None:
        """The head of the session's newest plan."""
        ...

    async def session_of(self, plan_id: str) -> str | None: ...
    async def for_session(self, *, session_id: str) -> list[PlanRow]:
        """The session's plans, newest first."""
        ...

    async def result(self, plan_id: str) -> LeadGenExecutionResult | None: ...
    async def transition(
        self,
        plan_id: str,
        *,
        from_: PlanStatus,
        to: PlanStatus,
        lease: RunLease | None = None,
        owner: str | None = None,
        session_id: str | None = None,
        result: LeadGenExecutionResult | None = None,
    ) -> bool:
        """Move the plan from ``from_`` to ``to``; False (and nothing changed) unless it is still ``from_`` and,
        with ``owner``, held by that owner, with ``session_id``, that session's. Moving to executing takes
        ``lease`` (required); moving from it ends the hold. ``result`` (the run's) is stored with the move."""
        if from_ is to:
            raise ValueError(f"a plan cannot move from {from_.value} to itself")
        hold: tuple[str | None, datetime | None] | None = None
        if to is EXECUTING:
            if lease is None:
                raise ValueError("a plan moves to executing only with a lease")
            hold = (lease.owner, lease.until)
        elif from_ is EXECUTING:
            hold = (None, None)
        return await self._apply(PlanMove(plan_id, from_, owner, session_id, to, hold, result))

    async def _apply(self, move: PlanMove) -> bool:
        """Apply ``move`` as one conditional update; whether it applied."""
        ...

    async def renew_leases(self, plan_ids: Collection[str], lease: RunLease) -> set[str]:
        """Extend ``lease.owner``'s lease on those of ``plan_ids`` it still owns; returns the ids of those
        another process has taken over meanwhile, or ended cancelled (the owner must stop running them)."""
        ...

    async def claim_orphans(self, lease: RunLease, *, now: datetime) -> list[PlanRow]:
        """Take over every executing plan whose lease has expired by ``now`` (one conditional update each)."""
        ...

    async def release(self, plan_ids: Collection[str], *, owner: str) -> None:
        """End ``owner``'s leases at once (a clean shutdown): the next process to start resumes the plans."""
        ...

    async def append_event(
        self, event: PlanEvent, *, step_result: LeadGenStepResult | None = None
    ) -> PlanEvent:
        """Store ``event`` (and the step result it finalises, in the same transaction); it comes back with
        its ``seq``, which orders each plan's log."""
        ...

    async def events(self, plan_id: str, *, after: int = 0) -> list[PlanEvent]: ...
    async def step_results(self, plan_id: str) -> dict[str, LeadGenStepResult]: ...


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
_INSERT_EVENTS = t.plan_events.insert().returning(t.plan_events.c.seq, sort_by_parameter_order=True)
_RENEW = (
    update(t.plans)
    .where(
        t.plans.c.id == bindparam("plan_id"),
        t.plans.c.status == EXECUTING.value,
        t.plans.c.owner == bindparam("holder"),
    )
    .values(lease_until=bindparam("until"))
)
_PLAN_ROW = (
    t.plans.c.id,
    t.plans.c.session_id,
    t.plans.c.user_id,
    t.plans.c.status,
    t.plans.c.plan,
    t.plans.c.created_at,
    t.plans.c.updated_at,
)
_Appended = tuple[PlanEvent, "LeadGenStepResult | None"]
_Renewal = tuple[tuple[str, ...], RunLease]


def _lost(status: str, owner: str | None, *, owner_was: str) -> bool:
    """Whether a run holding its plan as ``owner_was`` must stop: another process took the plan over, or it
    ended cancelled."""
    return status == CANCELLED.value or (status == EXECUTING.value and owner != owner_was)


class SqlPlanRepository(PlanRepository):
    """``PlanRepository`` in the database. Appended events are group-committed: events appended while a
    commit is in flight go into the next single transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._events: GroupCommit[_Appended, int] = GroupCommit(db, self._write_events, apart=True)
        self._renewals: GroupCommit[_Renewal, set[str]] = GroupCommit(db, self._write_renewals)

    async def save(self, plan: LeadGenPlan, *, session_id: str | None = None) -> None:
        now = stamp()
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
        stmt = self._db.insert(t.plans).values(row).on_conflict_do_nothing(index_elements=[t.plans.c.id])
        await self._db.write(lambda conn: conn.execute(stmt))

    async def get(self, plan_id: str, *, session_id: str | None = None) -> LeadGenPlan | None:
        stmt = select(t.plans.c.plan, t.plans.c.status).where(t.plans.c.id == plan_id)
        if session_id is not None:
            stmt = stmt.where(t.plans.c.session_id == session_id)
        row = await self._db.read(lambda conn: conn.execute(stmt).first())
        if row is None:
            return None
        return LeadGenPlan.model_validate({**row.plan, "status": row.status})

    async def head(self, plan_id: str, *, session_id: str | None = None) -> PlanHead | None:
        if session_id is None:
            return await self._head(_HEAD_BY_ID, {"plan_id": plan_id})
        return await self._head(_HEAD_BY_ID_AND_SESSION, {"plan_id": plan_id, "session_id": session_id})

    async def latest_head(self, *, session_id: str) -> PlanHead | None:
        return await self._head(_LATEST_HEAD, {"session_id": session_id})

    async def _head(self, stmt: Any, params: dict[str, str]) -> PlanHead | None:
        found = await self._db.polled_first(stmt, params)
        return None if found is None else PlanHead(found[0], PlanStatus(found[1]), int(found[2]))

    async def session_of(self, plan_id: str) -> str | None:
        stmt = select(t.plans.c.session_id).where(t.plans.c.id == plan_id)
        return await self._db.read(lambda conn: conn.execute(stmt).scalar())

    async def for_session(self, *, session_id: str) -> list[PlanRow]:
        stmt = (
            select(*_PLAN_ROW)
            .where(t.plans.c.session_id == session_id)
            .order_by(t.plans.c.created_at.desc(), t.plans.c.id.desc())
        )
        rows = await self._db.read(lambda conn: conn.execute(stmt).all())
        return [_plan_row(row) for row in rows]

    async def result(self, plan_id: str) -> LeadGenExecutionResult | None:
        stmt = select(t.plans.c.result).where(t.plans.c.id == plan_id)
        raw = await self._db.read(lambda conn: conn.execute(stmt).scalar())
        return LeadGenExecutionResult.model_validate(raw) if raw else None

    async def _apply(self, move: PlanMove) -> bool:
        p = t.plans.c
        where = [p.id == move.plan_id, p.status == move.from_.value]
        where += [] if move.owner is None else [p.owner == move.owner]
        where += [] if move.session_id is None else [p.session_id == move.session_id]
        values: dict[str, Any] = {"status": move.to.value, "updated_at": stamp()}
        if move.hold is not None:
            owner, until = move.hold
            values |= {"owner": owner, "lease_until": None if until is None else iso(until)}

        def work(conn: Connection) -> bool:
            # The result (every lead of the run) is serialised here, on the writer thread, not on the loop.
            if move.result is not None:
                values["result"] = move.result.to_json_dict()
            return bool(conn.execute(update(t.plans).where(*where).values(values)).rowcount == 1)

        return await self._db.write(work)

    async def renew_leases(self, plan_ids: Collection[str], lease: RunLease) -> set[str]:
        if not plan_ids:
            return set()
        return await self._renewals.submit((tuple(plan_ids), lease))

    def _write_renewals(self, conn: Connection, batch: list[_Renewal]) -> list[set[str]]:
        """The renewals asked for meanwhile (each run's heartbeat asks for its own plans) in one update, then
        one read of who holds their plans now."""
        renew = [
            {"plan_id": i, "holder": lease.owner, "until": iso(lease.until)}
            for ids, lease in batch
            for i in ids
        ]
        conn.execute(_RENEW, renew)
        p = t.plans.c
        wanted = list({i for ids, _ in batch for i in ids})
        now = {
            row.id: (row.status, row.owner)
            for row in conn.execute(select(p.id, p.status, p.owner).where(p.id.in_(wanted)))
        }
        lost = []
        for ids, lease in batch:
            held = ((i, now.get(i)) for i in ids)
            lost.append({i for i, h in held if h is not None and _lost(*h, owner_was=lease.owner)})
        return lost

    async def claim_orphans(self, lease: RunLease, *, now: datetime) -> list[PlanRow]:
        p = t.plans.c
        expired = (p.status == EXECUTING.value, lapsed(p.lease_until, now))
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
            rows = conn.execute(select(*_PLAN_ROW).where(p.id.in_(claimed)).order_by(p.created_at))
            return [_plan_row(row) for row in rows]

        return await self._db.write(work)

    async def release(self, plan_ids: Collection[str], *, owner: str) -> None:
        if not plan_ids:
            return
        p = t.plans.c
        stmt = (
            update(t.plans)
            .where(p.id.in_(list(plan_ids)), p.status == EXECUTING.value, p.owner == owner)
            .values(lease_until=None)
        )
        await self._db.write(lambda conn: conn.execute(stmt))

    async def append_event(
        self, event: PlanEvent, *, step_result: LeadGenStepResult | None = None
    ) -> PlanEvent:
        seq = await self._events.submit((event, step_result))
        return event.model_copy(update={"seq": seq})

    def _write_events(self, conn: Connection, batch: list[_Appended]) -> list[int]:
        """The batch in two statements: one insert of every event (their ``seq``s come back in the batch's
        order), one upsert of the step results they finalise."""
        rows = [
            {
                "plan_id": event.plan_id,
                "type": event.type.value,
                "step_id": event.step_id,
                "timestamp": event.timestamp.isoformat(),
                "event": event.model_dump(mode="json", exclude={"seq"}),
            }
            for event, _ in batch
        ]
        seqs = [int(seq) for seq in conn.execute(_INSERT_EVENTS, rows).scalars()]
        results = [
            {"plan_id": e.plan_id, "step_id": r.step_id, "status": r.status.value, "result": r.to_json_dict()}
            for e, r in batch
            if r is not None
        ]
        if results:  # executemany, a row at a time: a batch may finalise the same step twice (a retry)
            stmt = self._db.insert(t.step_results)
            keys = [t.step_results.c.plan_id, t.step_results.c.step_id]
            latest = {"status": stmt.excluded.status, "result": stmt.excluded.result}
            conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=latest), results)
        return seqs

    async def events(self, plan_id: str, *, after: int = 0) -> list[PlanEvent]:
        stmt = (
            select(t.plan_events.c.seq, t.plan_events.c.event)
            .where(t.plan_events.c.plan_id == plan_id, t.plan_events.c.seq > after)
            .order_by(t.plan_events.c.seq)
        )
        rows = await self._db.read(lambda conn: conn.execute(stmt).all())
        return [PlanEvent.model_validate({**row.event, "seq": row.seq}) for row in rows]

    async def step_results(self, plan_id: str) -> dict[str, LeadGenStepResult]:
        stmt = select(t.step_results.c.result).where(t.step_results.c.plan_id == plan_id)
        rows = await self._db.read(lambda conn: conn.execute(stmt).all())
        results = [LeadGenStepResult.model_validate(row.result) for row in rows]
        return {r.step_id: r for r in results}


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


@dataclass
class _Stored:
    """One plan as the fake keeps it: the columns of its row."""

    plan: LeadGenPlan
    session_id: str | None
    created_at: str
    updated_at: str
    owner: str | None = None
    lease_until: datetime | None = None
    result: LeadGenExecutionResult | None = None

    def row(self) -> PlanRow:
        plan = self.plan
        return PlanRow(
            plan.id,
            self.session_id,
            plan.user_id,
            plan.status,
            plan.goal.raw_goal,
            self.created_at,
            self.updated_at,
        )


@dataclass
class MemoryPlanRepository(PlanRepository):
    """``PlanRepository`` in memory: the same behaviour as in the database; nothing survives the process."""

    _plans: dict[str, _Stored] = field(default_factory=dict)
    _events: dict[str, list[PlanEvent]] = field(default_factory=dict)
    _results: dict[str, dict[str, LeadGenStepResult]] = field(default_factory=dict)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def save(self, plan: LeadGenPlan, *, session_id: str | None = None) -> None:
        now = stamp()
        created = plan.created_at.isoformat() if plan.created_at else now
        self._plans.setdefault(plan.id, _Stored(plan, session_id, created, now))

    def _find(self, plan_id: str, session_id: str | None) -> _Stored | None:
        found = self._plans.get(plan_id)
        return None if found is None or session_id not in (None, found.session_id) else found

    async def get(self, plan_id: str, *, session_id: str | None = None) -> LeadGenPlan | None:
        found = self._find(plan_id, session_id)
        return None if found is None else found.plan

    async def head(self, plan_id: str, *, session_id: str | None = None) -> PlanHead | None:
        found = self._find(plan_id, session_id)
        if found is None:
            return None
        events = self._events.get(plan_id)
        return PlanHead(plan_id, found.plan.status, events[-1].seq or 0 if events else 0)

    async def latest_head(self, *, session_id: str) -> PlanHead | None:
        rows = await self.for_session(session_id=session_id)
        return await self.head(rows[0].plan_id) if rows else None

    async def session_of(self, plan_id: str) -> str | None:
        found = self._plans.get(plan_id)
        return None if found is None else found.session_id

    async def for_session(self, *, session_id: str) -> list[PlanRow]:
        rows = [s.row() for s in self._plans.values() if s.session_id == session_id]
        return sorted(rows, key=lambda r: (r.created_at, r.plan_id), reverse=True)

    async def result(self, plan_id: str) -> LeadGenExecutionResult | None:
        found = self._plans.get(plan_id)
        return None if found is None else found.result

    async def _apply(self, move: PlanMove) -> bool:
        found = self._find(move.plan_id, move.session_id)
        if found is None or found.plan.status is not move.from_ or move.owner not in (None, found.owner):
            return False
        found.plan = found.plan.model_copy(update={"status": move.to})
        found.updated_at = stamp()
        if move.hold is not None:
            found.owner, found.lease_until = move.hold
        if move.result is not None:
            found.result = move.result
        return True

    def _running(self, plan_ids: Collection[str]) -> list[_Stored]:
        found = (self._plans.get(plan_id) for plan_id in plan_ids)
        return [s for s in found if s is not None and s.plan.status is EXECUTING]

    async def renew_leases(self, plan_ids: Collection[str], lease: RunLease) -> set[str]:
        lost = set()
        for stored in filter(None, (self._plans.get(plan_id) for plan_id in plan_ids)):
            if stored.plan.status is EXECUTING and stored.owner == lease.owner:
                stored.lease_until = lease.until
            elif _lost(stored.plan.status.value, stored.owner, owner_was=lease.owner):
                lost.add(stored.plan.id)
        return lost

    async def claim_orphans(self, lease: RunLease, *, now: datetime) -> list[PlanRow]:
        claimed = []
        for stored in sorted(self._running(list(self._plans)), key=lambda s: s.created_at):
            if stored.lease_until is None or stored.lease_until < now:
                stored.owner, stored.lease_until = lease.owner, lease.until
                claimed.append(stored.row())
        return claimed

    async def release(self, plan_ids: Collection[str], *, owner: str) -> None:
        for stored in self._running(plan_ids):
            if stored.owner == owner:
                stored.lease_until = None

    async def append_event(
        self, event: PlanEvent, *, step_result: LeadGenStepResult | None = None
    ) -> PlanEvent:
        stored = event.model_copy(update={"seq": next(self._seq)})
        self._events.setdefault(event.plan_id, []).append(stored)
        if step_result is not None:
            self._results.setdefault(event.plan_id, {})[step_result.step_id] = step_result
        return stored

    async def events(self, plan_id: str, *, after: int = 0) -> list[PlanEvent]:
        return [e for e in self._events.get(plan_id, ()) if (e.seq or 0) > after]

    async def step_results(self, plan_id: str) -> dict[str, LeadGenStepResult]:
        return dict(self._results.get(plan_id, {}))
