"""The monitor use cases: list, pause, resume, delete, run one now, and run every due one (the scheduler).

A run holds the monitor by a lease it renews, searches as the monitor's plan did, and saves and reports only
the businesses it has not seen before.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from wyshbone.domain.models import Lead, LeadGenPlan, SupervisorUserContext
from wyshbone.domain.monitors import Monitor, MonitorRun, new_leads, next_run_after, report
from wyshbone.errors import ConflictError, NotFoundError
from wyshbone.services.plans import Clock
from wyshbone.storage.monitors import ACTIVE, PAUSED, MonitorRepository
from wyshbone.storage.plans import PlanRepository
from wyshbone.storage.sessions import SessionRepository
from wyshbone.tools.monitor import SearchOutcome, draft_new, enrich_new, run_search
from wyshbone.tools.registry import ToolRegistry

__all__ = ["MONITOR_HEARTBEAT", "MONITOR_LEASE", "Monitors"]

logger = logging.getLogger("wyshbone.services")


MONITOR_LEASE = timedelta(seconds=60)
"""How long a monitor run's hold lasts unless renewed: a crashed runner's monitor is free again within it."""
MONITOR_HEARTBEAT = timedelta(seconds=20)
"""How often a running monitor run renews its hold."""


@dataclass
class Monitors:
    """Monitor use cases: list, pause, resume, delete, run one now, and run every due one (the scheduler)."""

    store: MonitorRepository
    plan_store: PlanRepository
    session_store: SessionRepository
    registry: ToolRegistry
    owner: str
    """Who this process is when it holds a monitor's run."""
    clock: Clock

    @property
    def _repo(self) -> MonitorRepository:
        return self.store

    async def all(self, *, session_id: str | None = None) -> list[Monitor]:
        return await self._repo.find(session_id=session_id)

    async def get(self, monitor_id: int, *, session_id: str | None = None) -> Monitor:
        found = await self._repo.find(monitor_id=monitor_id)
        if not found or (session_id is not None and found[0].session_id != session_id):
            raise NotFoundError(f"no monitor {monitor_id}")
        return found[0]

    async def runs(self, monitor_id: int, *, session_id: str | None = None) -> list[MonitorRun]:
        await self.get(monitor_id, session_id=session_id)
        return await self._repo.runs(monitor_id)

    async def pause(self, monitor_id: int, *, session_id: str | None = None) -> Monitor:
        await self.get(monitor_id, session_id=session_id)
        await self._repo.transition(monitor_id, from_=ACTIVE, to=PAUSED)  # already paused: nothing to do
        return await self.get(monitor_id)

    async def resume(self, monitor_id: int, *, session_id: str | None = None) -> Monitor:
        """Active again; a run missed while paused is due at once."""
        await self.get(monitor_id, session_id=session_id)
        await self._repo.transition(monitor_id, from_=PAUSED, to=ACTIVE)
        return await self.get(monitor_id)

    async def delete(self, monitor_id: int, *, session_id: str | None = None) -> None:
        await self.get(monitor_id, session_id=session_id)
        await self._repo.delete(monitor_id)

    async def run(
        self, monitor_id: int, *, session_id: str | None = None, kind: str = "manual"
    ) -> MonitorRun:
        """Run the monitor's search now: save and report only businesses it has not seen before.

        ``ConflictError`` when another runner holds it. A failed search is recorded and leaves the schedule
        as it was, so the next tick tries again; known leads are never added twice.
        """
        monitor = await self.get(monitor_id, session_id=session_id)
        repo = self._repo
        started = self.clock()
        owner = self.owner
        scheduled = kind == "scheduled"
        if not await repo.lease(
            monitor_id, owner=owner, now=started, until=started + MONITOR_LEASE, due=scheduled
        ):
            if scheduled:
                raise ConflictError(f"monitor {monitor_id} was just run, or is being run, by another process")
            raise ConflictError(f"monitor {monitor_id} is being run by another process right now")
        heartbeat = asyncio.create_task(self._hold(monitor_id, owner), name=f"monitor-{monitor_id}-lease")
        try:
            return await self._run_held(monitor, session_id=session_id, kind=kind, started=started)
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)

    async def _hold(self, monitor_id: int, owner: str) -> None:
        """Renew the monitor's lease while its run goes on (a crashed run's lease lapses within a minute)."""
        while True:
            await asyncio.sleep(MONITOR_HEARTBEAT.total_seconds())
            try:
                await self._repo.renew_lease(monitor_id, owner=owner, until=self.clock() + MONITOR_LEASE)
            except Exception:  # the store is down: the lease lapses, and the run's own writes will fail too
                logger.exception("renewing monitor %s's lease failed", monitor_id)

    async def _run_held(
        self, monitor: Monitor, *, session_id: str | None, kind: str, started: datetime
    ) -> MonitorRun:
        plan = await self.plan_store.get(monitor.plan_id)
        if plan is None:  # cannot happen while plans are never deleted; say so rather than crash
            raise NotFoundError(f"monitor {monitor.id}'s plan {monitor.plan_id} is gone")
        user = SupervisorUserContext(user_id=monitor.user_id)
        try:
            outcome = await run_search(monitor.search, plan=plan, user=user, registry=self.registry)
        except (
            Exception
        ) as exc:  # a bug in a provider must not stop the scheduler: record it, retry next tick
            logger.exception("monitor %s search crashed", monitor.id)
            outcome = SearchOutcome(False, [], f"internal error ({type(exc).__name__})")
        finished = self.clock()
        if not outcome.ok:
            failed = MonitorRun(
                monitor_id=monitor.id,
                kind=kind,
                status="failed",
                started_at=started,
                finished_at=finished,
                error=outcome.error,
                message=f"The search failed ({outcome.error}); it will be tried again at the next check.",
            )
            return await self._repo.record_run(failed, list_id=monitor.list_id)
        baseline = monitor.last_success_at is None  # the set-up search failed: this run takes the baseline
        done = MonitorRun(
            monitor_id=monitor.id,
            kind="baseline" if baseline else kind,
            status="succeeded",
            started_at=started,
            finished_at=finished,
            found=len(outcome.leads),
        )
        return await self._record_found(monitor, plan, user, done, outcome.leads)

    async def _record_found(
        self,
        monitor: Monitor,
        plan: LeadGenPlan,
        user: SupervisorUserContext,
        run: MonitorRun,
        found: list[Lead],
    ) -> MonitorRun:
        """Record a successful run: the businesses it found that are new (none for a baseline), enriched and
        saved, then drafted for outreach when the plan emails its leads; the session is told what it found."""
        repo, registry = self._repo, self.registry
        fresh = [] if run.kind == "baseline" else new_leads(found, await repo.known(monitor.id))
        # New businesses get what the plan gave its leads: domains and emails, then outreach drafts.
        fresh = await enrich_new(monitor.search, fresh, plan=plan, user=user, registry=registry)
        goal = plan.goal
        text = report(
            len(fresh),
            persona=goal.target_persona,
            region=goal.target_region or goal.country,
            since=monitor.last_success_at or monitor.created_at,
            now=run.finished_at,
        )
        run = run.model_copy(
            update={"new": len(fresh), "new_leads": [lead.name for lead in fresh], "message": text}
        )
        next_run_at = next_run_after(monitor.cadence, run.finished_at)
        recorded = await repo.record_run(
            run, list_id=monitor.list_id, fresh=fresh, seen=found, next_run_at=next_run_at
        )
        if fresh and (
            drafted := await draft_new(
                monitor.search, list_id=monitor.list_id, plan=plan, user=user, registry=registry
            )
        ):
            text = f"{text} {drafted} of them drafted for outreach."
            recorded = recorded.model_copy(update={"drafted": drafted, "message": text})
            await repo.update_run(recorded)
        if monitor.session_id is not None:  # every successful check says what it found, "no new ..." included
            await self.session_store.add_message(
                session_id=monitor.session_id, plan_id=plan.id, role="assistant", text=text
            )
        return recorded

    async def run_due(self) -> list[MonitorRun]:
        """Run every active monitor whose time has come (one after another); skip any another runner holds."""
        runs = []
        for monitor_id in await self._repo.due(self.clock()):
            try:
                runs.append(await self.run(monitor_id, kind="scheduled"))
            except (ConflictError, NotFoundError) as exc:
                logger.info("monitor %s not run: %s", monitor_id, exc)
        return runs

    async def run_forever(self, every_seconds: float) -> None:
        """The embedded scheduler: check for due monitors every ``every_seconds`` until cancelled."""
        while True:
            try:
                await self.run_due()
            except Exception:  # the store is down, say: log, and try again at the next tick
                logger.exception("monitor scheduler tick failed")
            await asyncio.sleep(every_seconds)
