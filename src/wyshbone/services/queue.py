"""Queue mode's ``RunQueue`` and ``SendQueue``: an approved plan, a list's send and a due monitor's check each
become a procrastinate job (queued once, run by one worker at a time, keyed by what it works on) that
``wyshbone worker`` processes run; a plan's cancel is its job's abort, noticed by the worker running it. The
procrastinate ``App`` over the settings' Postgres is built here too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Status

from wyshbone.config import Settings
from wyshbone.domain.models import LeadGenPlan, PlanEventType, PlanStatus
from wyshbone.domain.monitors import MonitorRun
from wyshbone.errors import ConflictError, PlanStateError
from wyshbone.executor import EventCallback
from wyshbone.providers.limits import libpq_url
from wyshbone.services.monitors import Monitors
from wyshbone.services.plans import Plans, state_error
from wyshbone.services.sending import already_sending
from wyshbone.storage.queue_schema import ensure_queue_schema

__all__ = [
    "MAINTENANCE_QUEUE",
    "MONITOR_CHECK_TASK",
    "OUTREACH_QUEUE",
    "PLANS_QUEUE",
    "QUEUES",
    "RUN_PLAN_TASK",
    "SEND_TASK",
    "QueueChecks",
    "QueueRunQueue",
    "QueueSends",
    "defer_once",
    "defer_run",
    "end_unstarted",
    "libpq_url",
    "live_jobs",
    "monitor_key",
    "queue_app",
    "send_key",
]

logger = logging.getLogger("wyshbone.services")

RUN_PLAN_TASK = "wyshbone.run_plan"
"""The task that runs one plan (``wyshbone.worker`` defines it; deferred here by name)."""
SEND_TASK = "wyshbone.send_outreach"
"""The task that sends one list's due messages."""
MONITOR_CHECK_TASK = "wyshbone.check_monitor"
"""The task that runs one due monitor's check (a plan of its own)."""
PLANS_QUEUE = "plans"
"""Where plan runs and monitor checks wait for a worker."""
OUTREACH_QUEUE = "outreach"
"""Where sends wait: apart from plans, as a send spends most of its time waiting between messages."""
MAINTENANCE_QUEUE = "maintenance"
"""Where the workers' own periodic chores go (retrying the jobs of workers that died, looking for due
monitors)."""
QUEUES = (PLANS_QUEUE, OUTREACH_QUEUE, MAINTENANCE_QUEUE)
DEFER_GRACE_SECONDS = 5.0
"""How long a shutdown waits for the plans approved just before it to reach the queue."""
CHECK_WAIT_SECONDS = 600.0
"""How long "check this monitor now" waits for the worker's run before answering without it."""
CANCEL_WAIT_SECONDS = 15.0
"""How long a cancel waits for the worker running the plan to record it as cancelled."""


def queue_app(settings: Settings, *, max_connections: int = 4) -> procrastinate.App:
    """The procrastinate app over the settings' Postgres (opened by whoever uses it), with no tasks: the web
    and the CLI defer by task name; ``wyshbone.worker`` adds the tasks the workers run."""
    if settings.execution != "queue" or settings.database_url is None:
        raise ValueError("the job queue needs WYSHBONE_EXECUTION=queue and a Postgres WYSHBONE_DATABASE_URL")
    connector = procrastinate.PsycopgConnector(
        conninfo=libpq_url(settings.database_url), min_size=1, max_size=max_connections
    )
    return procrastinate.App(connector=connector)


async def defer_once(app: procrastinate.App, task: str, *, key: str, queue: str, **kwargs: Any) -> bool:
    """Queue ``task(**kwargs)`` unless a job keyed ``key`` is queued already (its queueing lock: False then);
    its lock keeps the jobs keyed ``key`` to one worker at a time."""
    deferrer = app.configure_task(task, lock=key, queueing_lock=key, queue=queue)
    try:
        await deferrer.defer_async(**kwargs)
    except AlreadyEnqueued:
        return False
    return True


async def defer_run(
    app: procrastinate.App, *, plan_id: str, session_id: str | None, holder: str | None
) -> bool:
    """Queue the run of an approved plan, held by ``holder`` (who hands it to the worker); False when a run of
    it is queued already."""
    return await defer_once(
        app,
        RUN_PLAN_TASK,
        key=plan_id,
        queue=PLANS_QUEUE,
        plan_id=plan_id,
        session_id=session_id,
        holder=holder,
    )


def send_key(list_id: int) -> str:
    return f"send:{list_id}"


def monitor_key(monitor_id: int) -> str:
    return f"monitor:{monitor_id}"


