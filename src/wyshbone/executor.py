"""SUP-002: run an approved plan step by step: dependency order, bounded concurrency, retries with backoff,
provider fallback, skips, cancellation; every transition persisted as an event before anyone is told.

Decisions come from ``domain.execution`` and ``domain.retry``; this module only waits, runs and writes.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from wyshbone.clock import Clock, system_clock
from wyshbone.domain.execution import Blocked, Frontier, overall_status
from wyshbone.domain.models import (
    LeadGenExecutionResult,
    LeadGenPlan,
    LeadGenPlanStep,
    LeadGenStepResult,
    LeadGenStepStatus,
    LeadToolExecutionEnv,
    LeadToolExecutionResult,
    OverallStatus,
    PlanEvent,
    PlanEventType,
    SupervisorUserContext,
)
from wyshbone.domain.retry import next_delay
from wyshbone.domain.steps import StepOutput, StepParams
from wyshbone.errors import ToolError
from wyshbone.storage.plans import MemoryPlanRepository, PlanRepository
from wyshbone.tools.registry import Provider, ToolRegistry, ToolSpec, run_lead_tool

logger = logging.getLogger("wyshbone.plan")

E = PlanEventType
Status = LeadGenStepStatus
EventCallback = Callable[[PlanEvent], Awaitable[None] | None]


@dataclass
class Runtime:
    """What a plan run needs from the outside world; tests pass a fake clock and sleep."""

    registry: ToolRegistry
    plans: PlanRepository = field(default_factory=MemoryPlanRepository)
    """Where the run's events and step results are written (in memory unless given)."""
    clock: Clock = system_clock
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    max_concurrency: int = 4
    """Independent ready steps run side by side, at most this many at once."""


def plan_event(
    plan: LeadGenPlan,
    type_: PlanEventType,
    *,
    at: datetime,
    user_id: str | None = None,
    step: LeadGenPlanStep | None = None,
    **fields: Any,
) -> PlanEvent:
    """The one way an event is made, by the executor's run and by whatever else speaks for a plan (a cancel
    before approval, a crashed run): stamped ``at``, for the plan's user unless ``user_id`` says otherwise."""
    return PlanEvent(
        timestamp=at,
        type=type_,
        plan_id=plan.id,
        user_id=user_id or plan.user_id,
        step_id=step.id if step else None,
        step_tool=step.tool if step else None,
        **fields,
    )


async def emit_plan_event(
    event: PlanEvent,
    *,
    plans: PlanRepository,
    on_event: EventCallback | None = None,
    step_result: LeadGenStepResult | None = None,
) -> PlanEvent:
    """Persist ``event`` (with the step result it finalises, atomically), log it, then publish it.

    Written under ``asyncio.shield`` so that cancelling a run cannot lose a transition it already made.
    """
    stored = await asyncio.shield(plans.append_event(event, step_result=step_result))
    if logger.isEnabledFor(logging.INFO):
        line = stored.model_dump(
            mode="json", exclude_none=True, exclude={"data"} if not stored.data else set()
        )
        logger.info("[LEAD_GEN_PLAN] %s", json.dumps(line, separators=(",", ":")))
    if on_event is not None:
        outcome = on_event(stored)
        if inspect.isawaitable(outcome):
            await outcome
    return stored


@dataclass
class _Run:
    """One execution of one plan: its results so far and how it reports."""

    plan: LeadGenPlan
    user: SupervisorUserContext
    rt: Runtime
    on_event: EventCallback | None
    results: dict[str, LeadGenStepResult] = field(default_factory=dict)

    async def emit(self, type_: PlanEventType, step: LeadGenPlanStep | None = None, **fields: Any) -> None:
        result = fields.pop("step_result", None)
        event = plan_event(
            self.plan, type_, at=self.rt.clock(), user_id=self.user.user_id, step=step, **fields
        )
        await emit_plan_event(event, plans=self.rt.plans, on_event=self.on_event, step_result=result)

    async def finish_step(
        self, step: LeadGenPlanStep, result: LeadGenStepResult, type_: PlanEventType
    ) -> None:
        self.results[step.id] = result
        summary = _summary(result.data)
        await self.emit(
            type_,
            step,
            status=result.status.value,
            attempt=result.attempts or None,
            provider=result.provider,
            error_message=result.error_message,
            data=summary,
            step_result=result,
        )

    def env(self, step: LeadGenPlanStep) -> LeadToolExecutionEnv:
        # model_construct: the plan and results are already validated; re-validating them per step is O(n²).
        return LeadToolExecutionEnv.model_construct(
            user=self.user, plan=self.plan, prior_results=dict(self.results), step_id=step.id
        )


