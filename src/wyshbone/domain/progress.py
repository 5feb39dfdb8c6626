"""The progress projection: a plan's event log → ``PlanProgress`` (the UI's contract). Pure.

Progress is never stored on its own; every reader (API, SSE, page, CLI) derives it from the events, so it
cannot drift from what happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from wyshbone.domain.models import (
    LeadGenPlan,
    PlanEvent,
    PlanEventType,
    PlanProgress,
    PlanStatus,
    ProgressOverallStatus,
    ProgressStepStatus,
    StepProgress,
)

E = PlanEventType
S = ProgressStepStatus

_STEP_STATUS: dict[PlanEventType, ProgressStepStatus] = {
    E.STEP_STARTED: S.RUNNING,
    E.STEP_RETRYING: S.RUNNING,
    E.STEP_FALLBACK: S.RUNNING,
    E.STEP_SUCCEEDED: S.COMPLETED,
    E.STEP_FAILED: S.FAILED,
    E.STEP_SKIPPED: S.SKIPPED,
}


def project(
    events: Iterable[PlanEvent],
    *,
    plan: LeadGenPlan | None = None,
    plan_id: str | None = None,
    session_id: str | None = None,
) -> PlanProgress:
    """Fold the events (in log order) into the plan's progress.

    The step list comes from ``plan`` when given, else from the ``PLAN_STARTED`` event's ``steps``.
    """
    steps: dict[str, StepProgress] = {}
    overall = ProgressOverallStatus.PENDING
    if plan is not None:
        _init_steps(steps, [(s.id, s.title) for s in plan.steps])
        plan_id = plan.id
        if plan.status is PlanStatus.EXECUTING:
            # Approved and handed to the executor, which has not written its first event yet.
            overall = ProgressOverallStatus.EXECUTING
    detail: str | None = None
    updated_at: datetime | None = None
    for event in events:
        plan_id = plan_id or event.plan_id
        updated_at = event.timestamp
        if event.type is E.PLAN_QUEUED:
            overall, detail = ProgressOverallStatus.EXECUTING, "queued"
        elif event.type is E.PLAN_STARTED:
            overall, detail = ProgressOverallStatus.EXECUTING, None
            if not steps:
                _init_steps(steps, [(s["stepId"], s["title"]) for s in event.data.get("steps", [])])
        elif event.type is E.PLAN_COMPLETED:
            detail = event.status
            failed = event.status == "failed"
            overall = ProgressOverallStatus.FAILED if failed else ProgressOverallStatus.COMPLETED
        elif event.type is E.PLAN_CANCELLED:
            detail = "cancelled"
            overall = ProgressOverallStatus.CANCELLED
        elif event.step_id in steps:
            _apply_step_event(steps[event.step_id], event)
    ordered = sorted(steps.values(), key=lambda s: s.index)
    return PlanProgress(
        plan_id=plan_id or "",
        session_id=session_id,
        overall_status=overall,
        current_step_index=_current_index(ordered),
        total_steps=len(ordered),
        steps=ordered,
        updated_at=updated_at,
        detail=detail,
    )


def _init_steps(steps: dict[str, StepProgress], items: list[tuple[str, str]]) -> None:
    for index, (sid, title) in enumerate(items):
        steps[sid] = StepProgress(step_id=sid, title=title, index=index, total_steps=len(items))


def _apply_step_event(step: StepProgress, event: PlanEvent) -> None:
    status = _STEP_STATUS.get(event.type)
    if status is None:
        return
    if event.type is E.STEP_FAILED and event.status == "cancelled":
        status = S.CANCELLED
    step.status = status
    if event.attempt is not None:
        step.attempts = max(step.attempts, event.attempt)
    if event.provider is not None:
        step.provider = event.provider
    # A retry or fallback shows why the previous attempt failed; success clears it.
    step.error_message = event.error_message
    step.retry_in_seconds = event.data.get("delaySeconds") if event.type is E.STEP_RETRYING else None


def _current_index(steps: list[StepProgress]) -> int:
    for wanted in (S.RUNNING, S.PENDING):
        for step in steps:
            if step.status is wanted:
                return step.index
    return max(len(steps) - 1, 0)
