"""The plan commands: ``plan`` (show it), ``run`` (start, approve and run it through the run queue, as the web
does, with live progress), ``leads`` (print a plan's leads) and ``demo`` (the scripted plan)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from functools import partial

import typer

from wyshbone.bootstrap import AppContext
from wyshbone.cli.common import (
    CLI_USER,
    goal_failure,
    overrides,
    plan_or_exit,
    settings,
    setup_logging,
    with_app,
)
from wyshbone.cli.output import err, execute_live, fail, out, print_outcome, print_plan, print_warnings
from wyshbone.domain.leads import leads_csv
from wyshbone.domain.models import (
    GoalOverrides,
    Lead,
    LeadGenExecutionResult,
    LeadGenPlan,
    PlanStatus,
)
from wyshbone.errors import NotFoundError, WyshboneError
from wyshbone.executor import EventCallback
from wyshbone.services import InProcessRunQueue, RunQueue


def plan(goal: str, *, as_json: bool, must_be: list[str] | None) -> None:
    async def use(app: AppContext) -> LeadGenPlan:
        return app.plans.plan(goal, CLI_USER, overrides(must_be))

    the_plan = plan_or_exit(lambda: with_app(settings(), use))
    if as_json:
        typer.echo(the_plan.model_dump_json(indent=2))
    else:
        print_plan(the_plan)


def run(goal: str, *, yes: bool, as_json: bool, verbose: bool, must_be: list[str] | None) -> None:
    chosen = settings()
    setup_logging(chosen, verbose)
    wanted = overrides(must_be)
    with_app(chosen, lambda app: _run_goal(app, goal, yes=yes, as_json=as_json, overrides=wanted))


async def _run_goal(
    app: AppContext, goal: str, *, yes: bool, as_json: bool, overrides: GoalOverrides | None = None
) -> None:
    """Start the plan (stored pending approval), ask, approve it, and run it through the run queue."""
    plans = app.plans
    try:
        the_plan = await plans.start_plan(goal, CLI_USER, overrides=overrides)
    except WyshboneError as exc:
        raise goal_failure(exc) from None
    display = err if as_json else out
    if not as_json:
        print_plan(the_plan)
    else:
        print_warnings(the_plan, err)  # stdout holds the result's JSON and nothing else
    if not yes and not typer.confirm("Approve this plan?", default=True, err=as_json):
        await plans.cancel_pending(the_plan)
        err.print("Not approved: nothing was run.")
        raise typer.Exit(code=1)
    approved = await plans.approve_plan(the_plan.id)
    result = await execute_live(approved, partial(_run_queued, app, approved), display)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    leads = await plans.leads(the_plan.id)
    print_outcome(the_plan, result, leads, app.settings)


async def _run_queued(
    app: AppContext, approved: LeadGenPlan, *, on_event: EventCallback
) -> LeadGenExecutionResult:
    """Hand the approved plan to the run queue and wait for its result. Ctrl-C cancels it cleanly: running
    steps stop, the event log and the plan say "cancelled"."""
    runs = app.runs
    runs.submit(approved, session_id=None, on_event=on_event)
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, partial(_stop, runs, approved.id))
    await runs.wait_idle()
    try:
        return await app.plans.result(approved.id)
    except WyshboneError:  # the run crashed: it was logged and recorded as failed, with no result
        raise fail(f"the run of plan {approved.id} failed unexpectedly; the details are in the log") from None


def _stop(runs: RunQueue, plan_id: str) -> None:
    """Ctrl-C: stop the run here, or ask the worker running it (queue mode) to cancel it."""
    if isinstance(runs, InProcessRunQueue):
        runs.stop(plan_id)
    else:
        _cancels.add(asyncio.ensure_future(runs.cancel(plan_id, session_id=None)))


_cancels: set[asyncio.Future[PlanStatus]] = set()
"""Cancel requests under way (kept so that they are not collected before they finish)."""


def leads(plan_id: str, *, as_csv: bool) -> None:
    async def use(app: AppContext) -> list[Lead]:
        return list(await app.plans.leads(plan_id))

    try:
        found = with_app(settings(), use)
    except NotFoundError as exc:
        raise fail(str(exc)) from None
    if as_csv:
        sys.stdout.write(leads_csv(found))
    else:
        typer.echo(json.dumps([lead.to_json_dict() for lead in found], indent=2))


def demo(*, step_seconds: float) -> None:
    from wyshbone.demo import demo_plan, demo_registry, event_lines
    from wyshbone.executor import Runtime, execute_lead_generation_plan

    async def both() -> None:
        for title, failing in (("All tools working", False), ("The enrichment tool failing", True)):
            out.rule(title)
            the_plan = demo_plan(f"demo-{'failing' if failing else 'ok'}")
            runtime = Runtime(registry=demo_registry(failing=failing, step_seconds=step_seconds))
            execute = partial(execute_lead_generation_plan, the_plan, CLI_USER, runtime=runtime)
            with event_lines() as lines:
                result = await execute_live(the_plan, execute, out)
            out.print(f"Overall: [bold]{result.overall_status.value}[/]")
            out.print("[dim]The events, as logged:[/]")
            for line in lines:
                # One JSON object a line, however wide: never wrapped, never read as markup.
                out.print(line, markup=False, highlight=False, soft_wrap=True)

    asyncio.run(both())
