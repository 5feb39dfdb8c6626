"""The plan use cases: read a goal, plan it, store it, approve it, run it here, cancel it before approval, and
report on it (progress, events, result, leads, the session's plans and messages)."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from wyshbone.clock import Clock
from wyshbone.config import Settings
from wyshbone.domain.delivery import delivery_line, outcome_headline, plan_delivery, saved_nearby, step_note
from wyshbone.domain.gazetteer import Gazetteer
from wyshbone.domain.goals import apply_overrides, check_goal_text
from wyshbone.domain.models import (
    GoalOverrides,
    Lead,
    LeadGenContext,
    LeadGenExecutionResult,
    LeadGenPlan,
    ParsedGoal,
    PlanEvent,
    PlanEventType,
    PlanProgress,
    PlanStatus,
    SupervisorUserContext,
)
from wyshbone.domain.planner import plan_lead_generation, with_coverage
from wyshbone.domain.progress import project
from wyshbone.errors import NotFoundError, PlanStateError, UnplannableGoalError
from wyshbone.executor import (
    EventCallback,
    Runtime,
    announce_queued,
    emit_plan_event,
    execute_lead_generation_plan,
    plan_event,
)
from wyshbone.services.bus import EventBus
from wyshbone.storage.leads import LeadRepository
from wyshbone.storage.plans import PlanHead, PlanRepository, PlanRow, RunLease
from wyshbone.storage.sessions import Message, SessionRepository
from wyshbone.tools.registry import ToolRegistry, count_providers

__all__ = ["PROGRESS_MEMO_SIZE", "Clock", "Plans", "state_error", "summarize"]

logger = logging.getLogger("wyshbone.services")

PROGRESS_MEMO_SIZE = 1000
"""Projections kept for the most recently read plans."""

_STATE_WORDS = {
    PlanStatus.PENDING_APPROVAL: "is still waiting for approval",
    PlanStatus.EXECUTING: "has already been approved and is running",
    PlanStatus.SUCCEEDED: "has already finished",
    PlanStatus.PARTIAL: "has already finished",
    PlanStatus.FAILED: "has already finished (it failed)",
    PlanStatus.CANCELLED: "was cancelled",
}


def state_error(plan: LeadGenPlan) -> PlanStateError:
    """Why the plan cannot do what was asked, in its current status."""
    return PlanStateError(f"this plan {_STATE_WORDS[plan.status]}")


def summarize(plan: LeadGenPlan, result: LeadGenExecutionResult) -> str:
    """A plain summary of a finished run, one line each: how it ended; what it delivered against what was asked
    (and why fewer); each step that did not succeed, and why."""
    lines = [outcome_headline(result.overall_status.value) + "."]
    delivery = result.delivery or plan_delivery(plan, result.step_results)
    if delivery is not None:
        lines.append(delivery_line(delivery, plan.goal, nearby=saved_nearby(plan, result.step_results)))
    by_id = {r.step_id: r for r in result.step_results}
    for step in plan.steps:
        res = by_id.get(step.id)
        note = step_note(res) if res is not None else None
        if note:
            lines.append(f"{step.title} — {note[:1].lower() + note[1:]}.")
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class _Memo:
    head: PlanHead
    plan: LeadGenPlan
    """The plan's body (its steps never change), with the status it had then."""
    events: list[PlanEvent]
    progress: PlanProgress


