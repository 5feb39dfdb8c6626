"""The executor against scripted tools, a fake clock and the in-memory plans repository."""

from __future__ import annotations

import asyncio

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.tools import ScriptedProvider, ok
from wyshbone.domain.models import (
    Lead,
    LeadGenGoal,
    LeadGenPlan,
    LeadGenPlanStep,
    LeadToolExecutionResult,
    OverallStatus,
    PlanEvent,
    SupervisorUserContext,
)
from wyshbone.domain.progress import project
from wyshbone.domain.retry import RetryPolicy
from wyshbone.domain.steps import SearchOutput, SearchParams
from wyshbone.errors import PermanentToolError, RetryableToolError
from wyshbone.executor import Runtime, execute_lead_generation_plan
from wyshbone.storage.plans import MemoryPlanRepository
from wyshbone.tools import ToolRegistry, ToolSpec

USER = SupervisorUserContext(user_id="u1")


def make_plan(*steps: tuple[str, str, list[str], bool]) -> LeadGenPlan:
    return LeadGenPlan(
        id="plan-1",
        user_id="u1",
        goal=LeadGenGoal(raw_goal="test"),
        steps=[
            LeadGenPlanStep(id=sid, title=sid.title(), tool=tool, depends_on=deps, required=required)
            for sid, tool, deps, required in steps
        ],
    )


async def run(plan: LeadGenPlan, *specs: ToolSpec, concurrency: int = 4):
    clock = FakeClock()
    plans = MemoryPlanRepository()
    events: list[PlanEvent] = []
    runtime = Runtime(
        registry=ToolRegistry.of(specs),
        plans=plans,
        clock=clock.now,
        sleep=clock.sleep,
        max_concurrency=concurrency,
    )
    result = await execute_lead_generation_plan(plan, USER, on_event=events.append, runtime=runtime)
    return result, events, clock, plans


def kinds(events: list[PlanEvent]) -> list[tuple[str, str | None]]:
    return [(e.type.value, e.step_id) for e in events]


THREE = (
    ("search", "SEARCH", [], True),
    ("enrich", "ENRICH", ["search"], False),
    ("outreach", "OUTREACH", ["enrich"], False),
)


async def test_executor_runs_chain_in_order_and_succeeds() -> None:
    result, events, clock, plans = await run(
        make_plan(*THREE),
        ToolSpec("SEARCH", (ScriptedProvider("p").provider(),)),
        ToolSpec("ENRICH", (ScriptedProvider("p").provider(),)),
        ToolSpec("OUTREACH", (ScriptedProvider("p").provider(),)),
    )
    assert result.overall_status is OverallStatus.SUCCEEDED
    assert [r.status.value for r in result.step_results] == ["succeeded"] * 3
    assert kinds(events) == [
        ("PLAN_STARTED", None),
        ("STEP_STARTED", "search"),
        ("STEP_SUCCEEDED", "search"),
        ("STEP_STARTED", "enrich"),
        ("STEP_SUCCEEDED", "enrich"),
        ("STEP_STARTED", "outreach"),
        ("STEP_SUCCEEDED", "outreach"),
        ("PLAN_COMPLETED", None),
    ]
    # persisted before published: the log holds exactly what listeners saw, in order
    assert await plans.events("plan-1") == events
    assert clock.sleeps == []


async def test_executor_retries_with_linear_backoff_then_skips_dependants() -> None:
    failing = ScriptedProvider("p", [RetryableToolError("503 from provider")])
    result, events, clock, _ = await run(
        make_plan(*THREE),
        ToolSpec("SEARCH", (ScriptedProvider("p").provider(),)),
        ToolSpec("ENRICH", (failing.provider(),)),
        ToolSpec("OUTREACH", (ScriptedProvider("p").provider(),)),
    )
    assert clock.sleeps == [1.0, 2.0]  # base 1 s × attempt, 2 retries
    assert [(r.step_id, r.status.value, r.attempts) for r in result.step_results] == [
        ("search", "succeeded", 1),
        ("enrich", "failed", 3),
        ("outreach", "skipped", 0),
    ]
    assert result.step_results[2].error_message == "Skipped because 'Enrich' did not complete"
    assert result.overall_status is OverallStatus.PARTIAL  # only optional steps failed
    assert [k for k in kinds(events) if k[1] == "enrich"] == [
        ("STEP_STARTED", "enrich"),
        ("STEP_RETRYING", "enrich"),
        ("STEP_RETRYING", "enrich"),
        ("STEP_FAILED", "enrich"),
    ]


async def test_executor_retry_after_from_provider_wins() -> None:
    flaky = ScriptedProvider("p", [RetryableToolError("429", retry_after=7.5), ok()])
    policy = RetryPolicy(max_retries=2, base_delay=1.0)
    result, _, clock, _ = await run(
        make_plan(("search", "SEARCH", [], True)), ToolSpec("SEARCH", (flaky.provider(),), policy)
    )
    assert clock.sleeps == [7.5]
    assert result.step_results[0].attempts == 2
    assert result.overall_status is OverallStatus.SUCCEEDED