_LIVE_JOBS = "SELECT id FROM procrastinate_jobs WHERE lock = %(lock)s AND status IN ('todo', 'doing')"


async def live_jobs(app: procrastinate.App, key: str) -> list[int]:
    """The ids of the jobs keyed ``key`` that are queued or running (one query on procrastinate's lock index;
    its ``list_jobs`` reads every job kept, and runs on poll paths here)."""
    rows = await app.connector.execute_query_all_async(_LIVE_JOBS, lock=key)
    return [int(row["id"]) for row in rows]


async def end_unstarted(
    plans: Plans, plan: LeadGenPlan, *, reason: str = "cancelled before a worker started it"
) -> bool:
    """End as cancelled an executing plan that no worker runs (whoever holds it); False when it is no longer
    executing. Its log says so, with ``reason``."""
    if not await plans.plan_store.transition(plan.id, from_=PlanStatus.EXECUTING, to=PlanStatus.CANCELLED):
        return False
    await plans.record(plan, PlanEventType.PLAN_CANCELLED, status="cancelled", data={"reason": reason})
    return True


@dataclass
class QueueRunQueue:
    """Hands approved plans to worker processes through procrastinate jobs on the shared Postgres.

    Approval stays what it is (a conditional move to executing, held by this process); ``submit`` queues the
    job, and the worker that runs it takes the plan's lease over. Nothing runs in this process.
    """

    app: procrastinate.App
    plans: Plans
    conninfo: str
    poll_seconds: float = 0.2
    _opened: bool = False
    _open_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _submitted: set[str] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def opened(self) -> procrastinate.App:
        """The app, its connection pool opened (and procrastinate's schema applied) on first use."""
        async with self._open_lock:
            if not self._opened:
                await ensure_queue_schema(self.conninfo)
                await self.app.open_async()
                self._opened = True
        return self.app

    def submit(
        self, plan: LeadGenPlan, *, session_id: str | None, on_event: EventCallback | None = None
    ) -> None:
        """Queue the plan's run and return at once; ``on_event`` hears its events as they are stored."""
        self._submitted.add(plan.id)
        self._spawn(self._defer(plan, session_id), f"defer-{plan.id}")
        if on_event is not None:
            self._spawn(self._follow(plan.id, on_event), f"follow-{plan.id}")

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _defer(self, plan: LeadGenPlan, session_id: str | None) -> None:
        try:
            await defer_run(
                await self.opened(), plan_id=plan.id, session_id=session_id, holder=self.plans.owner
            )
        except Exception:  # the approval's lease runs out, and the workers' sweep queues the plan again
            logger.exception("could not queue the run of plan %s; a worker will pick it up later", plan.id)

    async def _follow(self, plan_id: str, on_event: EventCallback) -> None:
        """Hand the plan's stored events to ``on_event`` until it has finished (another process runs it)."""
        after = 0
        while True:
            head = await self.plans.plan_store.head(plan_id)  # its status and last seq: no body, no events
            finished = head is None or head.status is not PlanStatus.EXECUTING
            if head is not None and head.last_seq > after:
                for event in await self.plans.plan_store.events(plan_id, after=after):
                    after = event.seq or after
                    outcome = on_event(event)
                    if outcome is not None:
                        await outcome
            if finished:
                return
            await asyncio.sleep(self.poll_seconds)

    async def _status(self, plan_id: str) -> PlanStatus | None:
        head = await self.plans.plan_store.head(plan_id)
        return None if head is None else head.status

    async def cancel(self, plan_id: str, *, session_id: str | None) -> PlanStatus:
        """Stop a running or pending plan wherever it runs; ``PlanStateError`` if it has already finished."""
        plan = await self.plans.running_or_cancel_pending(plan_id, session_id=session_id)
        if plan is None:
            return PlanStatus.CANCELLED
        if await self._abort_running(plan_id):
            return await self._settled(plan_id)
        # No worker runs it (its job was still queued, or is lost): it ends here.
        if not await end_unstarted(self.plans, plan):
            raise state_error(await self.plans.get_plan(plan_id))
        return PlanStatus.CANCELLED

    async def _abort_running(self, plan_id: str) -> bool:
        """Cancel the plan's queued jobs and ask the worker running one to abort it; whether a worker does."""
        app = await self.opened()
        manager = app.job_manager
        running = False
        for job_id in await live_jobs(app, plan_id):
            if await manager.cancel_job_by_id_async(job_id, abort=True):
                running |= await manager.get_job_status_async(job_id) is Status.DOING
        return running

    async def _settled(self, plan_id: str) -> PlanStatus:
        """The plan's status once the worker has stopped it (``PlanStateError`` if that takes too long)."""
        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        while time.monotonic() < deadline:
            status = await self._status(plan_id)
            if status is not PlanStatus.EXECUTING:
                return status or PlanStatus.CANCELLED
            await asyncio.sleep(self.poll_seconds / 2)
        raise PlanStateError(
            "the cancel was asked for, but the worker running this plan has not stopped it yet"
        )

    async def resume_interrupted(self) -> list[str]:
        """Nothing to do here: the workers retry the jobs of a worker that died (``wyshbone.worker``)."""
        return []

    async def wait_idle(self) -> None:
        """Wait until every plan submitted here has finished, wherever it ran."""
        while self._submitted:
            for plan_id in list(self._submitted):
                if await self._status(plan_id) is not PlanStatus.EXECUTING:
                    self._submitted.discard(plan_id)
            if self._submitted:
                await asyncio.sleep(self.poll_seconds)
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def shutdown(self) -> None:
        """Let the jobs being queued reach the queue (for a few seconds), stop following, close the pool."""
        tasks = list(self._tasks)
        deferring = [t for t in tasks if t.get_name().startswith("defer-")]
        if deferring:
            await asyncio.wait(deferring, timeout=DEFER_GRACE_SECONDS)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._opened:
            self._opened = False
            await self.app.close_async()


