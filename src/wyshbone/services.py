"""Use cases shared by the CLI and the web routes: read a goal, plan it, approve it, run it, report on it; then
the list's outreach and its monitors.

Routes and commands are thin adapters over ``Supervisor`` (one plan at a time, scoped to a session where the
caller has one), ``PlanRunner`` (runs approved plans on this process's event loop), ``Outreach`` (a list's
drafts: send, stop, opt out) and ``Monitors`` (run due monitors, pause, resume, delete). Nothing here formats
output or knows HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import socket
from asyncio import FIRST_COMPLETED
from collections import OrderedDict, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import httpx

from wyshbone.config import Settings
from wyshbone.domain.delivery import delivery_line, outcome_headline, plan_delivery, saved_nearby, step_note
from wyshbone.domain.gazetteer import Gazetteer
from wyshbone.domain.goals import apply_overrides
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
from wyshbone.domain.monitors import Monitor, MonitorRun, new_leads, next_run_after, report
from wyshbone.domain.outreach import (
    SENDABLE,
    OutreachMessage,
    OutreachSequence,
    SendReport,
    Suppression,
    SuppressionReason,
    due_messages,
    start_of_day,
    suppressed_by,
    suppression_entry,
)
from wyshbone.domain.planner import plan_lead_generation, with_coverage
from wyshbone.domain.progress import project
from wyshbone.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    PlanStateError,
    SetupError,
    UnplannableGoalError,
)
from wyshbone.executor import (
    EventCallback,
    Runtime,
    announce_queued,
    emit_plan_event,
    execute_lead_generation_plan,
)
from wyshbone.geodata import load_gazetteer
from wyshbone.providers.http import make_client
from wyshbone.providers.smtp import (
    Delivery,
    SmtpSender,
    SmtpUnavailableError,
    UnsendableMessageError,
    build_message,
    parse_smtp_url,
)
from wyshbone.signing import OptOutLinks
from wyshbone.storage import Repositories, open_repositories
from wyshbone.storage.leads import LeadListRow
from wyshbone.storage.monitors import ACTIVE, PAUSED, MonitorRepository
from wyshbone.storage.outreach import SENDING, OutreachRepository
from wyshbone.storage.plans import PlanHead, PlanRow, RunLease
from wyshbone.storage.sessions import Message
from wyshbone.tools.builtin import build_registry
from wyshbone.tools.monitor import SearchOutcome, draft_new, enrich_new, run_search
from wyshbone.tools.registry import ToolRegistry, count_providers

logger = logging.getLogger("wyshbone.services")

MAX_GOAL_LENGTH = 2000


def _utcnow() -> datetime:
    return datetime.now(UTC)


def new_owner_id() -> str:
    """Who this process is when it holds a plan run or a monitor: host, pid and a random part (a restarted
    process with a recycled pid is still someone else)."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{secrets.token_hex(4)}"


_STATE_WORDS = {
    PlanStatus.PENDING_APPROVAL: "is still waiting for approval",
    PlanStatus.EXECUTING: "has already been approved and is running",
    PlanStatus.SUCCEEDED: "has already finished",
    PlanStatus.PARTIAL: "has already finished",
    PlanStatus.FAILED: "has already finished (it failed)",
    PlanStatus.CANCELLED: "was cancelled",
}


def _state_error(plan: LeadGenPlan) -> PlanStateError:
    return PlanStateError(f"this plan {_STATE_WORDS[plan.status]}")


@dataclass
class EventBus:
    """Hands each stored event to this process's live readers of its plan (SSE streams).

    Events are published only after they are stored, so a reader that catches up from the store and then
    follows the bus misses nothing; events stored by another process are found by polling the store.
    """

    _subscribers: dict[str, set[asyncio.Queue[PlanEvent]]] = field(default_factory=lambda: defaultdict(set))

    def publish(self, event: PlanEvent) -> None:
        for queue in self._subscribers.get(event.plan_id, ()):
            queue.put_nowait(event)

    @contextmanager
    def subscribe(self, plan_id: str) -> Iterator[asyncio.Queue[PlanEvent]]:
        queue: asyncio.Queue[PlanEvent] = asyncio.Queue()
        self._subscribers[plan_id].add(queue)
        try:
            yield queue
        finally:
            subscribers = self._subscribers.get(plan_id)
            if subscribers is not None:
                subscribers.discard(queue)
                if not subscribers:
                    del self._subscribers[plan_id]


PROGRESS_MEMO_SIZE = 1000
"""Projections kept for the most recently read plans."""