@pytest.mark.parametrize(
    ("error", "attempts"),
    [
        (PermanentToolError("401 bad key"), 1),  # permanent: never retried
        (ValueError("boom"), 1),  # a bug, not a tool error: fails at once with its message
    ],
)
async def test_executor_does_not_retry_permanent_errors_or_bugs(error: Exception, attempts: int) -> None:
    result, _, clock, _ = await run(
        make_plan(("search", "SEARCH", [], True)),
        ToolSpec("SEARCH", (ScriptedProvider("p", [error]).provider(),)),
    )
    assert clock.sleeps == []
    assert result.step_results[0].attempts == attempts
    assert result.step_results[0].status.value == "failed"
    assert str(error) in (result.step_results[0].error_message or "")
    assert result.overall_status is OverallStatus.FAILED  # the search step is required


async def test_executor_falls_back_to_next_provider_as_one_logical_step() -> None:
    first = ScriptedProvider("directory", [ok(resultCount=0)])  # returns nothing
    second = ScriptedProvider("quota", [PermanentToolError("quota used up")])
    third = ScriptedProvider("places", [ok(resultCount=3)])
    result, events, _, _ = await run(
        make_plan(("search", "SEARCH", [], True)),
        ToolSpec("SEARCH", (first.provider(), second.provider(), third.provider())),
    )
    step = result.step_results[0]
    assert (step.status.value, step.provider, step.attempts, step.data) == (
        "succeeded",
        "places",
        3,
        {"resultCount": 3},
    )
    fallbacks = [(e.data["from"], e.data["to"]) for e in events if e.type.value == "STEP_FALLBACK"]
    assert fallbacks == [("directory", "quota"), ("quota", "places")]
    progress = project(events)
    assert [(s.status.value, s.provider) for s in progress.steps] == [("completed", "places")]


async def test_executor_skips_unconfigured_step_by_design_and_dependants_still_run() -> None:
    result, _, _, _ = await run(
        make_plan(*THREE),
        ToolSpec("SEARCH", (ScriptedProvider("p").provider(),)),
        ToolSpec("ENRICH", (ScriptedProvider("hunter", configured=False).provider(),)),
        ToolSpec("OUTREACH", (ScriptedProvider("p").provider(),)),
    )
    assert [r.status.value for r in result.step_results] == ["succeeded", "skipped", "succeeded"]
    assert result.step_results[1].skipped_by_design
    # what is missing, in words (the status says it was skipped: the message does not say it again)
    assert result.step_results[1].error_message == (
        "Not set up (not configured in this test)\nhunter: not configured in this test"
    )
    assert result.overall_status is OverallStatus.PARTIAL


async def test_executor_runs_independent_steps_concurrently_within_bound() -> None:
    active, peak = 0, 0

    async def tracked(params, env) -> LeadToolExecutionResult:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01)
        active -= 1
        return ok()

    from wyshbone.domain.planner import ProviderInfo
    from wyshbone.tools import Provider

    steps = [("root", "T", [], True)] + [(f"leaf{i}", "T", ["root"], False) for i in range(6)]
    result, _, _, _ = await run(
        make_plan(*steps), ToolSpec("T", (Provider(ProviderInfo("p", True), tracked),)), concurrency=3
    )
    assert result.overall_status is OverallStatus.SUCCEEDED
    assert peak == 3


async def test_executor_cancel_stops_new_steps_and_marks_running_cancelled() -> None:
    cancel = asyncio.Event()
    slow = ScriptedProvider("p", delay=10)
    registry = ToolRegistry.of(
        [
            ToolSpec("SEARCH", (ScriptedProvider("p").provider(),)),
            ToolSpec("ENRICH", (slow.provider(),)),
            ToolSpec("OUTREACH", (ScriptedProvider("p").provider(),)),
        ]
    )
    events: list[PlanEvent] = []

    def on_event(event: PlanEvent) -> None:
        events.append(event)
        if event.type.value == "STEP_STARTED" and event.step_id == "enrich":
            cancel.set()

    result = await execute_lead_generation_plan(
        make_plan(*THREE), USER, on_event=on_event, runtime=Runtime(registry=registry), cancel=cancel
    )
    assert result.overall_status is OverallStatus.CANCELLED
    assert [(r.step_id, r.status.value) for r in result.step_results] == [
        ("search", "succeeded"),
        ("enrich", "cancelled"),
    ]
    assert kinds(events)[-2:] == [("STEP_FAILED", "enrich"), ("PLAN_CANCELLED", None)]
    assert project(events).overall_status.value == "cancelled"


async def test_executor_resume_does_not_rerun_succeeded_steps() -> None:
    search = ScriptedProvider("p")
    first, _, _, plans = await run(make_plan(*THREE[:1]), ToolSpec("SEARCH", (search.provider(),)))
    resumed = await execute_lead_generation_plan(
        make_plan(*THREE[:1]),
        USER,
        runtime=Runtime(registry=ToolRegistry.of([ToolSpec("SEARCH", (search.provider(),))])),
        resume=await plans.step_results("plan-1"),
    )
    assert len(search.calls) == 1
    assert resumed.step_results == first.step_results