@dataclass
class Plans:
    """One plan at a time, scoped to a session where the caller has one: read, plan, store, approve, run here,
    report. Running is the run queue's to schedule (``services.runs``); ``run_plan`` is what it calls."""

    settings: Settings
    plan_store: PlanRepository
    session_store: SessionRepository
    lead_store: LeadRepository
    registry: ToolRegistry
    gazetteer: Gazetteer
    bus: EventBus
    owner: str
    """Who this process is when it holds a plan's run (``RunLease.owner``)."""
    clock: Clock
    _memo: OrderedDict[str, _Memo] = field(default_factory=OrderedDict)

    def context(self, user: SupervisorUserContext) -> LeadGenContext:
        return LeadGenContext(user_id=user.user_id, default_country=self.settings.default_country)

    # --- reading and planning ------------------------------------------------------------------------

    def parse(
        self, text: str, user: SupervisorUserContext, overrides: GoalOverrides | None = None
    ) -> ParsedGoal:
        """What the parser read from ``text``, problems included (``InputError`` only for a goal too long)."""
        text = check_goal_text(text or "", allow_empty=True)
        return apply_overrides(
            text,
            overrides or GoalOverrides(),
            self.gazetteer,
            self.context(user),
            max_volume=self.settings.max_volume,
        )

    def read_goal(
        self, text: str, user: SupervisorUserContext, overrides: GoalOverrides | None = None
    ) -> ParsedGoal:
        """Parse ``text`` (and apply ``overrides``); raise ``InputError``/``UnplannableGoalError`` when unplannable."""
        parsed = self.parse(check_goal_text(text or ""), user, overrides)
        if not parsed.plannable:
            raise UnplannableGoalError(parsed.problems or ["the goal could not be read"])
        return parsed

    def plan(
        self, text: str, user: SupervisorUserContext, overrides: GoalOverrides | None = None
    ) -> LeadGenPlan:
        """Read and plan ``text`` without storing anything."""
        parsed = self.read_goal(text, user, overrides)
        assert parsed.goal is not None  # plannable
        catalog = self.registry.catalog()
        plan = plan_lead_generation(
            parsed.goal,
            self.context(user),
            catalog=catalog,
            assumptions=parsed.assumptions,
            monitor_max_results=self.settings.monitor_max_results,
        )
        # What each search can deliver, known before approval: the directory counts, online services state caps.
        plan = with_coverage(plan, count_providers(plan, self.registry), catalog)
        return plan.model_copy(update={"created_at": self.clock()})

    async def start_plan(
        self,
        text: str,
        user: SupervisorUserContext,
        *,
        session_id: str | None = None,
        overrides: GoalOverrides | None = None,
    ) -> LeadGenPlan:
        """Plan ``text`` and store it as pending approval, owned by ``session_id``."""
        # Planning counts the directory (a few ms of blocking reads): off the event loop.
        plan = await asyncio.to_thread(self.plan, text, user, overrides)
        if session_id is not None:
            await self.session_store.ensure(session_id)
        await self.plan_store.save(plan, session_id=session_id)
        return plan

    # --- one plan, as its session sees it ------------------------------------------------------------

    async def get_plan(self, plan_id: str, *, session_id: str | None = None) -> LeadGenPlan:
        """The plan, if it exists and belongs to ``session_id`` (when given); else ``NotFoundError``.

        Another session's plan is "not found" too: saying "forbidden" would confirm it exists.
        """
        plan = await self.plan_store.get(plan_id, session_id=session_id)
        if plan is None:
            raise NotFoundError(f"no plan {plan_id!r}")
        return plan

    def lease(self) -> RunLease:
        """A fresh hold on a plan run for this process, for ``run_lease_seconds`` from now."""
        return RunLease(self.owner, self.clock() + timedelta(seconds=self.settings.run_lease_seconds))

    async def renew_leases(self, plan_ids: set[str]) -> set[str]:
        """Renew this process's hold on the plans it runs; the ids of those another process took over."""
        return await self.plan_store.renew_leases(plan_ids, self.lease())

    async def store_held(self, plan: LeadGenPlan, *, session_id: str | None) -> LeadGenPlan:
        """Store a plan made to run at once (a monitor's check) as executing, held by this process: stored, then
        moved to executing by the conditional transition an approval makes (so no other process adopts it)."""
        pending = plan.model_copy(update={"status": PlanStatus.PENDING_APPROVAL})
        if session_id is not None:
            await self.session_store.ensure(session_id)
        await self.plan_store.save(pending, session_id=session_id)
        held = await self.plan_store.transition(
            plan.id, from_=PlanStatus.PENDING_APPROVAL, to=PlanStatus.EXECUTING, lease=self.lease()
        )
        if not held:  # its id is new: only a store that lost the row gets here
            raise state_error(await self.get_plan(plan.id))
        return pending.model_copy(update={"status": PlanStatus.EXECUTING})

    async def finish(
        self, plan_id: str, status: PlanStatus, *, result: LeadGenExecutionResult | None = None
    ) -> bool:
        """End this process's run of the plan with ``status`` (and its result); False when the plan is not
        executing here (finished already, or held by another process now)."""
        return await self.plan_store.transition(
            plan_id, from_=PlanStatus.EXECUTING, to=status, owner=self.owner, result=result
        )

    async def approve_plan(self, plan_id: str, *, session_id: str | None = None) -> LeadGenPlan:
        """Mark a pending plan as executing, held by this process; the caller then hands it to the run queue.
        Of any number of approvals at once, in any number of processes, exactly one wins; the others get
        ``PlanStateError``."""
        plan = await self.get_plan(plan_id, session_id=session_id)
        approved = await self.plan_store.transition(
            plan_id,
            from_=PlanStatus.PENDING_APPROVAL,
            to=PlanStatus.EXECUTING,
            lease=self.lease(),
            session_id=session_id,
        )
        if not approved:
            raise state_error(await self.get_plan(plan_id, session_id=session_id))
        return plan.model_copy(update={"status": PlanStatus.EXECUTING})

    async def run_plan(
        self,
        plan: LeadGenPlan,
        user: SupervisorUserContext,
        *,
        on_event: EventCallback | None = None,
        cancel: asyncio.Event | None = None,
    ) -> LeadGenExecutionResult:
        """Execute an approved plan to the end, resuming from any step results already stored.

        If the task is cancelled (shutdown), the plan stays ``executing`` and a later run resumes it.
        """
        prior = await self.plan_store.step_results(plan.id)
        result = await execute_lead_generation_plan(
            plan,
            user,
            on_event=self._publisher(on_event),
            runtime=self._runtime(),
            cancel=cancel,
            resume=prior,
        )
        result = result.model_copy(update={"delivery": plan_delivery(plan, result.step_results)})
        status = PlanStatus(result.overall_status.value)
        if not await self.finish(plan.id, status, result=result):
            logger.warning("plan %s finished here, but another process holds it now", plan.id)
        return result

    async def announce_queued(
        self,
        plan: LeadGenPlan,
        user: SupervisorUserContext,
        *,
        ahead: int,
        on_event: EventCallback | None = None,
    ) -> None:
        """Say, in the plan's event log, that it waits for a free run slot behind ``ahead`` others."""
        await announce_queued(
            plan, user, runtime=self._runtime(), on_event=self._publisher(on_event), ahead=ahead
        )

    def _runtime(self) -> Runtime:
        return Runtime(
            registry=self.registry,
            plans=self.plan_store,
            clock=self.clock,
            max_concurrency=self.settings.max_concurrent_steps,
        )

    def _publisher(self, on_event: EventCallback | None) -> EventCallback:
        """Hand each stored event to this process's live readers, then to ``on_event``."""

        async def publish(event: PlanEvent) -> None:
            self.bus.publish(event)
            if on_event is not None:
                outcome = on_event(event)
                if outcome is not None:
                    await outcome

        return publish

    async def record(self, plan: LeadGenPlan, type_: PlanEventType, **fields: Any) -> None:
        """Store (then publish) a plan-level event raised outside the executor's run: a cancellation before
        approval, a crashed run. Stored through the executor's ``emit_plan_event``, stamped by the one clock."""
        event = plan_event(plan, type_, at=self.clock(), **fields)
        await emit_plan_event(event, plans=self.plan_store, on_event=self.bus.publish)

    async def record_crash(self, plan: LeadGenPlan, exc: Exception) -> None:
        """End this process's run of the plan as failed, its event log saying it crashed (the details are logged
        by the caller); nothing when the plan is not executing here any more."""
        try:
            if not await self.finish(plan.id, PlanStatus.FAILED):
                return  # already finished, or held elsewhere: not ours to end
            await self.record(
                plan,
                PlanEventType.PLAN_COMPLETED,
                status="failed",
                error_message=f"internal error ({type(exc).__name__}); the details are in the server log",
            )
        except Exception:  # the store itself is failing: the log is all we can leave
            logger.exception("could not record the crash of plan %s", plan.id)

    async def cancel_pending(self, plan: LeadGenPlan) -> None:
        """Cancel a plan that was never approved: its status and its event log say so.

        ``PlanStateError`` when it is no longer pending (approved or cancelled by someone else meanwhile)."""
        cancelled = await self.plan_store.transition(
            plan.id, from_=PlanStatus.PENDING_APPROVAL, to=PlanStatus.CANCELLED
        )
        if not cancelled:
            raise state_error(await self.get_plan(plan.id))
        await self.record(
            plan,
            PlanEventType.PLAN_CANCELLED,
            status="cancelled",
            data={"reason": "cancelled before approval"},
        )

    async def running_or_cancel_pending(self, plan_id: str, *, session_id: str | None) -> LeadGenPlan | None:
        """The first part of every cancel: a plan still waiting for approval is cancelled here (None); a running
        one is returned for its run queue to stop; a finished one is ``PlanStateError``."""
        plan = await self.get_plan(plan_id, session_id=session_id)
        if plan.status is PlanStatus.PENDING_APPROVAL:
            await self.cancel_pending(plan)
            return None
        if plan.status is not PlanStatus.EXECUTING:
            raise state_error(plan)
        return plan

    # --- reports -------------------------------------------------------------------------------------

    async def progress(self, plan_id: str, *, session_id: str | None = None) -> PlanProgress:
        head = await self.plan_store.head(plan_id, session_id=session_id)
        if head is None:
            raise NotFoundError(f"no plan {plan_id!r}")
        return await self._project(head, session_id)

    async def latest_progress(self, *, session_id: str) -> PlanProgress | None:
        head = await self.plan_store.latest_head(session_id=session_id)
        return None if head is None else await self._project(head, session_id)

    async def _project(self, head: PlanHead, session_id: str | None) -> PlanProgress:
        """The projection of the plan's event log, recomputed only when the log or the plan's status changed.

        The memo is keyed by the log's last ``seq`` and the status read from the store on every call, so it
        cannot drift from the log: it only saves re-reading and re-folding events nobody added.
        """
        memo = self._memo.get(head.plan_id)
        if memo is not None and memo.head == head and memo.progress.session_id == session_id:
            self._memo.move_to_end(head.plan_id)
            return memo.progress
        if memo is not None:  # the body is read once; only its status moves (read with the head)
            plan = memo.plan.model_copy(update={"status": head.status})
        elif (found := await self.plan_store.get(head.plan_id)) is not None:
            plan = found
        else:
            raise NotFoundError(f"no plan {head.plan_id!r}")  # deleted since its head was read
        known = memo.events if memo is not None and memo.head.last_seq <= head.last_seq else []
        after = known[-1].seq or 0 if known else 0
        events = [*known, *await self.plan_store.events(head.plan_id, after=after)]
        progress = project(events, plan=plan, session_id=session_id)
        self._memo[head.plan_id] = _Memo(head, plan, events, progress)
        while len(self._memo) > PROGRESS_MEMO_SIZE:
            self._memo.popitem(last=False)
        return progress

    async def events(self, plan_id: str, *, session_id: str | None = None, after: int = 0) -> list[PlanEvent]:
        await self.get_plan(plan_id, session_id=session_id)
        return await self.plan_store.events(plan_id, after=after)

    async def result(self, plan_id: str, *, session_id: str | None = None) -> LeadGenExecutionResult:
        plan = await self.get_plan(plan_id, session_id=session_id)
        found = await self.plan_store.result(plan_id)
        if found is None:
            raise PlanStateError(f"plan {plan_id} is {plan.status.value}: it has no result yet")
        return found

    async def leads(self, plan_id: str, *, session_id: str | None = None) -> Sequence[Lead]:
        await self.get_plan(plan_id, session_id=session_id)
        return await self.lead_store.for_plan(plan_id=plan_id)

    async def plans(self, *, session_id: str) -> list[PlanRow]:
        return await self.plan_store.for_session(session_id=session_id)

    async def messages(self, *, session_id: str) -> list[Message]:
        return await self.session_store.messages(session_id=session_id)