@dataclass(frozen=True, slots=True)
class _Memo:
    head: PlanHead
    events: list[PlanEvent]
    progress: PlanProgress


@dataclass
class Supervisor:
    """The application: settings, the repositories, the tool registry and the gazetteer, opened once."""

    settings: Settings
    repos: Repositories
    registry: ToolRegistry
    gazetteer: Gazetteer
    http: httpx.AsyncClient | None = None
    """The one HTTP client every online provider shares (closed with the supervisor)."""
    bus: EventBus = field(default_factory=EventBus)
    owner: str = field(default_factory=new_owner_id)
    """Who this process is when it holds a plan's run (``RunLease.owner``)."""
    clock: Callable[[], datetime] = _utcnow
    _memo: OrderedDict[str, _Memo] = field(default_factory=OrderedDict)

    @classmethod
    async def open(cls, settings: Settings, *, store_url: str | None = None) -> Supervisor:
        gazetteer = await asyncio.to_thread(load_gazetteer, settings.open_data_dir)
        repos = open_repositories(store_url or settings.store_url)
        http = make_client()
        registry = build_registry(settings=settings, repos=repos, client=http)
        return cls(settings, repos, registry, gazetteer, http)

    @functools.cached_property
    def opt_out_links(self) -> OptOutLinks:
        return OptOutLinks.for_settings(self.settings)

    @functools.cached_property
    def outreach(self) -> Outreach:
        return Outreach(self)

    @functools.cached_property
    def monitors(self) -> Monitors:
        return Monitors(self)

    async def close(self) -> None:
        if self.http is not None:
            await self.http.aclose()
        await self.repos.close()

    def context(self, user: SupervisorUserContext) -> LeadGenContext:
        return LeadGenContext(user_id=user.user_id, default_country=self.settings.default_country)

    # --- reading and planning ------------------------------------------------------------------------

    def parse(
        self, text: str, user: SupervisorUserContext, overrides: GoalOverrides | None = None
    ) -> ParsedGoal:
        """What the parser read from ``text``, problems included (nothing raised for an unplannable goal)."""
        text = (text or "").strip()
        if len(text) > MAX_GOAL_LENGTH:
            raise InputError(f"the goal is too long ({len(text)} characters; at most {MAX_GOAL_LENGTH})")
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
        text = (text or "").strip()
        if not text:
            raise InputError(
                "the goal is empty: say what to find and where, e.g. 'Find 20 coffee shops in Leeds'"
            )
        parsed = self.parse(text, user, overrides)
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
        return plan.model_copy(update={"created_at": datetime.now(UTC)})

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
            await self.repos.sessions.ensure(session_id)
        await self.repos.plans.save(plan, session_id=session_id)
        return plan

    # --- one plan, as its session sees it ------------------------------------------------------------

    async def get_plan(self, plan_id: str, *, session_id: str | None = None) -> LeadGenPlan:
        """The plan, if it exists and belongs to ``session_id`` (when given); else ``NotFoundError``.

        Another session's plan is "not found" too: saying "forbidden" would confirm it exists.
        """
        plan = await self.repos.plans.get(plan_id, session_id=session_id)
        if plan is None:
            raise NotFoundError(f"no plan {plan_id!r}")
        return plan

    def lease(self) -> RunLease:
        """A fresh hold on a plan run for this process, for ``run_lease_seconds`` from now."""
        return RunLease(self.owner, self.clock() + timedelta(seconds=self.settings.run_lease_seconds))

    async def finish(
        self, plan_id: str, status: PlanStatus, *, result: LeadGenExecutionResult | None = None
    ) -> bool:
        """End this process's run of the plan with ``status`` (and its result); False when the plan is not
        executing here (finished already, or held by another process now)."""
        return await self.repos.plans.transition(
            plan_id, from_=PlanStatus.EXECUTING, to=status, owner=self.owner, result=result
        )

    async def approve_plan(self, plan_id: str, *, session_id: str | None = None) -> LeadGenPlan:
        """Mark a pending plan as executing, held by this process; the caller then runs it
        (``PlanRunner.start`` or ``PlanRunner.run``). Of any number of approvals at once, in any number of
        processes, exactly one wins; the others get ``PlanStateError``."""
        plan = await self.get_plan(plan_id, session_id=session_id)
        approved = await self.repos.plans.transition(
            plan_id,
            from_=PlanStatus.PENDING_APPROVAL,
            to=PlanStatus.EXECUTING,
            lease=self.lease(),
            session_id=session_id,
        )
        if not approved:
            raise _state_error(await self.get_plan(plan_id, session_id=session_id))
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
        prior = await self.repos.plans.step_results(plan.id)
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
            plans=self.repos.plans,
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

    async def cancel_pending(self, plan: LeadGenPlan) -> None:
        """Cancel a plan that was never approved: its status and its event log say so.

        ``PlanStateError`` when it is no longer pending (approved or cancelled by someone else meanwhile)."""
        cancelled = await self.repos.plans.transition(
            plan.id, from_=PlanStatus.PENDING_APPROVAL, to=PlanStatus.CANCELLED
        )
        if not cancelled:
            raise _state_error(await self.get_plan(plan.id))
        event = PlanEvent(
            timestamp=datetime.now(UTC),
            type=PlanEventType.PLAN_CANCELLED,
            plan_id=plan.id,
            user_id=plan.user_id,
            status="cancelled",
            data={"reason": "cancelled before approval"},
        )
        await emit_plan_event(event, plans=self.repos.plans, on_event=self.bus.publish)

    async def progress(self, plan_id: str, *, session_id: str | None = None) -> PlanProgress:
        head = await self.repos.plans.head(plan_id, session_id=session_id)
        if head is None:
            raise NotFoundError(f"no plan {plan_id!r}")
        return await self._project(head, session_id)

    async def latest_progress(self, *, session_id: str) -> PlanProgress | None:
        head = await self.repos.plans.latest_head(session_id=session_id)
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
        plan = await self.repos.plans.get(head.plan_id)
        assert plan is not None  # the head was just read
        known = memo.events if memo is not None and memo.head.last_seq <= head.last_seq else []
        after = known[-1].seq or 0 if known else 0
        events = [*known, *await self.repos.plans.events(head.plan_id, after=after)]
        progress = project(events, plan=plan, session_id=session_id)
        self._memo[head.plan_id] = _Memo(head, events, progress)
        while len(self._memo) > PROGRESS_MEMO_SIZE:
            self._memo.popitem(last=False)
        return progress

    async def events(self, plan_id: str, *, session_id: str | None = None, after: int = 0) -> list[PlanEvent]:
        await self.get_plan(plan_id, session_id=session_id)
        return await self.repos.plans.events(plan_id, after=after)

    async def result(self, plan_id: str, *, session_id: str | None = None) -> LeadGenExecutionResult:
        plan = await self.get_plan(plan_id, session_id=session_id)
        found = await self.repos.plans.result(plan_id)
        if found is None:
            raise PlanStateError(f"plan {plan_id} is {plan.status.value}: it has no result yet")
        return found

    async def leads(self, plan_id: str, *, session_id: str | None = None) -> Sequence[Lead]:
        await self.get_plan(plan_id, session_id=session_id)
        return await self.repos.leads.for_plan(plan_id=plan_id)

    async def plans(self, *, session_id: str) -> list[PlanRow]:
        return await self.repos.plans.for_session(session_id=session_id)

    async def messages(self, *, session_id: str) -> list[Message]:
        return await self.repos.sessions.messages(session_id=session_id)


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