@dataclass
class QueueSends:
    """Each list's send is a job on the ``outreach`` queue (keyed by the list: queued once, one worker at a
    time); the worker runs ``sending.send_list``. Nothing is sent from this process."""

    runs: QueueRunQueue
    """Whose app (and connection pool) the jobs are queued through."""

    async def start(self, list_id: int, *, session_id: str | None) -> None:
        app = await self.runs.opened()
        key = send_key(list_id)
        if await live_jobs(app, key):  # running: a second would only wait for it, then find nothing due
            raise already_sending(list_id)
        if not await defer_once(
            app, SEND_TASK, key=key, queue=OUTREACH_QUEUE, list_id=list_id, session_id=session_id
        ):
            raise already_sending(list_id)

    async def sending(self, list_id: int) -> bool:
        return bool(await live_jobs(await self.runs.opened(), send_key(list_id)))

    async def shutdown(self) -> None:
        """Nothing runs here; the run queue closes the shared app."""


@dataclass
class QueueChecks:
    """ "Check this monitor now" as a job a worker runs (keyed by the monitor, like the scheduled checks); the
    request waits for the run it records. Nothing is checked from this process."""

    runs: QueueRunQueue
    """Whose app (and connection pool) the jobs are queued through."""
    monitors: Monitors
    poll_seconds: float = 0.2
    wait_seconds: float = CHECK_WAIT_SECONDS

    async def run_now(self, monitor_id: int, *, session_id: str | None) -> MonitorRun:
        await self.monitors.get(monitor_id, session_id=session_id)  # NotFoundError: not this session's
        before = await self._last_run_id(monitor_id)
        app = await self.runs.opened()
        key = monitor_key(monitor_id)
        if not await defer_once(
            app, MONITOR_CHECK_TASK, key=key, queue=PLANS_QUEUE, monitor_id=monitor_id, kind="manual"
        ):
            raise ConflictError(f"monitor {monitor_id} is waiting to be checked already")
        return await self._recorded(app, monitor_id, key, after=before)

    async def _last_run_id(self, monitor_id: int) -> int:
        runs = await self.monitors.store.runs(monitor_id)  # whose it is was checked in run_now
        return max((run.id or 0 for run in runs), default=0)

    async def _new_run(self, monitor_id: int, *, after: int) -> MonitorRun | None:
        runs = await self.monitors.store.runs(monitor_id)
        return next((r for r in runs if (r.id or 0) > after and r.kind == "manual"), None)

    async def _recorded(self, app: procrastinate.App, monitor_id: int, key: str, *, after: int) -> MonitorRun:
        """The monitor's manual run recorded after run ``after`` (the job ends with it); ``ConflictError``
        when the job ended without one (another runner held the monitor), or after ``wait_seconds``."""
        deadline = time.monotonic() + self.wait_seconds
        while time.monotonic() < deadline:
            if (run := await self._new_run(monitor_id, after=after)) is not None:
                return run
            if not await live_jobs(app, key):  # ended: its run was recorded just before, or there is none
                if (run := await self._new_run(monitor_id, after=after)) is not None:
                    return run
                raise ConflictError(f"monitor {monitor_id} is being run by another process right now")
            await asyncio.sleep(self.poll_seconds)
        raise ConflictError(f"monitor {monitor_id}'s check is still running; its run will show in the list")
