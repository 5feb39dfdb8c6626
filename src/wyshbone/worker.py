"""Queue mode's worker (``wyshbone worker``): the procrastinate tasks it runs (a plan's run; the periodic sweep
that retries the jobs of workers that died and re-queues plans nobody holds) and the loop that runs them.

A plan runs here exactly as in embedded mode (``InProcessRunQueue.run`` → ``Plans.run_plan``), resuming from
its stored step results, under a lease this worker takes over with a conditional update and renews.
``procrastinate --app=wyshbone.worker.app …`` watches the queue (see docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
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
from wyshbone.services.plans import Plans
from wyshbone.services.queue import (
    MAINTENANCE_QUEUE,
    PLANS_QUEUE,
    RUN_PLAN_TASK,
    defer_run,
    end_unstarted,
    libpq_url,
    queue_app,
)
from wyshbone.services.runs import InProcessRunQueue
from wyshbone.storage.queue_schema import ensure_queue_schema
from wyshbone.storage.run_claims import SqlRunClaims

__all__ = ["PlanJobs", "PlanRunRetry", "retry_decision", "run_worker", "worker_app"]

logger = logging.getLogger("wyshbone.worker")

SWEEP_TASK = "wyshbone.sweep"
SHUTDOWN_GRACE_SECONDS = 5.0
"""A worker asked to stop lets its plans run this long, then interrupts them (they resume on another)."""
ABORT_POLL_SECONDS = 0.5
"""How often a worker asks for cancel requests besides being told (LISTEN/NOTIFY): a cancel lands within it."""
TAKE_POLL_SECONDS = 0.5
MAX_ATTEMPTS = 20


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


def _sweep_cron(settings: Settings) -> str:
    """Every third of the stalled-worker timeout (1 to 30 s), as a cron line with a seconds column."""
    every = max(1, min(30, int(settings.queue_stalled_seconds / 3)))
    return f"* * * * * */{every}"


@dataclass
class PlanJobs:
    """What the tasks do, over one application context per worker process (opened by the first job)."""

    settings: Settings
    _context: AppContext | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

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
            plan = await context.repos.plans.get(plan_id)
            if plan is None or plan.status is not PlanStatus.EXECUTING:
                return None
            if await claims.take(plan_id, lease=plans.lease(), holder=holder, now=context.clock()):
                return plan
            if time.monotonic() >= deadline:
                logger.warning("plan %s is held by a live process elsewhere; leaving it there", plan_id)
                return None
            await asyncio.sleep(TAKE_POLL_SECONDS)

    async def sweep(self, app: procrastinate.App) -> None:
        """Retry the jobs of workers that stopped beating (each resumes its plan), then queue again the plans
        left executing with no job and no live holder (e.g. a web server died between approval and queuing)."""
        manager = app.job_manager
        stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=self.settings.queue_stalled_seconds)
        for job in stalled:
            logger.warning("retrying job %s (%s): its worker stopped beating", job.id, job.call_string)
            try:
                await manager.retry_job(job)
            except Exception:  # retried by another sweep meanwhile, say: the next sweep sees
                logger.exception("could not retry job %s", job.id)
        await manager.delete_old_jobs(nb_hours=1, queue=MAINTENANCE_QUEUE)  # the sweeps' own, done
        context = await self.context()
        assert context.repos.database is not None
        for orphan in await SqlRunClaims(context.repos.database).orphans(now=context.clock()):
            live = [j for j in await manager.list_jobs_async(lock=orphan.plan_id) if _live(j)]
            if not live:
                logger.warning("plan %s has no job and no live holder: queuing it again", orphan.plan_id)
                await defer_run(
                    app, plan_id=orphan.plan_id, session_id=orphan.session_id, holder=orphan.holder
                )


def _live(job: Job) -> bool:
    return job.status in (Status.TODO.value, Status.DOING.value)


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

    return app, jobs


async def run_worker(settings: Settings, *, concurrency: int, queues: list[str] | None = None) -> None:
    """Run plan jobs (``concurrency`` at once) until SIGINT/SIGTERM; plans still running after a short grace
    are interrupted and resume on another worker."""
    assert settings.database_url is not None
    app, jobs = worker_app(settings, concurrency=concurrency)
    await ensure_queue_schema(libpq_url(settings.database_url))
    options: WorkerOptions = {
        "concurrency": concurrency,
        "update_heartbeat_interval": settings.queue_heartbeat_seconds,
        "stalled_worker_timeout": settings.queue_stalled_seconds,
        "shutdown_graceful_timeout": SHUTDOWN_GRACE_SECONDS,
        "abort_job_polling_interval": ABORT_POLL_SECONDS,
    }
    if queues:
        options["queues"] = queues
    try:
        await jobs.context()  # the gazetteer and the store, opened before the first job
        async with app.open_async():
            logger.info(
                "wyshbone worker ready: %d at once, queues %s", concurrency, ", ".join(queues or ["all"])
            )
            await app.run_worker_async(**options)
    finally:
        await jobs.close()


def __getattr__(name: str) -> Any:
    """``wyshbone.worker.app``: the app over ``Settings()`` for procrastinate's own CLI (built on demand)."""
    if name == "app":
        return worker_app(Settings())[0]
    raise AttributeError(name)
