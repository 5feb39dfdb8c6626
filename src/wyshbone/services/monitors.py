"""The monitor use cases: list, pause, resume, delete, run one now, and run every due one (the scheduler).

A run holds the monitor by a lease it renews, and runs the monitor's check as a plan (``domain.monitor_checks``)
through the same path as any approved plan: its own id, events, progress and result. It comes in three parts,
so that the middle one can run elsewhere: ``start_check`` (plan it, store it held here), ``run_check``, and
``record_check`` (the monitor's run, read from the check's result).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from wyshbone.domain.models import LeadGenExecutionResult, LeadGenPlan, OverallStatus, SupervisorUserContext
from wyshbone.domain.monitor_checks import check_run, plan_check
from wyshbone.domain.monitors import Monitor, MonitorRun
from wyshbone.errors import ConflictError, NotFoundError
from wyshbone.executor import EventCallback
from wyshbone.services.plans import Clock, Plans
from wyshbone.storage.monitors import ACTIVE, PAUSED, MonitorRepository
from wyshbone.storage.sessions import SessionRepository

__all__ = ["MONITOR_HEARTBEAT", "MONITOR_LEASE", "CheckRunner", "Monitors"]

logger = logging.getLogger("wyshbone.services")


MONITOR_LEASE = timedelta(seconds=60)
"""How long a monitor run's hold lasts unless renewed: a crashed runner's monitor is free again within it."""
MONITOR_HEARTBEAT = timedelta(seconds=20)
"""How often a running monitor run renews its hold (and its check plan's, more often when plan leases are
shorter)."""


class CheckRunner(Protocol):
    """Where "check this monitor now" runs: this process (``Monitors``), or a worker (``services.queue``)."""

    async def run_now(self, monitor_id: int, *, session_id: str | None) -> MonitorRun:
        """Check the monitor now and return its run; ``ConflictError`` while another runner checks it."""
        ...


@dataclass
class Monitors:
    """Monitor use cases: list, pause, resume, delete, run one now, and run every due one (the scheduler)."""

    store: MonitorRepository
    session_store: SessionRepository
    plans: Plans
    """Stores and runs the checks, as it does every approved plan."""
    owner: str
    """Who this process is when it holds a monitor's run."""
    clock: Clock

    async def all(self, *, session_id: str | None = None) -> list[Monitor]:
        return await self.store.find(session_id=session_id)

    async def get(self, monitor_id: int, *, session_id: str | None = None) -> Monitor:
        found = await self.store.find(monitor_id=monitor_id)
        if not found or (session_id is not None and found[0].session_id != session_id):
            raise NotFoundError(f"no monitor {monitor_id}")
        return found[0]

    async def runs(self, monitor_id: int, *, session_id: str | None = None) -> list[MonitorRun]:
        await self.get(monitor_id, session_id=session_id)
        return await self.store.runs(monitor_id)

    async def pause(self, monitor_id: int, *, session_id: str | None = None) -> Monitor:
        await self.get(monitor_id, session_id=session_id)
        await self.store.transition(monitor_id, from_=ACTIVE, to=PAUSED)  # already paused: nothing to do
        return await self.get(monitor_id)

    async def resume(self, monitor_id: int, *, session_id: str | None = None) -> Monitor:
        """Active again; a run missed while paused is due at once."""
        await self.get(monitor_id, session_id=session_id)
        await self.store.transition(monitor_id, from_=PAUSED, to=ACTIVE)
        return await self.get(monitor_id)

    async def delete(self, monitor_id: int, *, session_id: str | None = None) -> None:
        await self.get(monitor_id, session_id=session_id)
        await self.store.delete(monitor_id)

    async def run(
        self,
        monitor_id: int,
        *,
        session_id: str | None = None,
        kind: str = "manual",
        on_event: EventCallback | None = None,
    ) -> MonitorRun:
        """Check the monitor now: save and report only businesses it has not seen before. The check is a plan
        of its own (``MonitorRun.plan_id``) whose events go to ``on_event`` and the live readers as it runs.

        ``ConflictError`` when another runner holds it. A failed search is recorded and leaves the schedule
        as it was, so the next tick tries again; known leads are never added twice.
        """
        await self.get(monitor_id, session_id=session_id)  # NotFoundError before anything is held
        started = self.clock()
        await self._lease(monitor_id, now=started, scheduled=kind == "scheduled")
        # Read again, held: a check that finished just before the lease was won (its baseline taken, its
        # schedule moved) is what this one starts from.
        monitor = await self.get(monitor_id)
        check = await self.start_check(monitor, started=started)
        heartbeat = asyncio.create_task(self._hold(monitor_id, check.id), name=f"monitor-{monitor_id}-lease")
        try:
            try:
                result = await self.run_check(check, on_event=on_event)
            except Exception as exc:  # a bug must not stop the scheduler: record it, try again next tick
                logger.exception("monitor %s check %s crashed", monitor_id, check.id)
                await self.plans.record_crash(check, exc)
                return await self.record_check(
                    monitor, check, _nothing(check, started), kind=kind, crash=type(exc).__name__
                )
            return await self.record_check(monitor, check, result, kind=kind)
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)

    async def run_now(self, monitor_id: int, *, session_id: str | None) -> MonitorRun:
        """``run`` by hand, here (the embedded mode's ``CheckRunner``)."""
        return await self.run(monitor_id, session_id=session_id)

    async def _lease(self, monitor_id: int, *, now: datetime, scheduled: bool) -> None:
        """Hold the monitor for this run (only while still due, for a scheduled one); else ``ConflictError``."""
        if await self.store.lease(
            monitor_id, owner=self.owner, now=now, until=now + MONITOR_LEASE, due=scheduled
        ):
            return
        if scheduled:
            raise ConflictError(f"monitor {monitor_id} was just run, or is being run, by another process")
        raise ConflictError(f"monitor {monitor_id} is being run by another process right now")

    async def _hold(self, monitor_id: int, check_id: str) -> None:
        """Renew the monitor's lease, and its check plan's, while the check goes on (a crashed run's monitor
        lease lapses within a minute; its check plan is then resumed like any orphaned plan)."""
        every = min(MONITOR_HEARTBEAT.total_seconds(), self.plans.settings.run_lease_seconds / 3)
        held = True
        while True:
            await asyncio.sleep(every)
            try:
                if held and not await self.store.renew_lease(
                    monitor_id, owner=self.owner, until=self.clock() + MONITOR_LEASE
                ):
                    held = False  # it lapsed and another runner took the monitor: its schedule is theirs now
                    logger.warning(
                        "monitor %s: its hold passed to another runner during check %s", monitor_id, check_id
                    )
                await self.plans.renew_leases({check_id})
            except Exception:  # the store is down: the lease lapses, and the run's own writes will fail too
                logger.exception("renewing monitor %s's lease failed", monitor_id)

    async def start_check(self, monitor: Monitor, *, started: datetime) -> LeadGenPlan:
        """Plan the monitor's check and store it in the monitor's session, executing, held by this process."""
        origin = await self.plans.get_plan(monitor.plan_id)
        baseline = monitor.last_success_at is None  # no check has succeeded yet: this one takes the baseline
        check = plan_check(monitor, origin, plan_id=uuid.uuid4().hex, created_at=started, baseline=baseline)
        return await self.plans.store_held(check, session_id=monitor.session_id)

    async def run_check(
        self, check: LeadGenPlan, *, on_event: EventCallback | None = None
    ) -> LeadGenExecutionResult:
        """Run a stored check this process holds to the end, as any approved plan runs (retries, fallbacks,
        events, progress, result)."""
        user = SupervisorUserContext(user_id=check.user_id)
        return await self.plans.run_plan(check, user, on_event=on_event)

    async def record_check(
        self,
        monitor: Monitor,
        check: LeadGenPlan,
        result: LeadGenExecutionResult,
        *,
        kind: str,
        crash: str | None = None,
    ) -> MonitorRun:
        """Record the monitor's run from its check's result (ending its lease), and tell the session what a
        successful check found, "no new ..." included. ``crash``: the check stopped short (that exception)."""
        run = check_run(
            monitor,
            check,
            result,
            kind=kind,
            started=check.created_at or result.started_at,
            finished=self.clock(),
            crash=crash,
        )
        recorded = await self.store.record_run(run, list_id=monitor.list_id, owner=self.owner)
        if run.status == "succeeded" and monitor.session_id is not None:
            await self.session_store.add_message(
                session_id=monitor.session_id, plan_id=check.id, role="assistant", text=run.message or ""
            )
        return recorded

    async def due(self) -> list[int]:
        """The active monitors whose time has come and that nobody is checking, the longest waiting first."""
        return await self.store.due(self.clock())

    async def run_due(self) -> list[MonitorRun]:
        """Run every active monitor whose time has come (one after another); skip any another runner holds."""
        runs = []
        for monitor_id in await self.due():
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


def _nothing(check: LeadGenPlan, started: datetime) -> LeadGenExecutionResult:
    """The result of a check that crashed before it had one."""
    return LeadGenExecutionResult(
        plan_id=check.id,
        overall_status=OverallStatus.FAILED,
        started_at=started,
        finished_at=started,
        step_results=[],
    )
