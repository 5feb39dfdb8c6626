"""Queue mode's worker (``wyshbone worker``): the procrastinate tasks it runs (a plan's run, a list's send, a
monitor's check; the periodic sweep that retries the jobs of workers that died and re-queues plans nobody
holds; the periodic look for due monitors) and the loop that runs them.

A plan runs here exactly as in embedded mode (``InProcessRunQueue.run`` → ``Plans.run_plan``), resuming from
its stored step results, under a lease this worker takes over with a conditional update and renews.
``procrastinate --app=wyshbone.worker.app …`` watches the queue (see docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import procrastinate
from procrastinate import JobContext, RetryDecision
from procrastinate.app import WorkerOptions
from procrastinate.job_context import AbortReason
from procrastinate.jobs import Job, Status

from wyshbone.bootstrap import AppContext, open_context
from wyshbone.config import Settings
from wyshbone.domain.models import LeadGenPlan, PlanStatus
from wyshbone.errors import ConflictError, NotFoundError
from wyshbone.services.plans import Plans
from wyshbone.services.queue import (
    MAINTENANCE_QUEUE,
    MONITOR_CHECK_TASK,
    OUTREACH_QUEUE,
    PLANS_QUEUE,
    RUN_PLAN_TASK,
    SEND_TASK,
    defer_once,
    defer_run,
    end_unstarted,
    libpq_url,
    live_jobs,
    monitor_key,
    queue_app,
)
from wyshbone.services.runs import InProcessRunQueue
from wyshbone.services.sending import send_list
from wyshbone.storage.queue_schema import ensure_queue_schema
from wyshbone.storage.run_claims import SqlRunClaims

__all__ = ["PlanJobs", "PlanRunRetry", "retry_decision", "run_worker", "worker_app"]

logger = logging.getLogger("wyshbone.worker")

SWEEP_TASK = "wyshbone.sweep"
MONITORS_DUE_TASK = "wyshbone.monitors_due"
SHUTDOWN_GRACE_SECONDS = 5.0
"""A worker asked to stop lets its plans run this long, then interrupts them (they resume on another)."""
ABORT_POLL_SECONDS = 0.5
"""How often a worker asks for cancel requests besides being told (LISTEN/NOTIFY): a cancel lands within it."""
TAKE_POLL_SECONDS = 0.5
MAX_ATTEMPTS = 20
JOBS_KEPT_HOURS = 7 * 24
"""Finished jobs (succeeded, failed, cancelled, aborted) stay this long in the queue's tables, to look back on;
the plans, their events and results are ours and stay. The maintenance queue's own go after an hour."""
PRUNE_EVERY_SECONDS = 3600.0
RESTART_FIRST_SECONDS = 1.0
"""After the job queue stopped under a worker (its database went away), the first pause before starting again;
it doubles each time, up to ``RESTART_MAX_SECONDS``."""
RESTART_MAX_SECONDS = 30.0
RESTART_RESET_SECONDS = 120.0
"""A job queue that ran this long before it stopped had been working: its next pause is the first again. (A try
against a database that is still down can itself take half a minute, the pool's wait for a connection.)"""


def retry_decision(exception: BaseException, attempts: int) -> RetryDecision | None:
    """Whether and when a plan's job runs again: at once after its worker's shutdown interrupted it (the plan
    resumes on another worker), after a growing wait when the store failed under it; never past
    ``MAX_ATTEMPTS``."""
    if attempts >= MAX_ATTEMPTS:
        return None
    if isinstance(exception, asyncio.CancelledError):
        return RetryDecision(retry_in={"seconds": 0})
    return RetryDecision(retry_in={"seconds": min(60, 2 * (attempts + 1))})