def _summary(data: dict[str, Any] | None) -> dict[str, Any]:
    """The small part of a step's data that goes into its event (the whole data stays in the step result)."""
    if not data:
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str | int | float | bool) or v is None}


async def execute_lead_generation_plan(
    plan: LeadGenPlan,
    user: SupervisorUserContext,
    *,
    on_event: EventCallback | None = None,
    runtime: Runtime | None = None,
    registry: ToolRegistry | None = None,
    cancel: asyncio.Event | None = None,
    resume: Mapping[str, LeadGenStepResult] | None = None,
) -> LeadGenExecutionResult:
    """Execute ``plan`` to the end and return its result; every transition goes through ``emit_plan_event``.

    ``resume`` holds results from an earlier, interrupted run: steps that succeeded there are not run again.
    Setting ``cancel`` stops new steps, cancels running ones and emits ``PLAN_CANCELLED``. Cancelling the task
    instead is an interruption (shutdown): running steps stop, nothing more is recorded, and a later run with
    ``resume`` carries on.
    """
    if runtime is None:
        if registry is None:
            raise TypeError("execute_lead_generation_plan needs a runtime= or a registry=")
        runtime = Runtime(registry=registry)
    run = _Run(plan, user, runtime, on_event)
    run.results.update({k: v for k, v in (resume or {}).items() if v.status is Status.SUCCEEDED})
    started_at = runtime.clock()
    if cancel is not None and cancel.is_set():  # cancelled while it waited for a slot: nothing ran
        await run.emit(E.PLAN_CANCELLED, status=OverallStatus.CANCELLED.value)
        return _result(run, OverallStatus.CANCELLED, started_at, finished_at=started_at)
    steps_meta = [{"stepId": s.id, "title": s.title, "tool": s.tool} for s in plan.steps]
    await run.emit(
        E.PLAN_STARTED, status="executing", data={"steps": steps_meta, "resumed": bool(run.results)}
    )
    cancelled = await _drive(run, cancel)
    status = OverallStatus.CANCELLED if cancelled else overall_status(plan, run.results)
    if cancelled:
        await run.emit(E.PLAN_CANCELLED, status=status.value)
    else:
        await run.emit(E.PLAN_COMPLETED, status=status.value)
    return _result(run, status, started_at, finished_at=runtime.clock())


def _result(
    run: _Run, status: OverallStatus, started_at: datetime, *, finished_at: datetime
) -> LeadGenExecutionResult:
    """The run's result: its steps' results in the plan's order."""
    ordered = [run.results[s.id] for s in run.plan.steps if s.id in run.results]
    return LeadGenExecutionResult(
        plan_id=run.plan.id,
        overall_status=status,
        started_at=started_at,
        finished_at=finished_at,
        step_results=ordered,
    )


async def announce_queued(
    plan: LeadGenPlan,
    user: SupervisorUserContext,
    *,
    runtime: Runtime,
    on_event: EventCallback | None,
    ahead: int,
) -> None:
    """Record that the approved plan waits for a free run slot (``ahead`` plans are waiting before it)."""
    await _Run(plan, user, runtime, on_event).emit(E.PLAN_QUEUED, status="queued", data={"ahead": ahead})


async def _drive(run: _Run, cancel: asyncio.Event | None) -> bool:
    """Start ready steps until none are left; True when the run was cancelled."""
    frontier = Frontier(run.plan, run.results)
    waiting: deque[LeadGenPlanStep] = deque()
    running: dict[asyncio.Future[Any], LeadGenPlanStep] = {}
    cancel_wait = asyncio.ensure_future(cancel.wait()) if cancel else None
    try:
        await _absorb(run, frontier, frontier.start(), waiting)
        while True:
            while waiting and len(running) < run.rt.max_concurrency:
                step = waiting.popleft()
                running[asyncio.ensure_future(execute_step_with_retries(run, step))] = step
            if not running:
                return False
            watched = set(running) if cancel_wait is None else {*running, cancel_wait}
            done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
            if cancel_wait is not None and cancel_wait.done():
                await asyncio.shield(_cancel_running(run, running))
                return True
            for task in done:
                step = running.pop(task)
                task.result()  # a step records its own result; anything raised here is an executor bug
                await _absorb(run, frontier, frontier.finish(run.results[step.id]), waiting)
    except asyncio.CancelledError:
        # The task itself was cancelled (shutdown, Ctrl-C): an interruption, not a decision to cancel the plan.
        # Stop the steps and record nothing more; the plan stays executing and resumes from its stored results.
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        raise
    finally:
        if cancel_wait is not None:
            cancel_wait.cancel()