async def test_executor_step_waits_for_optional_steps_but_runs_after_their_failure() -> None:
    plan = LeadGenPlan(
        id="plan-1",
        user_id="u1",
        goal=LeadGenGoal(raw_goal="test"),
        steps=[
            LeadGenPlanStep(id="search", title="Search", tool="SEARCH", required=True),
            LeadGenPlanStep(id="enrich", title="Enrich", tool="ENRICH", depends_on=["search"]),
            LeadGenPlanStep(
                id="save",
                title="Save",
                tool="SAVE",
                depends_on=["search"],
                waits_for=["enrich"],
                required=True,
            ),
        ],
    )
    save = ScriptedProvider("store")
    result, _, _, _ = await run(
        plan,
        ToolSpec("SEARCH", (ScriptedProvider("p").provider(),)),
        ToolSpec(
            "ENRICH", (ScriptedProvider("hunter", [PermanentToolError("hunter: quota used up")]).provider(),)
        ),
        ToolSpec("SAVE", (save.provider(),)),
    )
    assert [(r.step_id, r.status.value) for r in result.step_results] == [
        ("search", "succeeded"),
        ("enrich", "failed"),
        ("save", "succeeded"),
    ]
    assert save.calls[0]["prior"] == ["enrich", "search"]  # it ran after the enrichment had finished
    assert result.overall_status is OverallStatus.PARTIAL  # an optional step failed


def _searched(*names: str) -> LeadToolExecutionResult:
    """A search provider's typed answer: one lead per name, counted."""
    leads = [Lead(name=n, source="test", source_id=f"test:{n}") for n in names]
    return LeadToolExecutionResult(success=True, output=SearchOutput(result_count=len(leads), leads=leads))


def _search_plan(**params: object) -> LeadGenPlan:
    step = LeadGenPlanStep(id="search", title="Search", tool="SEARCH", params=params, required=True)
    return LeadGenPlan(id="plan-1", user_id="u1", goal=LeadGenGoal(raw_goal="test"), steps=[step])


def _keep_all(outputs: list[SearchOutput]) -> SearchOutput:
    leads = [lead for output in outputs for lead in output.leads]
    return SearchOutput(result_count=len(leads), leads=leads)


async def test_executor_hands_the_tool_its_params_typed_and_stores_its_typed_output_as_json() -> None:
    directory = ScriptedProvider("directory", [_searched("A")])
    result, _, _, _ = await run(
        _search_plan(maxResults=1, persona="cafe"),
        ToolSpec("SEARCH", (directory.provider(),), params=SearchParams, output=SearchOutput),
    )
    [params] = [call["params"] for call in directory.calls]
    assert (type(params), params.max_results, params.persona) == (SearchParams, 1, "cafe")
    assert result.step_results[0].data == _searched("A").data
    assert result.step_results[0].data is not None and result.step_results[0].data["resultCount"] == 1


async def test_executor_falls_back_when_the_typed_count_is_zero() -> None:
    # The decision reads SearchOutput.result_count: a provider that counts 0 found nothing → the next one.
    empty = ScriptedProvider("directory", [_searched()])
    places = ScriptedProvider("places", [_searched("A", "B")])
    result, events, _, _ = await run(
        _search_plan(maxResults=2),
        ToolSpec("SEARCH", (empty.provider(), places.provider()), params=SearchParams, output=SearchOutput),
    )
    step = result.step_results[0]
    assert (step.status.value, step.provider, step.error_message) == ("succeeded", "places", None)
    assert [e.error_message for e in events if e.type.value == "STEP_FALLBACK"] == [
        "directory: found nothing"
    ]


async def test_executor_tops_up_when_the_typed_count_is_short_of_the_params_wanted_items() -> None:
    # SearchParams.wanted_items() is maxResults (3); the directory counts 1, so the next provider tops it up.
    directory = ScriptedProvider("directory", [_searched("A")])
    places = ScriptedProvider("places", [_searched("B", "C")])
    spec = ToolSpec(
        "SEARCH",
        (directory.provider(), places.provider()),
        merge=_keep_all,
        params=SearchParams,
        output=SearchOutput,
    )
    result, events, _, _ = await run(_search_plan(maxResults=3), spec)
    step = result.step_results[0]
    assert (step.provider, step.data) == (
        "directory+places",
        _keep_all(
            [
                SearchOutput.model_validate(_searched("A").data),
                SearchOutput.model_validate(_searched("B", "C").data),
            ]
        ).to_json_dict(),
    )
    assert [e.error_message for e in events if e.type.value == "STEP_FALLBACK"] == [
        "directory: found 1 of 3; topping up"
    ]


async def test_executor_fails_a_step_whose_params_do_not_fit_its_tool_without_calling_it() -> None:
    directory = ScriptedProvider("directory", [_searched("A")])
    result, _, _, _ = await run(
        _search_plan(maxResults="many"),
        ToolSpec("SEARCH", (directory.provider(),), params=SearchParams, output=SearchOutput),
    )
    step = result.step_results[0]
    assert step.status.value == "failed" and directory.calls == []
    assert (step.error_message or "").startswith("the step's params do not fit SEARCH: ")