class PlanRunRetry(procrastinate.BaseRetryStrategy):
    """``retry_decision`` as procrastinate asks for it."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        return retry_decision(exception, job.attempts)


def every_cron(seconds: float) -> str:
    """A cron line (with procrastinate's seconds column) firing about every ``seconds``: every N seconds up to
    30, every N minutes up to 30, else hourly."""
    if seconds < 60:
        return f"* * * * * */{max(1, min(30, int(seconds)))}"
    minutes = int(seconds // 60)
    return f"*/{minutes} * * * *" if minutes <= 30 else "0 * * * *"


def _sweep_cron(settings: Settings) -> str:
    """Every third of the stalled-worker timeout, at least every 30 s."""
    return every_cron(min(30, settings.queue_stalled_seconds / 3))


@dataclass
class PlanJobs:
    """What the tasks do, over one application context per worker process (opened by the first job)."""

    settings: Settings
    _context: AppContext | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _pruned_at: float = -PRUNE_EVERY_SECONDS

    async def context(self) -> AppContext:
        async with self._lock:
            if self._context is None:
                self._context = await open_context(self.settings, listen=False)
            return self._context

    async def close(self) -> None:
        if self._context is not None:
            await self._context.close()
            self._context = None

    async def run_plan(
        self, job: JobContext, *, plan_id: str, session_id: str | None, holder: str | None
    ) -> None:
        """Take the plan over and run it to the end here; a cancel request (the job's abort) ends it
        cancelled, a shutdown interrupts it (released, to resume on another worker)."""
        context = await self.context()
        # Each run holds the plan as its own owner: a job retried while its first run still goes on (its
        # worker's heartbeat was late, not dead) waits for that run's lease instead of running beside it.
        plans = dataclasses.replace(context.plans, owner=f"{context.owner}#{job.job.id}.{job.job.attempts}")
        try:
            plan = await self._take(context, plans, plan_id, holder)
        except asyncio.CancelledError:
            if job.abort_reason() is not AbortReason.USER_REQUEST:
                raise  # a shutdown: the job is retried at once, on another worker
            if (found := await context.repos.plans.get(plan_id)) is not None:
                await end_unstarted(plans, found)
            return
        if plan is None:
            return
        runner = InProcessRunQueue(
            plans=plans,
            plan_store=context.repos.plans,
            session_store=context.repos.sessions,
            max_concurrent_plans=1,
            lease_seconds=self.settings.run_lease_seconds,
        )
        logger.info("plan %s: running here (job %s, attempt %d)", plan_id, job.job.id, job.job.attempts + 1)
        runner.submit(plan, session_id=session_id)
        try:
            await asyncio.shield(runner.wait_idle())
        except asyncio.CancelledError:
            if job.abort_reason() is not AbortReason.USER_REQUEST:
                await runner.shutdown()
                raise
            logger.info("plan %s: cancel requested, stopping it", plan_id)
            runner.stop(plan_id)
            await runner.wait_idle()

    async def _take(
        self, context: AppContext, plans: Plans, plan_id: str, holder: str | None
    ) -> LeadGenPlan | None:
        """The plan, held by this worker now; None when it is not executing (finished, cancelled) or another
        live process still holds it (waiting for a dead holder's lease to run out first)."""
        assert context.repos.database is not None  # queue mode runs on Postgres
        claims = SqlRunClaims(context.repos.database)
        deadline = time.monotonic() + self.settings.run_lease_seconds + 2 * TAKE_POLL_SECONDS
        while True:
            head = await context.repos.plans.head(plan_id)  # its status only, while waiting
            if head is None or head.status is not PlanStatus.EXECUTING:
                return None
            if await claims.take(plan_id, lease=plans.lease(), holder=holder, now=context.clock()):
                return await context.repos.plans.get(plan_id)
            if time.monotonic() >= deadline:
                logger.warning("plan %s is held by a live process elsewhere; leaving it there", plan_id)
                return None
            await asyncio.sleep(TAKE_POLL_SECONDS)

    async def sweep(self, app: procrastinate.App) -> None:
        """Retry the jobs of workers that stopped beating (each resumes its plan), then queue again the plans
        left executing with no job and no live holder (e.g. a web server died between approval and queuing)."""
        manager = app.job_manager
        stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=self.settings.queue_stalled_seconds)
        # The stalled jobs come without their abort flag: asked for separately (a cancel must not be lost).
        aborting = set(await manager.list_jobs_to_abort_async(queue=PLANS_QUEUE)) if stalled else set()
        for job in stalled:
            try:
                if job.id in aborting and job.task_name == RUN_PLAN_TASK:
                    await self._end_aborted(manager, job)
                    continue
                logger.warning("retrying job %s (%s): its worker stopped beating", job.id, job.call_string)
                await manager.retry_job(job)
            except Exception:  # retried by another sweep meanwhile, say: the next sweep sees
                logger.exception("could not retry or end job %s", job.id)
        await manager.delete_old_jobs(nb_hours=1, queue=MAINTENANCE_QUEUE)  # the sweeps' own, done
        if time.monotonic() - self._pruned_at >= PRUNE_EVERY_SECONDS:  # the rest once in a while
            self._pruned_at = time.monotonic()
            await manager.delete_old_jobs(
                nb_hours=JOBS_KEPT_HOURS, include_failed=True, include_cancelled=True, include_aborted=True
            )
        context = await self.context()
        assert context.repos.database is not None
        for orphan in await SqlRunClaims(context.repos.database).orphans(now=context.clock()):
            if not await live_jobs(app, orphan.plan_id):
                logger.warning("plan %s has no job and no live holder: queuing it again", orphan.plan_id)
                await defer_run(
                    app, plan_id=orphan.plan_id, session_id=orphan.session_id, holder=orphan.holder
                )

    async def send(self, *, list_id: int, session_id: str | None) -> None:
        """Send the list's due messages (each claimed once: a send retried after its worker died sends only
        what was not sent)."""
        context = await self.context()
        await send_list(context.outreach, list_id, session_id=session_id)

    async def queue_due_monitors(self, app: procrastinate.App) -> int:
        """Queue a check of every due monitor (at most one queued per monitor); how many were queued."""
        context = await self.context()
        queued = 0
        for monitor_id in await context.monitors.due():
            key = monitor_key(monitor_id)
            queued += await defer_once(
                app, MONITOR_CHECK_TASK, key=key, queue=PLANS_QUEUE, monitor_id=monitor_id
            )
        return queued

    async def check_monitor(self, *, monitor_id: int, kind: str) -> None:
        """Run the monitor's check here if nobody else runs it and (``scheduled``) it is still due, else
        nothing; ``manual``: asked for by hand (``QueueChecks`` waits for its run)."""
        context = await self.context()
        try:
            run = await context.monitors.run(monitor_id, kind="manual" if kind == "manual" else "scheduled")
        except (ConflictError, NotFoundError) as exc:
            logger.info("monitor %s not checked: %s", monitor_id, exc)
            return
        logger.info("monitor %s checked (plan %s): %s", monitor_id, run.plan_id, run.status)

    async def _end_aborted(self, manager: procrastinate.manager.JobManager, job: Job) -> None:
        """A plan's job whose worker died after its cancel was asked for: the job ends aborted and the plan
        cancelled, instead of running again on another worker."""
        assert job.id is not None
        plan_id = str(job.task_kwargs["plan_id"])
        logger.warning("plan %s: cancelled, and the worker running it stopped beating; ending it", plan_id)
        await manager.finish_job_by_id_async(job.id, Status.ABORTED, delete_job=False)
        context = await self.context()
        if (plan := await context.repos.plans.get(plan_id)) is not None:
            await end_unstarted(context.plans, plan, reason="cancelled; the worker running it had stopped")


def worker_app(settings: Settings, *, concurrency: int = 1) -> tuple[procrastinate.App, PlanJobs]:
    """The procrastinate app with the workers' tasks, and what they run over."""
    app = queue_app(settings, max_connections=concurrency + 3)
    jobs = PlanJobs(settings)

    @app.task(name=RUN_PLAN_TASK, queue=PLANS_QUEUE, pass_context=True, retry=PlanRunRetry())
    async def run_plan(
        job: JobContext, plan_id: str, session_id: str | None = None, holder: str | None = None
    ) -> None:
        await jobs.run_plan(job, plan_id=plan_id, session_id=session_id, holder=holder)

    @app.periodic(cron=_sweep_cron(settings), periodic_id="sweep")
    @app.task(name=SWEEP_TASK, queue=MAINTENANCE_QUEUE)
    async def sweep(timestamp: int) -> None:
        await jobs.sweep(app)

    @app.task(name=SEND_TASK, queue=OUTREACH_QUEUE)
    async def send_outreach(list_id: int, session_id: str | None = None) -> None:
        await jobs.send(list_id=list_id, session_id=session_id)

    @app.task(name=MONITOR_CHECK_TASK, queue=PLANS_QUEUE)
    async def check_monitor(monitor_id: int, kind: str = "scheduled") -> None:
        await jobs.check_monitor(monitor_id=monitor_id, kind=kind)

    if settings.monitor_tick_seconds > 0:  # 0: monitors are left to cron (wyshbone monitors run-due)

        @app.periodic(cron=every_cron(settings.monitor_tick_seconds), periodic_id="monitors")
        @app.task(name=MONITORS_DUE_TASK, queue=MAINTENANCE_QUEUE)
        async def monitors_due(timestamp: int) -> None:
            await jobs.queue_due_monitors(app)

    return app, jobs


async def run_worker(settings: Settings, *, concurrency: int, queues: list[str] | None = None) -> None:
    """Run jobs (``concurrency`` at once) until SIGINT/SIGTERM; plans still running after a short grace are
    interrupted and resume on another worker. When the queue stops under it (the database went away), the worker
    says so and starts again once the database answers, rather than ending. ``SetupError`` when the database
    cannot be reached at start."""
    assert settings.database_url is not None
    app, jobs = worker_app(settings, concurrency=concurrency)
    options: WorkerOptions = {
        "concurrency": concurrency,
        "update_heartbeat_interval": settings.queue_heartbeat_seconds,
        "stalled_worker_timeout": settings.queue_stalled_seconds,
        "shutdown_graceful_timeout": SHUTDOWN_GRACE_SECONDS,
        "abort_job_polling_interval": ABORT_POLL_SECONDS,
        "install_signal_handlers": False,  # ours: a stop asked for is told from the queue stopping by itself
    }
    if queues:
        options["queues"] = queues
    stop = _stop_on_signals()
    try:
        await jobs.context()  # the gazetteer and the store (migrated), opened before the first job
        await ensure_queue_schema(libpq_url(settings.database_url))  # SetupError: unreachable
        async with app.open_async():
            logger.info(
                "wyshbone worker ready: %d at once, queues %s", concurrency, ", ".join(queues or ["all"])
            )
            await _work_until_stopped(app, options, stop)
    finally:
        await jobs.close()
    logger.info("wyshbone worker stopped")


async def _work_until_stopped(app: procrastinate.App, options: WorkerOptions, stop: asyncio.Event) -> None:
    """Run procrastinate's worker until ``stop``; start it again (after a growing pause) whenever it ends by
    itself, as it does when its connection to the database fails."""
    pause = RESTART_FIRST_SECONDS
    while not stop.is_set():
        began = time.monotonic()
        running = asyncio.create_task(app.run_worker_async(**options), name="procrastinate-worker")
        stopping = asyncio.create_task(stop.wait(), name="stop-asked")
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            logger.info("wyshbone worker stopping: the plans running here get %.0f s", SHUTDOWN_GRACE_SECONDS)
            running.cancel()  # procrastinate's graceful stop: no new jobs, a grace, then the rest interrupted
            await asyncio.gather(running, return_exceptions=True)
            return
        stopping.cancel()
        if time.monotonic() - began > RESTART_RESET_SECONDS:
            pause = RESTART_FIRST_SECONDS  # it had been running: a new outage starts with a short pause
        failure = running.exception() if not running.cancelled() else None
        said = " ".join(str(failure).split()) if failure else ""
        why = f"{type(failure).__name__}: {said}" if said else "its connection to the database failed"
        logger.warning("the job queue stopped (%s); starting again in %.0f s", why, pause)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
        pause = min(RESTART_MAX_SECONDS, pause * 2)


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def __getattr__(name: str) -> Any:
    """``wyshbone.worker.app``: the app over ``Settings()`` for procrastinate's own CLI (built on demand)."""
    if name == "app":
        return worker_app(Settings())[0]
    raise AttributeError(name)