async def _absorb(
    run: _Run,
    frontier: Frontier,
    moves: tuple[list[LeadGenPlanStep], list[Blocked]],
    waiting: deque[LeadGenPlanStep],
) -> None:
    """Queue newly ready steps; record skips for blocked ones (and whatever their skip blocks in turn)."""
    ready, blocked = moves
    waiting.extend(ready)
    for item in blocked:
        step = run.plan.step(item.step_id)
        now = run.rt.clock()
        result = LeadGenStepResult(
            step_id=step.id, status=Status.SKIPPED, error_message=item.reason, started_at=now, finished_at=now
        )
        await run.finish_step(step, result, E.STEP_SKIPPED)
        await _absorb(run, frontier, frontier.finish(result), waiting)


async def _cancel_running(run: _Run, running: dict[asyncio.Future[Any], LeadGenPlanStep]) -> None:
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    for step in running.values():
        if step.id not in run.results:
            now = run.rt.clock()
            result = LeadGenStepResult(
                step_id=step.id,
                status=Status.CANCELLED,
                finished_at=now,
                error_message="cancelled while running",
            )
            await run.finish_step(step, result, E.STEP_FAILED)
    running.clear()


async def execute_step_with_retries(run: _Run, step: LeadGenPlanStep) -> None:
    """Run one step through its provider chain, retrying each provider by its policy, and record the result."""
    spec = run.rt.registry.spec(step.tool)
    providers = spec.usable()
    started = run.rt.clock()
    if not providers:
        result = LeadGenStepResult(
            step_id=step.id,
            status=Status.SKIPPED,
            started_at=started,
            finished_at=started,
            error_message=f"{spec.unavailable_reason()}",
            skipped_by_design=True,
        )
        await run.finish_step(step, result, E.STEP_SKIPPED)
        return
    try:
        params = step.params_as(spec.params)
    except ValidationError as exc:
        # The planner checks built-in tools' params; this is a stored plan from elsewhere, or a custom tool's.
        failed = _failed(step, 0, providers[0].info.name, f"the step's params do not fit {step.tool}: {exc}")
        await run.finish_step(
            step, failed.model_copy(update={"started_at": started, "finished_at": started}), E.STEP_FAILED
        )
        return
    await _through_providers(run, step, _Ask(spec, params, providers), started)


@dataclass(frozen=True, slots=True)
class _Ask:
    """A step's tool, its params read as the tool's model (once), and the providers to try in turn."""

    spec: ToolSpec
    params: StepParams
    providers: Sequence[Provider[Any]]


@dataclass(frozen=True, slots=True)
class _Served:
    """A provider that found something for the step: its name, its typed output and the result recorded."""

    name: str
    output: StepOutput
    result: LeadGenStepResult


