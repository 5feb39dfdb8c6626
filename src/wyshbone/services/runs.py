"""Running approved plans: the ``RunQueue`` protocol the web and the CLI hand plans to, and
``InProcessRunQueue``, which runs them on this process's event loop under leases it renews."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from asyncio import FIRST_COMPLETED
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from wyshbone.domain.models import (
    LeadGenExecutionResult,
    LeadGenPlan,
    PlanStatus,
    SupervisorUserContext,
)
from wyshbone.errors import PlanStateError
from wyshbone.executor import EventCallback
from wyshbone.services.plans import Plans, summarize
from wyshbone.storage.plans import PlanRepository
from wyshbone.storage.sessions import SessionRepository

__all__ = ["InProcessRunQueue", "RunQueue"]

logger = logging.getLogger("wyshbone.services")


class RunQueue(Protocol):
    """Where approved plans go to be run; what runs them (this loop, or worker processes) is its business."""

    def submit(
        self, plan: LeadGenPlan, *, session_id: str | None, on_event: EventCallback | None = None
    ) -> None:
        """Schedule the run of an approved plan this process holds; return at once."""

    async def cancel(self, plan_id: str, *, session_id: str | None) -> PlanStatus:
        """Stop a running or pending plan; ``PlanStateError`` if it has already finished."""

    async def resume_interrupted(self) -> list[str]:
        """Take over the plans whose holder stopped; return their ids."""

    async def wait_idle(self) -> None:
        """Wait until every run submitted here has finished."""

    async def shutdown(self) -> None:
        """Interrupt the runs going on here so that they resume elsewhere (or at the next start)."""


@dataclass
class InProcessRunQueue:
    """Runs approved plans on this process's event loop, holding each by a lease it renews while it runs;
    resumes plans whose holder stopped (on start-up, and every lease period when ``adopt`` is on).

    A plan runs in one process at a time: approval and take-over are conditional updates in the store, and a
    run whose lease another process took over (this one stalled past its lease) is stopped here.
    """

    plans: Plans
    plan_store: PlanRepository
    session_store: SessionRepository
    max_concurrent_plans: int
    lease_seconds: float
    adopt: bool = False
    """Also take over, every lease period, plans whose holder's lease ran out (the web server does)."""
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _cancels: dict[str, asyncio.Event] = field(default_factory=dict)
    _held: set[str] = field(default_factory=set)
    _lost: set[str] = field(default_factory=set)
    _heartbeat: asyncio.Task[None] | None = None
    _slots: asyncio.Semaphore | None = None
    _queued: int = 0

    def submit(
        self, plan: LeadGenPlan, *, session_id: str | None, on_event: EventCallback | None = None
    ) -> None:
        """Schedule the run of a plan this process holds and return at once; it never blocks the caller."""
        if plan.id in self._tasks:
            return
        cancel = asyncio.Event()
        self._cancels[plan.id] = cancel
        self._held.add(plan.id)
        task = asyncio.create_task(self._run(plan, session_id, cancel, on_event), name=f"plan-{plan.id}")
        self._tasks[plan.id] = task
        task.add_done_callback(lambda _: self._forget(plan.id))
        self._beat()

    def _forget(self, plan_id: str) -> None:
        self._tasks.pop(plan_id, None)
        self._cancels.pop(plan_id, None)

    def stop(self, plan_id: str) -> bool:
        """Ask a run going on here to stop (Ctrl-C on the command line): its steps stop and it ends cancelled.
        False when the plan does not run here."""
        cancel = self._cancels.get(plan_id)
        if cancel is None:
            return False
        cancel.set()
        return True

    async def _run(
        self,
        plan: LeadGenPlan,
        session_id: str | None,
        cancel: asyncio.Event,
        on_event: EventCallback | None,
    ) -> None:
        with contextlib.suppress(Exception):  # run() has logged and recorded it
            await self.run(plan, session_id=session_id, cancel=cancel, on_event=on_event)

    async def run(
        self,
        plan: LeadGenPlan,
        *,
        session_id: str | None,
        cancel: asyncio.Event | None = None,
        on_event: EventCallback | None = None,
    ) -> LeadGenExecutionResult:
        """Run a plan this process holds (approved here, or taken over) to the end, renewing its lease.

        A crash is logged, recorded as the plan failing, and raised; cancelling the task is an interruption
        (the plan stays executing, and resumes here or elsewhere).
        """
        user = SupervisorUserContext(user_id=plan.user_id)
        self._held.add(plan.id)
        self._beat()
        try:
            async with self._slot(plan, user, cancel, on_event):
                result = await self.plans.run_plan(plan, user, cancel=cancel, on_event=on_event)
            self._held.discard(plan.id)
            if session_id is not None:
                await self.session_store.add_message(
                    session_id=session_id, plan_id=plan.id, role="assistant", text=summarize(plan, result)
                )
            return result
        except asyncio.CancelledError:
            if plan.id in self._lost:
                logger.warning("plan %s stopped here: another process took it over or cancelled it", plan.id)
            else:
                logger.info("plan run interrupted", extra={"planId": plan.id, "sessionId": session_id})
            raise
        except Exception as exc:
            # A bug in the executor or the store: log it with its context, and end the plan visibly as failed.
            logger.exception("plan run crashed", extra={"planId": plan.id, "sessionId": session_id})
            await self.plans.record_crash(plan, exc)
            raise
        finally:
            self._held.discard(plan.id)
            self._lost.discard(plan.id)

    @contextlib.asynccontextmanager
    async def _slot(
        self,
        plan: LeadGenPlan,
        user: SupervisorUserContext,
        cancel: asyncio.Event | None,
        on_event: EventCallback | None,
    ) -> AsyncIterator[None]:
        """One of ``max_concurrent_plans`` run slots, for as long as the run goes on. With none free, the plan
        waits, and its event log says so (PLAN_QUEUED); cancelled while it waits, it goes on without a slot, to
        be recorded as cancelled at once."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_concurrent_plans)
        slots = self._slots
        if not slots.locked():
            async with slots:
                yield
            return
        held = await self._wait_for_slot(slots, plan, user, cancel, on_event)
        try:
            yield
        finally:
            if held:
                slots.release()

    async def _wait_for_slot(
        self,
        slots: asyncio.Semaphore,
        plan: LeadGenPlan,
        user: SupervisorUserContext,
        cancel: asyncio.Event | None,
        on_event: EventCallback | None,
    ) -> bool:
        """Wait, visibly queued, for a slot or for the plan's cancellation; True when a slot is held."""
        self._queued += 1
        acquire = asyncio.ensure_future(slots.acquire())
        stop = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
        try:
            await self.plans.announce_queued(plan, user, ahead=self._queued - 1, on_event=on_event)
            await asyncio.wait([f for f in (acquire, stop) if f is not None], return_when=FIRST_COMPLETED)
        except BaseException:  # interrupted while waiting: give the slot back, or stop waiting for it
            if acquire.done() and not acquire.cancelled():
                slots.release()
            acquire.cancel()
            raise
        finally:
            self._queued -= 1
            if stop is not None:
                stop.cancel()
        # Cancelled while waiting: a pending acquire, cancelled, gives back a slot it was just handed.
        held = acquire.done()
        if not held:
            acquire.cancel()
        return held

    def _beat(self) -> None:
        """Make sure the heartbeat runs while this process holds plans (or adopts others')."""
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._heartbeat_loop(), name="plan-leases")

    async def _heartbeat_loop(self) -> None:
        every = self.lease_seconds / 3
        while self._held or self.adopt:
            await asyncio.sleep(every)
            try:
                await self.renew()
                if self.adopt:
                    await self.resume_interrupted()
            except (
                Exception
            ):  # the store is down, say: the leases run out, and whoever is up resumes the plans
                logger.exception("renewing plan leases failed")

    async def renew(self) -> None:
        """Renew the leases of the plans this process holds; stop any that another process took over or ended
        cancelled (unless this process is cancelling it itself, and then records it so)."""
        lost = await self.plans.renew_leases(set(self._held))
        for plan_id in lost & self._held:
            if (cancel := self._cancels.get(plan_id)) is not None and cancel.is_set():
                continue
            self._lost.add(plan_id)
            if (task := self._tasks.get(plan_id)) is not None:
                task.cancel()

    async def cancel(self, plan_id: str, *, session_id: str | None) -> PlanStatus:
        """Stop a running or pending plan; ``PlanStateError`` if it has already finished."""
        plan = await self.plans.running_or_cancel_pending(plan_id, session_id=session_id)
        if plan is None:
            return PlanStatus.CANCELLED
        task, cancel = self._tasks.get(plan_id), self._cancels.get(plan_id)
        if task is None or cancel is None:
            raise PlanStateError("this plan is running in another process of the service; cancel it there")
        cancel.set()
        await asyncio.shield(task)
        return PlanStatus.CANCELLED

    async def resume_interrupted(self) -> list[str]:
        """Take over and start every plan left executing by a process that stopped (its lease ran out, or
        it shut down cleanly); return their ids. Plans another live process holds are left alone."""
        resumed = []
        for row in await self.plan_store.claim_orphans(self.plans.lease(), now=self.plans.clock()):
            plan = await self.plan_store.get(row.plan_id)
            if plan is not None and row.plan_id not in self._tasks:
                self.submit(plan, session_id=row.session_id)
                resumed.append(row.plan_id)
        if self.adopt:
            self._beat()
        return resumed

    async def shutdown(self) -> None:
        """Interrupt running plans and end their leases, so the next process to start resumes them at once."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        held, tasks = set(self._held), list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            if held:
                await self.plan_store.release(held, owner=self.plans.owner)
        except Exception:  # the leases then simply run out
            logger.exception("could not release plan leases on shutdown")
        if self._heartbeat is not None:
            await asyncio.gather(self._heartbeat, return_exceptions=True)

    async def wait_idle(self) -> None:
        """Wait until every run this queue started has finished (tests, the CLI, graceful shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