@dataclass
class PlanRunner:
    """Runs approved plans on this process's event loop, holding each by a lease it renews while it runs;
    resumes plans whose holder stopped (on start-up, and every lease period when ``adopt`` is on).

    A plan runs in one process at a time: approval and take-over are conditional updates in the store, and a
    run whose lease another process took over (this one stalled past its lease) is stopped here.
    """

    supervisor: Supervisor
    adopt: bool = False
    """Also take over, every lease period, plans whose holder's lease ran out (the web server does)."""
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _cancels: dict[str, asyncio.Event] = field(default_factory=dict)
    _held: set[str] = field(default_factory=set)
    _lost: set[str] = field(default_factory=set)
    _heartbeat: asyncio.Task[None] | None = None
    _slots: asyncio.Semaphore | None = None
    _queued: int = 0

    def start(self, plan: LeadGenPlan, *, session_id: str | None) -> None:
        """Schedule the run of a plan this process holds and return at once; it never blocks the caller."""
        if plan.id in self._tasks:
            return
        cancel = asyncio.Event()
        self._cancels[plan.id] = cancel
        self._held.add(plan.id)
        task = asyncio.create_task(self._run(plan, session_id, cancel), name=f"plan-{plan.id}")
        self._tasks[plan.id] = task
        task.add_done_callback(lambda _: self._forget(plan.id))
        self._beat()

    def _forget(self, plan_id: str) -> None:
        self._tasks.pop(plan_id, None)
        self._cancels.pop(plan_id, None)

    def running(self, plan_id: str) -> bool:
        return plan_id in self._tasks

    async def _run(self, plan: LeadGenPlan, session_id: str | None, cancel: asyncio.Event) -> None:
        with contextlib.suppress(Exception):  # run() has logged and recorded it
            await self.run(plan, session_id=session_id, cancel=cancel)

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
        sup = self.supervisor
        user = SupervisorUserContext(user_id=plan.user_id)
        self._held.add(plan.id)
        self._beat()
        try:
            async with self._slot(plan, user, cancel, on_event):
                result = await sup.run_plan(plan, user, cancel=cancel, on_event=on_event)
            self._held.discard(plan.id)
            if session_id is not None:
                await sup.repos.sessions.add_message(
                    session_id=session_id, plan_id=plan.id, role="assistant", text=summarize(plan, result)
                )
            return result
        except asyncio.CancelledError:
            if plan.id in self._lost:
                logger.warning("plan %s stopped here: another process took it over", plan.id)
            else:
                logger.info("plan run interrupted", extra={"planId": plan.id, "sessionId": session_id})
            raise
        except Exception as exc:
            # A bug in the executor or the store: log it with its context, and end the plan visibly as failed.
            logger.exception("plan run crashed", extra={"planId": plan.id, "sessionId": session_id})
            await self._record_crash(plan, exc)
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
            self._slots = asyncio.Semaphore(self.supervisor.settings.max_concurrent_plans)
        slots = self._slots
        if not slots.locked():
            async with slots:
                yield
            return
        self._queued += 1
        acquire = asyncio.ensure_future(slots.acquire())
        stop = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
        try:
            await self.supervisor.announce_queued(plan, user, ahead=self._queued - 1, on_event=on_event)
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
        try:
            yield
        finally:
            if held:
                slots.release()

    async def _record_crash(self, plan: LeadGenPlan, exc: Exception) -> None:
        sup = self.supervisor
        try:
            if not await sup.finish(plan.id, PlanStatus.FAILED):
                return  # already finished, or held elsewhere: not ours to end
            event = PlanEvent(
                timestamp=sup.clock(),
                type=PlanEventType.PLAN_COMPLETED,
                plan_id=plan.id,
                user_id=plan.user_id,
                status="failed",
                error_message=f"internal error ({type(exc).__name__}); the details are in the server log",
            )
            await emit_plan_event(event, plans=sup.repos.plans, on_event=sup.bus.publish)
        except Exception:  # the store itself is failing: the log above is all we can leave
            logger.exception("could not record the crash of plan %s", plan.id)

    def _beat(self) -> None:
        """Make sure the heartbeat runs while this process holds plans (or adopts others')."""
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._heartbeat_loop(), name="plan-leases")

    async def _heartbeat_loop(self) -> None:
        every = self.supervisor.settings.run_lease_seconds / 3
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
        """Renew the leases of the plans this process holds; stop any that another process took over."""
        lost = await self.supervisor.repos.plans.renew_leases(set(self._held), self.supervisor.lease())
        for plan_id in lost & self._held:
            self._lost.add(plan_id)
            if (task := self._tasks.get(plan_id)) is not None:
                task.cancel()

    async def cancel(self, plan_id: str, *, session_id: str | None) -> PlanStatus:
        """Stop a running or pending plan; ``PlanStateError`` if it has already finished."""
        plan = await self.supervisor.get_plan(plan_id, session_id=session_id)
        if plan.status is PlanStatus.PENDING_APPROVAL:
            await self.supervisor.cancel_pending(plan)
            return PlanStatus.CANCELLED
        if plan.status is not PlanStatus.EXECUTING:
            raise _state_error(plan)
        task, cancel = self._tasks.get(plan_id), self._cancels.get(plan_id)
        if task is None or cancel is None:
            raise PlanStateError("this plan is running in another process of the service; cancel it there")
        cancel.set()
        await asyncio.shield(task)
        return PlanStatus.CANCELLED

    async def resume_interrupted(self) -> list[str]:
        """Take over and start every plan left executing by a process that stopped (its lease ran out, or
        it shut down cleanly); return their ids. Plans another live process holds are left alone."""
        sup = self.supervisor
        resumed = []
        for row in await sup.repos.plans.claim_orphans(sup.lease(), now=sup.clock()):
            plan = await sup.repos.plans.get(row.plan_id)
            if plan is not None and row.plan_id not in self._tasks:
                self.start(plan, session_id=row.session_id)
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
            await self.supervisor.repos.plans.release(held, owner=self.supervisor.owner)
        except Exception:  # the leases then simply run out
            logger.exception("could not release plan leases on shutdown")
        if self._heartbeat is not None:
            await asyncio.gather(self._heartbeat, return_exceptions=True)

    async def wait_idle(self) -> None:
        """Wait until every run this runner started has finished (tests, graceful shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)


@dataclass
class Outreach:
    """Outreach use cases: show a list's sequence, send what is due, stop a lead, honour opt-outs."""

    supervisor: Supervisor
    clock: Callable[[], datetime] = _utcnow
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    @property
    def _repo(self) -> OutreachRepository:
        return self.supervisor.repos.outreach

    async def sequence(
        self, list_id: int, *, session_id: str | None = None, items: bool = True
    ) -> OutreachSequence:
        """The list's sequence with its leads and messages (``items=False``: the sequence alone);
        ``NotFoundError`` for another session's list."""
        await self._list(list_id, session_id)
        sequence = await self._repo.sequence(list_id=list_id, items=items)
        if sequence is None:
            raise NotFoundError(
                f"list {list_id} has no outreach sequence: plan a goal that says to email them"
            )
        return sequence

    async def due(self, list_id: int, *, session_id: str | None = None) -> int:
        """How many of the list's messages are due now (before the daily cap)."""
        sequence = await self.sequence(list_id, session_id=session_id, items=False)
        return len(due_messages(await self._repo.queued_messages(sequence.id), self.clock()))

    async def _list(self, list_id: int, session_id: str | None) -> LeadListRow:
        found = await self.supervisor.repos.leads.list_info(list_id)
        if found is None or (session_id is not None and found.session_id != session_id):
            raise NotFoundError(f"no lead list {list_id}")
        return found

    def check_smtp(self) -> SmtpSender:
        """The SMTP sender from settings; ``SetupError`` when none is configured or its URL is unusable."""
        settings = self.supervisor.settings
        if settings.smtp_url is None:
            raise SetupError(
                "no SMTP server to send through: set WYSHBONE_SMTP_URL (e.g. smtp://user:pass@host:587)"
            )
        server = parse_smtp_url(settings.smtp_url.get_secret_value())
        return SmtpSender(server, ca_file=settings.smtp_ca_file, timeout=settings.smtp_timeout_seconds)

    async def send(
        self,
        list_id: int,
        *,
        session_id: str | None = None,
        limit: int | None = None,
        on_message: Callable[[OutreachMessage], object] | None = None,
    ) -> SendReport:
        """Send the list's due messages over SMTP, at most the daily cap, spaced by the configured gap.

        Each message is claimed before it is sent and never sent again (its idempotency key is its Message-ID);
        suppressions are checked again just before each one. A message that cannot be built (its address or a
        header would not hold) is marked failed with the reason, and the run goes on. ``SetupError`` when no
        server is configured or the server cannot be used (the run stops; nothing is marked sent that was not).
        """
        settings = self.supervisor.settings
        sequence = await self.sequence(list_id, session_id=session_id, items=False)
        smtp = self.check_smtp()
        repo = self._repo
        now = self.clock()
        due = due_messages(await repo.queued_messages(sequence.id), now)
        budget = max(
            0, settings.outreach_daily_cap - await repo.sent_since(sequence.account_id, start_of_day(now))
        )
        if limit is not None:
            budget = min(budget, limit)
        report = SendReport(list_id=list_id, due=len(due), capped=max(0, len(due) - budget))
        for index, queued in enumerate(due[:budget]):
            if index and settings.outreach_gap_seconds:
                await self.sleep(settings.outreach_gap_seconds)
            view = await self._send_one(queued.id, sequence=sequence, smtp=smtp, report=report)
            if view is not None:
                report.messages.append(view)
                if on_message is not None:
                    on_message(view)
        return report

    async def _send_one(
        self, message_id: int, *, sequence: OutreachSequence, smtp: SmtpSender, report: SendReport
    ) -> OutreachMessage | None:
        """One due message: suppressions checked, built, claimed, sent, its outcome kept and counted in
        ``report``. None when it was not attempted (suppressed, or another sender has it)."""
        repo = self._repo
        message, html = await repo.outgoing(message_id)
        entries = await repo.suppressions(sequence.account_id, email=message.email)
        if reason := suppressed_by(message.email, entries):
            await repo.stop_lead(sequence.id, message.email, status="suppressed", reason=reason)
            report.suppressed += 1
            return None
        # Built before it is claimed: a message that cannot be built is never left "sending".
        mail = self._build(message, html, sequence)
        if not await repo.transition(message_id, from_=SENDABLE, to=SENDING):
            return None  # another sender took it
        try:
            delivery = mail if isinstance(mail, Delivery) else await smtp.send(mail)
        except SmtpUnavailableError as exc:
            await repo.transition(message_id, from_=SENDING, to="failed", reply=exc.message)
            raise
        except UnsendableMessageError as exc:  # refused before any connection: it cannot have gone out
            delivery = Delivery("failed", f"not sent: {exc.message}")
        sent_at = self.clock() if delivery.outcome == "sent" else None
        await repo.transition(
            message_id, from_=SENDING, to=delivery.outcome, reply=delivery.reply, sent_at=sent_at
        )
        if delivery.outcome == "bounced":
            entry = suppression_entry(message.email, SuppressionReason.HARD_BOUNCE)
            await repo.add_suppressions(sequence.account_id, [entry], lead_status="bounced")
        if delivery.outcome == "sent":
            report.sent += 1
        else:
            report.failed += 1
        return message.model_copy(
            update={
                "status": delivery.outcome,
                "reply": delivery.reply,
                "sent_at": sent_at,
                "attempts": message.attempts + 1,  # the claim counted this attempt
            }
        )

    def _build(
        self, message: OutreachMessage, html: str, sequence: OutreachSequence
    ) -> EmailMessage | Delivery:
        """The mail to send, or (when its address or a header would not hold) the failure to record instead."""
        try:
            return build_message(
                sender_name=sequence.sender.name,
                sender_email=sequence.sender.email or "",
                to=message.email,
                subject=message.subject,
                text=message.body_text,
                html=html,
                message_key=message.idempotency_key,
                opt_out_url=self.supervisor.opt_out_links.url(sequence.account_id, message.email),
            )
        except UnsendableMessageError as exc:
            return Delivery("failed", f"not sent: {exc.message}")

    async def mark_replied(self, list_id: int, email: str, *, session_id: str | None = None) -> int:
        """The lead at ``email`` replied: stop their sequence. Returns how many messages were stopped."""
        sequence = await self.sequence(list_id, session_id=session_id)
        address = email.strip().lower()
        if not any(lead.email == address for lead in sequence.leads):
            raise NotFoundError(f"no lead of list {list_id} is written to at {email!r}")
        return await self._repo.stop_lead(sequence.id, address, status="replied", reason="replied")

    async def opt_out(self, token: str) -> str:
        """Honour an opt-out link: the address goes on its account's suppression list. Returns the address."""
        account, email = self.supervisor.opt_out_links.read(token)
        await self._repo.add_suppressions(
            account, [suppression_entry(email, SuppressionReason.OPTED_OUT)], lead_status="opted_out"
        )
        return email

    async def suppress(self, account: str, values: Sequence[str], reason: SuppressionReason) -> int:
        """Add addresses or domains to the account's suppression list; returns how many messages it stopped."""
        entries = [suppression_entry(value, reason) for value in values]
        return await self._repo.add_suppressions(account, entries, lead_status="suppressed")

    async def suppressions(self, account: str) -> list[Suppression]:
        return await self._repo.list_suppressions(account)


MONITOR_LEASE = timedelta(seconds=60)
"""How long a monitor run's hold lasts unless renewed: a crashed runner's monitor is free again within it."""
MONITOR_HEARTBEAT = timedelta(seconds=20)
"""How often a running monitor run renews its hold."""


@dataclass
class Monitors:
    """Monitor use cases: list, pause, resume, delete, run one now, and run every due one (the scheduler)."""

    supervisor: Supervisor
    clock: Callable[[], datetime] = _utcnow

    @property
    def _repo(self) -> MonitorRepository:
        return self.supervisor.repos.monitors

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
        owner = self.supervisor.owner
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
        plan = await self.supervisor.repos.plans.get(monitor.plan_id)
        if plan is None:  # cannot happen while plans are never deleted; say so rather than crash
            raise NotFoundError(f"monitor {monitor.id}'s plan {monitor.plan_id} is gone")
        user = SupervisorUserContext(user_id=monitor.user_id)
        try:
            outcome = await run_search(
                monitor.search, plan=plan, user=user, registry=self.supervisor.registry
            )
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
        repo, registry = self._repo, self.supervisor.registry
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
            await self.supervisor.repos.sessions.add_message(
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
