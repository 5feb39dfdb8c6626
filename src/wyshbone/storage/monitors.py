"""Monitors: a plan's search kept to be run again, the businesses it knows, its runs, and the lease a runner
holds while it runs one (taken only while the monitor is due, so of two schedulers one runs it).

``MonitorRepository`` is the contract; ``SqlMonitorRepository`` keeps it in the database and
``MemoryMonitorRepository`` in memory, with the same behaviour. A run's new leads join the monitor's lead list
in the same transaction as the run (hence each implementation's lead repository).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, func, select, update

from wyshbone.domain.models import Lead
from wyshbone.domain.monitors import Monitor, MonitorRun, identities
from wyshbone.storage import tables as t
from wyshbone.storage._memory import Table
from wyshbone.storage._sql import insert_once, iso, lapsed, new_id
from wyshbone.storage.db import Database
from wyshbone.storage.leads import MemoryLeadRepository, SqlLeadRepository

logger = logging.getLogger("wyshbone.storage")

ACTIVE = "active"
PAUSED = "paused"
STATUSES = frozenset({ACTIVE, PAUSED})


@dataclass(frozen=True, slots=True)
class NewMonitor:
    """A plan step's monitor, as ``MonitorRepository.create`` hands it to a backend."""

    plan_id: str
    step_id: str
    values: dict[str, Any]
    """The monitor row's other columns."""
    known: tuple[Lead, ...]
    baseline: dict[str, Any]
    """The baseline run's row, but for its monitor's id."""


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A finished run, as ``MonitorRepository.record_run`` hands it to a backend."""

    run: MonitorRun
    list_id: int
    fresh: Sequence[Lead]
    """New leads: they join the monitor's list."""
    seen: Sequence[Lead]
    """Every lead the run saw: the monitor knows them from now on."""
    after: dict[str, Any]
    """What the run changes on its monitor: its times move on."""
    owner: str
    """Who ran it: the monitor's lease ends only if that runner still holds it."""


