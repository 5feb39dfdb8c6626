"""The repositories of one database, bundled: what the application opens once and hands out one by one.

``open_repositories(url)``: a ``sqlite…`` or ``postgresql…`` URL gives the SQL repositories over one
``Database`` (migrated on first use); ``memory://`` gives the in-memory fakes, which behave the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from wyshbone.storage._outreach_memory import MemoryOutreachRepository
from wyshbone.storage.db import Database
from wyshbone.storage.leads import LeadRepository, MemoryLeadRepository, SqlLeadRepository
from wyshbone.storage.monitors import MemoryMonitorRepository, MonitorRepository, SqlMonitorRepository
from wyshbone.storage.outreach import OutreachRepository, SqlOutreachRepository
from wyshbone.storage.plans import MemoryPlanRepository, PlanRepository, SqlPlanRepository
from wyshbone.storage.sessions import MemorySessionRepository, SessionRepository, SqlSessionRepository

MEMORY_URL = "memory://"
"""The URL of the in-memory repositories: nothing survives the process."""


@dataclass(frozen=True, slots=True)
class Repositories:
    """One repository per aggregate, all over the same database."""

    plans: PlanRepository
    """Plans, their status moves and run leases, their event log, step results and run results."""
    leads: LeadRepository
    """Lead lists and their leads."""
    sessions: SessionRepository
    """Sessions and their messages."""
    outreach: OutreachRepository
    """Sequences with their leads and messages, and the accounts' suppression lists."""
    monitors: MonitorRepository
    """Monitors, the businesses they know, their runs and leases."""
    database: Database | None = None
    """The database they share; None for the in-memory fakes."""

    async def close(self) -> None:
        """Close the database, once the queries still running have finished."""
        if self.database is not None:
            await self.database.close()


def sql_repositories(database: Database) -> Repositories:
    """The SQL repositories over ``database``."""
    leads = SqlLeadRepository(database)
    return Repositories(
        plans=SqlPlanRepository(database),
        leads=leads,
        sessions=SqlSessionRepository(database),
        outreach=SqlOutreachRepository(database),
        monitors=SqlMonitorRepository(database, leads),
        database=database,
    )


def memory_repositories() -> Repositories:
    """Fresh, empty in-memory repositories."""
    plans = MemoryPlanRepository()
    leads = MemoryLeadRepository(plans)
    return Repositories(
        plans=plans,
        leads=leads,
        sessions=MemorySessionRepository(),
        outreach=MemoryOutreachRepository(),
        monitors=MemoryMonitorRepository(leads),
    )


def open_repositories(url: str | None) -> Repositories:
    """``memory://`` (or None) → the in-memory fakes; a ``sqlite``/``postgresql`` URL → the SQL repositories,
    the database touched only on first use (``InputError`` for any other URL)."""
    if url in (None, MEMORY_URL):
        return memory_repositories()
    return sql_repositories(Database.lazy(url))
