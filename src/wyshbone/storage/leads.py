"""Lead lists and their leads: one list per plan step that saves, each business in it once.

``LeadRepository`` is the contract; ``SqlLeadRepository`` keeps it in the database, ``MemoryLeadRepository`` in
memory, with the same behaviour. Two leads are the same business when they share their source record, or their
name at their postcode (``domain.dedupe.lead_keys``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Connection, func, select

from wyshbone.domain.dedupe import lead_keys
from wyshbone.domain.models import Lead
from wyshbone.storage import tables as t
from wyshbone.storage._memory import Table
from wyshbone.storage._sql import stamp
from wyshbone.storage.db import Database
from wyshbone.storage.plans import PlanRepository


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
class LeadListRow:
    """A list with its plan's session and user, and how many leads it holds."""

    list_id: int
    plan_id: str
    step_id: str
    name: str
    session_id: str | None
    user_id: str
    leads: int


class LeadRepository(Protocol):
    """Where lead lists are kept."""

    async def save(self, *, plan_id: str, step_id: str, list_name: str, leads: list[Lead]) -> SavedList:
        """Append ``leads`` to the plan step's list (made by the first save), skipping the businesses it has;
        saving the same leads again adds nothing."""
        ...

    async def for_plan(self, *, plan_id: str) -> list[Lead]:
        """Every lead the plan saved, list by list, in the order they were saved."""
        ...

    async def of_list(self, list_id: int) -> list[Lead]: ...
    async def list_info(self, list_id: int) -> LeadListRow | None:
        """The list with its plan's session and user and its leads' count; None when there is no such list."""
        ...


class SqlLeadRepository(LeadRepository):
    """``LeadRepository`` in the database; the uniqueness of a business in a list is the table's."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, *, plan_id: str, step_id: str, list_name: str, leads: list[Lead]) -> SavedList:
        def work(conn: Connection) -> SavedList:
            stmt = self._db.insert(t.lead_lists).values(
                plan_id=plan_id, step_id=step_id, name=list_name, created_at=stamp()
            )
            conn.execute(stmt.on_conflict_do_nothing())
            found = select(t.lead_lists.c.id, t.lead_lists.c.name).where(
                t.lead_lists.c.plan_id == plan_id, t.lead_lists.c.step_id == step_id
            )
            list_id, name = conn.execute(found).one()
            added, total = self.add_in(conn, list_id, leads)
            return SavedList(list_id=list_id, name=name, added=added, total=total)

        return await self._db.write(work)

    def add_in(self, conn: Connection, list_id: int, leads: Sequence[Lead]) -> tuple[int, int]:
        """Append ``leads`` to the list inside the caller's transaction, skipping any it has; (added, total)."""
        count = select(func.count()).select_from(t.leads).where(t.leads.c.list_id == list_id)
        before = int(conn.execute(count).scalar_one())
        rows = []
        for position, lead in enumerate(leads, start=before):
            source_id, name_key = lead_keys(lead.source_id, lead.name, lead.postcode)
            rows.append(
                {"list_id": list_id, "position": position, "source_id": source_id, "name_key": name_key}
                | {
                    "name": lead.name,
                    "postcode": lead.postcode,
                    "score": lead.score,
                    "lead": lead.to_json_dict(),
                }
            )
        if rows:
            conn.execute(self._db.insert(t.leads).on_conflict_do_nothing(), rows)
        total = int(conn.execute(count).scalar_one())
        return total - before, total

    async def for_plan(self, *, plan_id: str) -> list[Lead]:
        stmt = (
            select(t.leads.c.lead)
            .join(t.lead_lists, t.lead_lists.c.id == t.leads.c.list_id)
            .where(t.lead_lists.c.plan_id == plan_id)
            .order_by(t.leads.c.list_id, t.leads.c.position)
        )
        rows = await self._db.read(lambda conn: conn.execute(stmt).all())
        return [Lead.model_validate(row.lead) for row in rows]

    async def of_list(self, list_id: int) -> list[Lead]:
        stmt = select(t.leads.c.lead).where(t.leads.c.list_id == list_id).order_by(t.leads.c.position)
        rows = await self._db.read(lambda conn: conn.execute(stmt).all())
        return [Lead.model_validate(row.lead) for row in rows]

    async def list_info(self, list_id: int) -> LeadListRow | None:
        lists = t.lead_lists.c
        count = select(func.count()).select_from(t.leads).where(t.leads.c.list_id == lists.id)
        stmt = (
            select(
                lists.id, lists.plan_id, lists.step_id, lists.name, t.plans.c.session_id, t.plans.c.user_id
            )
            .add_columns(count.scalar_subquery().label("leads"))
            .join(t.plans, t.plans.c.id == lists.plan_id)
            .where(lists.id == list_id)
        )
        row = await self._db.read(lambda conn: conn.execute(stmt).first())
        if row is None:
            return None
        return LeadListRow(row.id, row.plan_id, row.step_id, row.name, row.session_id, row.user_id, row.leads)


@dataclass
class _Kept:
    """A list's leads, with the keys that make each business unique in it (as the table's two constraints)."""

    leads: list[Lead] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)


@dataclass
class MemoryLeadRepository(LeadRepository):
    """``LeadRepository`` in memory; a list's plan (for ``list_info``) is read from ``plans``."""

    plans: PlanRepository
    _lists: Table = field(default_factory=Table)
    _kept: dict[int, _Kept] = field(default_factory=dict)

    async def save(self, *, plan_id: str, step_id: str, list_name: str, leads: list[Lead]) -> SavedList:
        values = {"name": list_name, "created_at": stamp()}
        list_id, _ = self._lists.insert_once(plan_id=plan_id, step_id=step_id, values=values)
        added, total = self.add(list_id, leads)
        return SavedList(list_id=list_id, name=self._lists.rows[list_id]["name"], added=added, total=total)

    def add(self, list_id: int, leads: Sequence[Lead]) -> tuple[int, int]:
        """Append ``leads`` to the list, skipping any it has; (added, total)."""
        kept = self._kept.setdefault(list_id, _Kept())
        before = len(kept.leads)
        for lead in leads:
            source_id, name_key = lead_keys(lead.source_id, lead.name, lead.postcode)
            if source_id not in kept.sources and name_key not in kept.names:
                kept.leads.append(lead)
                kept.sources.add(source_id)
                kept.names.add(name_key)
        return len(kept.leads) - before, len(kept.leads)

    async def for_plan(self, *, plan_id: str) -> list[Lead]:
        return [lead for row in self._lists.where(plan_id=plan_id) for lead in await self.of_list(row["id"])]

    async def of_list(self, list_id: int) -> list[Lead]:
        kept = self._kept.get(list_id)
        return [] if kept is None else list(kept.leads)

    async def list_info(self, list_id: int) -> LeadListRow | None:
        row = self._lists.get(list_id)
        plan = None if row is None else await self.plans.get(row["plan_id"])
        if row is None or plan is None:
            return None
        session_id = await self.plans.session_of(plan.id)
        count = len(await self.of_list(list_id))
        return LeadListRow(list_id, plan.id, row["step_id"], row["name"], session_id, plan.user_id, count)
