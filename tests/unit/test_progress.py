"""The progress projection (events → PlanProgress) for parallel, retried, skipped and fallback steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wyshbone.domain.models import PlanEvent
from wyshbone.domain.models import PlanEventType as E
from wyshbone.domain.progress import project

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STEPS = [
    {"stepId": "search", "title": "Search Wyshbone Global Database"},
    {"stepId": "enrich", "title": "Enrich Contact Data"},
    {"stepId": "outreach", "title": "Prepare Outreach"},
]


def ev(n: int, type_: E, step: str | None = None, **fields: object) -> PlanEvent:
    data = {"steps": STEPS} if type_ is E.PLAN_STARTED else fields.pop("data", {})
    return PlanEvent.model_validate(
        {
            "timestamp": T0 + timedelta(seconds=n),
            "type": type_,
            "planId": "p1",
            "userId": "u",
            "stepId": step,
            "data": data,
            **fields,
        }
    )


def statuses(events: list[PlanEvent]) -> list[tuple[str, str, int]]:
    return [(s.step_id, s.status.value, s.attempts) for s in project(events).steps]


def test_project_no_events_from_plan_steps_is_pending() -> None:
    progress = project([ev(0, E.PLAN_STARTED)][:0], plan_id="p1")
    assert (progress.overall_status.value, progress.total_steps, progress.steps) == ("pending", 0, [])


def test_project_running_step_sets_current_index() -> None:
    events = [
        ev(0, E.PLAN_STARTED),
        ev(1, E.STEP_STARTED, "search", attempt=1),
        ev(2, E.STEP_SUCCEEDED, "search", attempt=1, provider="local_directory"),
        ev(3, E.STEP_STARTED, "enrich", attempt=1),
    ]
    progress = project(events, session_id="s1")
    assert progress.model_dump(exclude={"steps"}) == {
        "planId": "p1",
        "sessionId": "s1",
        "overallStatus": "executing",
        "status": "executing",  # the same, under the name the progress widget reads
        "currentStepIndex": 1,
        "totalSteps": 3,
        "updatedAt": T0 + timedelta(seconds=3),
        "detail": None,
    }
    assert statuses(events) == [
        ("search", "completed", 1),
        ("enrich", "running", 1),
        ("outreach", "pending", 0),
    ]
    assert progress.steps[0].provider == "local_directory"
    assert progress.steps[0].title == "Search Wyshbone Global Database"


def test_project_retry_then_failure_then_skip_then_partial() -> None:
    events = [
        ev(0, E.PLAN_STARTED),
        ev(1, E.STEP_STARTED, "search", attempt=1),
        ev(2, E.STEP_SUCCEEDED, "search", attempt=1),
        ev(3, E.STEP_STARTED, "enrich", attempt=1),
        ev(4, E.STEP_RETRYING, "enrich", attempt=2, errorMessage="503"),
    ]
    mid = project(events)
    assert (mid.steps[1].status.value, mid.steps[1].attempts, mid.steps[1].error_message) == (
        "running",
        2,
        "503",
    )
    events += [
        ev(5, E.STEP_RETRYING, "enrich", attempt=3, errorMessage="503"),
        ev(6, E.STEP_FAILED, "enrich", attempt=3, errorMessage="503", status="failed"),
        ev(7, E.STEP_SKIPPED, "outreach", errorMessage="Skipped because 'Enrich' did not complete"),
        ev(8, E.PLAN_COMPLETED, status="partial"),
    ]
    end = project(events)
    assert end.steps[1].retry_in_seconds is None  # no longer waiting once it failed
    assert statuses(events) == [
        ("search", "completed", 1),
        ("enrich", "failed", 3),
        ("outreach", "skipped", 0),
    ]
    assert (end.overall_status.value, end.detail, end.current_step_index) == ("completed", "partial", 2)


def test_project_parallel_steps_and_fallback() -> None:
    events = [
        ev(0, E.PLAN_STARTED),
        ev(1, E.STEP_STARTED, "enrich", attempt=1, provider="a"),
        ev(2, E.STEP_STARTED, "outreach", attempt=1),
        ev(3, E.STEP_FALLBACK, "enrich", attempt=2, provider="b", errorMessage="a: found nothing"),
        ev(4, E.STEP_SUCCEEDED, "outreach", attempt=1),
    ]
    progress = project(events)
    assert statuses(events) == [
        ("search", "pending", 0),
        ("enrich", "running", 2),
        ("outreach", "completed", 1),
    ]
    assert progress.steps[1].provider == "b"
    assert progress.current_step_index == 1  # the first running step


def test_project_failed_plan_and_cancelled_plan() -> None:
    failed = project([ev(0, E.PLAN_STARTED), ev(1, E.PLAN_COMPLETED, status="failed")])
    cancelled = project(
        [ev(0, E.PLAN_STARTED), ev(1, E.STEP_FAILED, "search", status="cancelled"), ev(2, E.PLAN_CANCELLED)]
    )
    assert (failed.overall_status.value, failed.detail) == ("failed", "failed")
    assert (cancelled.overall_status.value, cancelled.steps[0].status.value) == ("cancelled", "cancelled")