class MonitorRepository(Protocol):
    """Where monitors, what they know and their runs are kept.

    Implementations subclass it: ``create`` and ``record_run`` are decided here, once, and written by their
    ``_create`` and ``_record``.
    """

    async def create(
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
        """Store the monitor (active) with what it already knows and its baseline run, once per plan step;
        returns (id, created now)."""
        values: dict[str, Any] = {
            "session_id": session_id,
            "user_id": user_id,
            "list_id": list_id,
            "name": name,
        }
        values |= {"search": search, "cadence": cadence, "status": ACTIVE, "next_run_at": iso(next_run_at)}
        # Only a baseline search that succeeded sets last_success_at; until one has, every check takes the
        # baseline (learns what is there, reports nothing as new). The set-up's own record ("setup") is not one.
        taken = baseline.status == "succeeded" and baseline.kind == "baseline"
        succeeded = iso(baseline.started_at) if taken else None
        values |= {"last_run_at": iso(baseline.finished_at), "last_success_at": succeeded}
        values |= {"lease_until": None, "lease_owner": None, "created_at": iso(baseline.started_at)}
        return await self._create(NewMonitor(plan_id, step_id, values, tuple(known), run_row(baseline)))

    async def _create(self, new: NewMonitor) -> tuple[int, bool]:
        """Insert the monitor row once; when inserted now, with what it knows and its baseline run."""
        ...

    async def known(self, monitor_id: int) -> set[str]:
        """The keys of every business the monitor has seen (``domain.monitors.identities``)."""
        ...

    async def find(self, *, session_id: str | None = None, monitor_id: int | None = None) -> list[Monitor]:
        """The session's monitors (every monitor when None), newest first, each with its last run."""
        ...

    async def runs(self, monitor_id: int, *, limit: int = 50) -> list[MonitorRun]:
        """The monitor's runs, newest first."""
        ...

    async def due(self, now: datetime) -> list[int]:
        """The active monitors whose next run is due by ``now`` and that no runner holds, the longest waiting
        first."""
        ...

    async def transition(self, monitor_id: int, *, from_: str, to: str) -> bool:
        """Active ↔ paused: False (nothing changed) unless the monitor is still ``from_``. A monitor resumed
        after its run time is due at once."""
        ...

    async def lease(
        self, monitor_id: int, *, owner: str, now: datetime, until: datetime, due: bool = False
    ) -> bool:
        """Hold the monitor for one run until ``until``; False when another runner holds it, or (``due``) when
        it is no longer active and due: one conditional statement, so of two schedulers that both saw it due,
        one runs it."""
        ...

    async def renew_lease(self, monitor_id: int, *, owner: str, until: datetime) -> bool:
        """Extend ``owner``'s hold while its run goes on; False when it no longer holds it."""
        ...

    async def record_run(
        self,
        run: MonitorRun,
        *,
        list_id: int,
        owner: str,
        fresh: Sequence[Lead] = (),
        seen: Sequence[Lead] = (),
        next_run_at: datetime | None = None,
    ) -> MonitorRun:
        """At once: add the ``fresh`` leads to the list, remember every lead ``seen``, record the run, release
        ``owner``'s lease (not another runner's, should it have passed on) and (when ``next_run_at`` is given)
        move the schedule on. A failed run leaves the schedule as it was: it is due again at the next tick.
        Returns the run with its id."""
        after: dict[str, Any] = {"last_run_at": iso(run.finished_at)}
        if run.status == "succeeded":
            after["last_success_at"] = iso(run.started_at)
        if next_run_at is not None:
            after["next_run_at"] = iso(next_run_at)
        run_id = await self._record(RunRecord(run, list_id, fresh, seen, after, owner))
        return run.model_copy(update={"id": run_id})

    async def _record(self, record: RunRecord) -> int:
        """Write the record in one transaction; the run's new id."""
        ...

    async def save_found(
        self,
        monitor_id: int,
        *,
        list_id: int,
        fresh: Sequence[Lead],
        seen: Sequence[Lead],
        next_run_at: datetime,
    ) -> int:
        """A check's save, at once: add the ``fresh`` leads to the list, remember every lead ``seen`` and move
        the schedule on to ``next_run_at``; the lease stays (``record_run`` ends it). Returns how many of
        ``fresh`` the list did not have yet."""
        ...

    async def update_run(self, run: MonitorRun) -> None:
        """Record what followed a run (its drafts, and the message that says so)."""
        ...

    async def delete(self, monitor_id: int) -> None: ...


def _check_move(from_: str, to: str) -> None:
    if {from_, to} != STATUSES:
        raise ValueError(f"a monitor moves between active and paused, not from {from_!r} to {to!r}")


def _known_rows(monitor_id: int, leads: Iterable[Lead]) -> list[dict[str, Any]]:
    """A business is known by two keys: its source record ("source") and its name at its postcode ("name")."""
    keys: dict[str, str] = {}
    for lead in leads:
        source, name = identities(lead)
        keys.setdefault(source, "source")
        keys.setdefault(name, "name")
    return [{"monitor_id": monitor_id, "key": key, "kind": kind} for key, kind in keys.items()]


def run_row(run: MonitorRun) -> dict[str, Any]:
    """The run as its row holds it, with the id of the check plan it executed."""
    return run.model_dump(exclude={"id"}, by_alias=False) | {
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
    }


def _monitor(row: Mapping[Any, Any], known: int, last: MonitorRun | None) -> Monitor:
    fields = {k: v for k, v in row.items() if k not in ("lease_until", "lease_owner", "last_run_id")}
    return Monitor.model_validate(fields | {"known": known, "last_run": last})


class SqlMonitorRepository(MonitorRepository):
    """``MonitorRepository`` in the database."""

    def __init__(self, db: Database, leads: SqlLeadRepository) -> None:
        self._db = db
        self._leads = leads

    async def _create(self, new: NewMonitor) -> tuple[int, bool]:
        def work(conn: Connection) -> tuple[int, bool]:
            monitor_id, created = insert_once(
                conn, t.monitors, plan_id=new.plan_id, step_id=new.step_id, values=new.values
            )
            if created:
                self._remember(conn, monitor_id, new.known)
                new_id(conn, t.monitor_runs.insert().values(new.baseline | {"monitor_id": monitor_id}))
            return monitor_id, created

        return await self._db.write(work)

    def _remember(self, conn: Connection, monitor_id: int, leads: Iterable[Lead]) -> None:
        if rows := _known_rows(monitor_id, leads):
            conn.execute(self._db.insert(t.monitor_known).on_conflict_do_nothing(), rows)

    async def known(self, monitor_id: int) -> set[str]:
        stmt = select(t.monitor_known.c.key).where(t.monitor_known.c.monitor_id == monitor_id)
        return set(await self._db.read(lambda conn: conn.execute(stmt).scalars().all()))

    async def find(self, *, session_id: str | None = None, monitor_id: int | None = None) -> list[Monitor]:
        # Two queries whatever the number of monitors: the monitors with their counts and last run ids, then
        # those runs.
        m, known, runs = t.monitors.c, t.monitor_known.c, t.monitor_runs.c
        count = select(func.count()).where(known.monitor_id == m.id, known.kind == "source").scalar_subquery()
        last_run = select(func.max(runs.id)).where(runs.monitor_id == m.id).scalar_subquery()
        stmt = select(t.monitors, count.label("known"), last_run.label("last_run_id")).order_by(m.id.desc())
        stmt = stmt.where(*([] if session_id is None else [m.session_id == session_id]))
        stmt = stmt.where(*([] if monitor_id is None else [m.id == monitor_id]))

        def read(conn: Connection) -> list[Monitor]:
            rows = conn.execute(stmt).all()
            run_ids = [row.last_run_id for row in rows if row.last_run_id is not None]
            last = {r.id: _run(r) for r in conn.execute(select(t.monitor_runs).where(runs.id.in_(run_ids)))}
            return [_monitor(row._mapping, row.known, last.get(row.last_run_id)) for row in rows]

        return await self._db.read(read)

    async def runs(self, monitor_id: int, *, limit: int = 50) -> list[MonitorRun]:
        runs = t.monitor_runs.c
        stmt = (
            select(t.monitor_runs).where(runs.monitor_id == monitor_id).order_by(runs.id.desc()).limit(limit)
        )
        rows = await self._db.read(lambda conn: conn.execute(stmt).all())
        return [_run(r) for r in rows]

    async def due(self, now: datetime) -> list[int]:
        m = t.monitors.c
        free = lapsed(m.lease_until, now)
        stmt = (
            select(m.id)
            .where(m.status == ACTIVE, m.next_run_at <= iso(now), free)
            .order_by(m.next_run_at, m.id)
        )
        return list(await self._db.read(lambda conn: conn.execute(stmt).scalars().all()))

    async def _update(self, *where: Any, **values: Any) -> bool:
        stmt = update(t.monitors).where(*where).values(values)
        return bool(await self._db.write(lambda conn: conn.execute(stmt).rowcount) == 1)

    async def transition(self, monitor_id: int, *, from_: str, to: str) -> bool:
        _check_move(from_, to)
        m = t.monitors.c
        return await self._update(m.id == monitor_id, m.status == from_, status=to)

    async def lease(
        self, monitor_id: int, *, owner: str, now: datetime, until: datetime, due: bool = False
    ) -> bool:
        m = t.monitors.c
        where = [m.id == monitor_id, lapsed(m.lease_until, now)]
        if due:
            where += [m.status == ACTIVE, m.next_run_at <= iso(now)]
        return await self._update(*where, lease_until=iso(until), lease_owner=owner)

    async def renew_lease(self, monitor_id: int, *, owner: str, until: datetime) -> bool:
        m = t.monitors.c
        held = (m.id == monitor_id, m.lease_owner == owner, m.lease_until.is_not(None))
        return await self._update(*held, lease_until=iso(until))

    async def _record(self, record: RunRecord) -> int:
        run = record.run

        def work(conn: Connection) -> int:
            self._leads.add_in(conn, record.list_id, record.fresh)
            self._remember(conn, run.monitor_id, (*record.fresh, *record.seen))
            run_id = new_id(conn, t.monitor_runs.insert().values(run_row(run)))
            m = t.monitors.c
            conn.execute(update(t.monitors).where(m.id == run.monitor_id).values(record.after))
            held = (m.id == run.monitor_id, m.lease_owner == record.owner)
            if not conn.execute(
                update(t.monitors).where(*held).values(lease_until=None, lease_owner=None)
            ).rowcount:
                _lost_lease(run.monitor_id)
            return run_id

        return await self._db.write(work)

    async def save_found(
        self,
        monitor_id: int,
        *,
        list_id: int,
        fresh: Sequence[Lead],
        seen: Sequence[Lead],
        next_run_at: datetime,
    ) -> int:
        m = t.monitors.c
        # Forward only: a check resumed late (its next run was fixed when it was planned) never moves it back.
        later = (m.id == monitor_id, m.next_run_at < iso(next_run_at))
        moved = update(t.monitors).where(*later).values(next_run_at=iso(next_run_at))

        def work(conn: Connection) -> int:
            added, _ = self._leads.add_in(conn, list_id, fresh)
            self._remember(conn, monitor_id, (*fresh, *seen))
            conn.execute(moved)
            return added

        return await self._db.write(work)

    async def update_run(self, run: MonitorRun) -> None:
        stmt = (
            update(t.monitor_runs)
            .where(t.monitor_runs.c.id == run.id)
            .values(drafted=run.drafted, message=run.message)
        )
        await self._db.write(lambda conn: conn.execute(stmt))

    async def delete(self, monitor_id: int) -> None:
        def work(conn: Connection) -> None:
            for table in (t.monitor_runs, t.monitor_known):
                conn.execute(table.delete().where(table.c.monitor_id == monitor_id))
            conn.execute(t.monitors.delete().where(t.monitors.c.id == monitor_id))

        await self._db.write(work)


def _run(row: Any) -> MonitorRun:
    return MonitorRun.model_validate(row._asdict())


@dataclass
class MemoryMonitorRepository(MonitorRepository):
    """``MonitorRepository`` in memory: rows as the tables hold them (times stored as text, so they compare as
    the database compares them); a run's fresh leads go to ``leads``."""

    leads: MemoryLeadRepository
    _monitors: Table = field(default_factory=Table)
    _known: dict[int, dict[str, str]] = field(default_factory=dict)
    """monitor id → key → kind."""
    _runs: Table = field(default_factory=Table)

    async def _create(self, new: NewMonitor) -> tuple[int, bool]:
        monitor_id, created = self._monitors.insert_once(
            plan_id=new.plan_id, step_id=new.step_id, values=new.values
        )
        if created:
            self._remember(monitor_id, new.known)
            self._runs.insert(new.baseline | {"monitor_id": monitor_id})
        return monitor_id, created

    def _remember(self, monitor_id: int, leads: Iterable[Lead]) -> None:
        known = self._known.setdefault(monitor_id, {})
        for row in _known_rows(monitor_id, leads):
            known.setdefault(row["key"], row["kind"])

    async def known(self, monitor_id: int) -> set[str]:
        return set(self._known.get(monitor_id, {}))

    async def find(self, *, session_id: str | None = None, monitor_id: int | None = None) -> list[Monitor]:
        found = []
        for row in reversed(self._monitors.where()):
            if session_id not in (None, row["session_id"]) or monitor_id not in (None, row["id"]):
                continue
            known = sum(1 for kind in self._known.get(row["id"], {}).values() if kind == "source")
            runs = await self.runs(row["id"], limit=1)
            found.append(_monitor(row, known, runs[0] if runs else None))
        return found

    async def runs(self, monitor_id: int, *, limit: int = 50) -> list[MonitorRun]:
        return [MonitorRun.model_validate(r) for r in reversed(self._runs.where(monitor_id=monitor_id))][
            :limit
        ]

    async def due(self, now: datetime) -> list[int]:
        at = iso(now)
        due = [
            r
            for r in self._monitors.where(status=ACTIVE)
            if r["next_run_at"] <= at and (r["lease_until"] is None or r["lease_until"] < at)
        ]
        return [r["id"] for r in sorted(due, key=lambda r: (r["next_run_at"], r["id"]))]

    async def transition(self, monitor_id: int, *, from_: str, to: str) -> bool:
        _check_move(from_, to)
        row = self._monitors.get(monitor_id)
        if row is None or row["status"] != from_:
            return False
        row["status"] = to
        return True

    async def lease(
        self, monitor_id: int, *, owner: str, now: datetime, until: datetime, due: bool = False
    ) -> bool:
        row, at = self._monitors.get(monitor_id), iso(now)
        if row is None or (row["lease_until"] is not None and row["lease_until"] >= at):
            return False
        if due and (row["status"] != ACTIVE or row["next_run_at"] > at):
            return False
        row.update(lease_until=iso(until), lease_owner=owner)
        return True

    async def renew_lease(self, monitor_id: int, *, owner: str, until: datetime) -> bool:
        row = self._monitors.get(monitor_id)
        if row is None or row["lease_owner"] != owner or row["lease_until"] is None:
            return False
        row["lease_until"] = iso(until)
        return True

    async def _record(self, record: RunRecord) -> int:
        run = record.run
        self.leads.add(record.list_id, record.fresh)
        self._remember(run.monitor_id, (*record.fresh, *record.seen))
        run_id = self._runs.insert(run_row(run))
        row = self._monitors.rows[run.monitor_id]
        row.update(record.after)
        if row["lease_owner"] == record.owner:
            row.update(lease_until=None, lease_owner=None)
        else:
            _lost_lease(run.monitor_id)
        return run_id

    async def save_found(
        self,
        monitor_id: int,
        *,
        list_id: int,
        fresh: Sequence[Lead],
        seen: Sequence[Lead],
        next_run_at: datetime,
    ) -> int:
        added, _ = self.leads.add(list_id, fresh)
        self._remember(monitor_id, (*fresh, *seen))
        row = self._monitors.rows[monitor_id]
        row["next_run_at"] = max(row["next_run_at"], iso(next_run_at))  # forward only, as in SQL
        return added

    async def update_run(self, run: MonitorRun) -> None:
        stored = self._runs.get(run.id or 0)
        if stored is not None:
            stored.update(drafted=run.drafted, message=run.message)

    async def delete(self, monitor_id: int) -> None:
        self._runs.delete(monitor_id=monitor_id)
        self._known.pop(monitor_id, None)
        self._monitors.delete(id=monitor_id)


def _lost_lease(monitor_id: int) -> None:
    logger.warning("monitor %s: its run ended after its hold had passed to another runner", monitor_id)
