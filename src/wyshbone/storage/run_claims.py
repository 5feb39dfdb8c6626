"""Queue mode's hold on one plan's run: a worker takes a plan over from whoever approved it (or from a worker
whose lease ran out) with one conditional update, and finds the executing plans nobody holds any more.

SQL only: queue mode runs on Postgres (the in-memory fakes have no second process to hand a plan to).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from wyshbone.domain.models import PlanStatus
from wyshbone.storage import tables as t
from wyshbone.storage._sql import iso, lapsed
from wyshbone.storage.db import Database
from wyshbone.storage.plans import RunLease

__all__ = ["OrphanPlan", "SqlRunClaims"]

EXECUTING = PlanStatus.EXECUTING.value


@dataclass(frozen=True, slots=True)
class OrphanPlan:
    """An executing plan whose holder's lease ran out: nobody runs it now."""

    plan_id: str
    session_id: str | None
    holder: str | None
    """Who held it last (a claim from that holder needs no wait)."""


class SqlRunClaims:
    """Take one plan's run over, conditionally, in the database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def take(self, plan_id: str, *, lease: RunLease, holder: str | None, now: datetime) -> bool:
        """Hold ``plan_id`` under ``lease`` if it is executing and held by ``holder`` (who approved it and
        handed it on), by ``lease.owner`` already, or by nobody live (its lease ran out by ``now``). Of any
        number of takers at once, at most one wins; False for the others, and for a plan no longer executing."""
        p = t.plans.c
        free = p.owner.is_(None) | lapsed(p.lease_until, now)
        ours = p.owner == lease.owner if holder is None else p.owner.in_([holder, lease.owner])
        stmt = (
            update(t.plans)
            .where(p.id == plan_id, p.status == EXECUTING, ours | free)
            .values(owner=lease.owner, lease_until=iso(lease.until))
        )
        return await self._db.write(lambda conn: conn.execute(stmt).rowcount == 1)

    async def orphans(self, *, now: datetime, limit: int = 100) -> list[OrphanPlan]:
        """Executing plans whose lease ran out by ``now``, oldest first (read only: nothing is taken)."""
        p = t.plans.c
        stmt = (
            select(p.id, p.session_id, p.owner)
            .where(p.status == EXECUTING, lapsed(p.lease_until, now))
            .order_by(p.created_at)
            .limit(limit)
        )

        def work(conn: Connection) -> list[OrphanPlan]:
            return [OrphanPlan(row.id, row.session_id, row.owner) for row in conn.execute(stmt)]

        return await self._db.read(work)