async def _through_providers(run: _Run, step: LeadGenPlanStep, ask: _Ask, started: datetime) -> None:
    """Try each provider in turn (each with its retries), topping up a short search from the next; record the
    step's result: the first final one, the merged searches, or every provider's failure."""
    providers = ask.providers
    await run.emit(E.STEP_STARTED, step, status="running", attempt=1, provider=providers[0].info.name)
    attempts, failures, found = 0, list[str](), list[_Served]()
    for index, provider in enumerate(providers):
        name = provider.info.name
        if index:
            await run.emit(
                E.STEP_FALLBACK,
                step,
                status="running",
                attempt=attempts + 1,
                provider=name,
                error_message=failures[-1],
                data={"from": providers[index - 1].info.name, "to": name},
            )
        outcome = await _try_provider(run, step, ask, provider, attempts)
        attempts = outcome.attempts
        served = outcome.result
        if served is not None and outcome.output is not None and ask.spec.merge is not None:
            found.append(_Served(name, outcome.output, served))
            short = _shortfall(outcome.output, ask.params)
            if short is None or index == len(providers) - 1:
                break
            failures.append(f"{name}: found {short[0]} of {short[1]}; topping up")
            continue
        if served is not None:
            final = served.model_copy(update={"started_at": started, "finished_at": run.rt.clock()})
            event = E.STEP_SUCCEEDED if final.status is Status.SUCCEEDED else E.STEP_FAILED
            await run.finish_step(step, final, event)
            return
        failures.append(
            outcome.failure if outcome.failure.startswith(f"{name}:") else f"{name}: {outcome.failure}"
        )
    if found:
        await _finish_merged(run, step, found, started, attempts)
        return
    failed = _failed(step, attempts, providers[-1].info.name, "; ".join(failures))
    await run.finish_step(
        step, failed.model_copy(update={"started_at": started, "finished_at": run.rt.clock()}), E.STEP_FAILED
    )


async def _finish_merged(
    run: _Run, step: LeadGenPlanStep, found: list[_Served], started: datetime, attempts: int
) -> None:
    """Record what the providers that served the step found, merged when more than one did."""
    merge = run.rt.registry.spec(step.tool).merge
    data = (
        merge([s.output for s in found]).to_json_dict() if merge and len(found) > 1 else found[0].result.data
    )
    merged = LeadGenStepResult(
        step_id=step.id,
        status=Status.SUCCEEDED,
        started_at=started,
        finished_at=run.rt.clock(),
        attempts=attempts,
        data=data,
        provider="+".join(s.name for s in found),
    )
    await run.finish_step(step, merged, E.STEP_SUCCEEDED)


def _shortfall(output: StepOutput, params: StepParams) -> tuple[int, int] | None:
    """(found, wanted) when a provider found fewer than the step asked for; None when it found enough."""
    wanted = params.wanted_items()
    count = output.result_count
    if wanted is not None and count is not None and count < wanted:
        return count, wanted
    return None


def _typed_output(spec: ToolSpec, result: LeadToolExecutionResult) -> StepOutput:
    """The tool's typed output; a provider that gave only JSON (a plugin's) has it read as the tool's model, or,
    when it does not fit, for its ``resultCount`` alone."""
    if result.output is not None:
        return result.output
    try:
        return spec.output.model_validate(result.data or {})
    except ValidationError:
        return StepOutput.model_validate(result.data or {})


@dataclass(frozen=True, slots=True)
class _Outcome:
    attempts: int
    result: LeadGenStepResult | None = None
    """Final for the step (success, or a bug); None → fall back to the next provider."""
    failure: str = ""
    output: StepOutput | None = None
    """The typed output, when the provider succeeded."""


async def _try_provider(
    run: _Run, step: LeadGenPlanStep, ask: _Ask, provider: Provider[Any], attempts: int
) -> _Outcome:
    policy = ask.spec.retry_policy
    name = provider.info.name
    attempt = 0
    while True:
        attempt += 1
        attempts += 1
        try:
            res = await run_lead_tool(
                step.tool, ask.params, run.env(step), registry=run.rt.registry, provider=name
            )
        except ToolError as exc:
            delay = next_delay(policy, attempt, exc)
            if delay is None:
                return _Outcome(attempts, failure=exc.message)
            await run.emit(
                E.STEP_RETRYING,
                step,
                status="running",
                attempt=attempts + 1,
                provider=name,
                error_message=exc.message,
                data={"delaySeconds": delay},
            )
            await run.rt.sleep(delay)
            continue
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
            return _Outcome(attempts, result=_failed(step, attempts, name, message))
        if not res.success:
            return _Outcome(attempts, failure=res.error_message or "the provider reported failure")
        output = _typed_output(ask.spec, res)
        if output.result_count == 0:
            return _Outcome(attempts, failure="found nothing")
        ok = LeadGenStepResult(
            step_id=step.id, status=Status.SUCCEEDED, attempts=attempts, data=res.data, provider=name
        )
        return _Outcome(attempts, result=ok, output=output)


def _failed(step: LeadGenPlanStep, attempts: int, provider: str, message: str) -> LeadGenStepResult:
    return LeadGenStepResult(
        step_id=step.id, status=Status.FAILED, attempts=attempts, error_message=message, provider=provider
    )
