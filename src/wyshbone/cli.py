"""The command line: ``wyshbone plan | run | demo | leads | db | outreach | monitors``. Thin adapters over ``services``.

Bad input ends with a message on stderr and exit code 2, having written nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import re
import signal
import sys
from collections.abc import Callable, Coroutine, Mapping, Sequence
from functools import partial
from logging.handlers import QueueHandler, QueueListener
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from wyshbone.config import Settings
from wyshbone.demo import demo_plan, demo_registry, event_lines
from wyshbone.domain.delivery import delivery_line, kind, outcome_headline, split_reason
from wyshbone.domain.leads import leads_csv
from wyshbone.domain.models import (
    Delivery,
    GoalOverrides,
    Lead,
    LeadGenExecutionResult,
    LeadGenGoal,
    LeadGenPlan,
    LeadGenPlanStep,
    PlanEvent,
    PlanProgress,
    ProgressOverallStatus,
    ProgressStepStatus,
    StepProgress,
    SupervisorUserContext,
)
from wyshbone.domain.outreach import SuppressionReason
from wyshbone.domain.personas import pluralize
from wyshbone.domain.progress import project
from wyshbone.domain.qualifiers import QUALIFIERS
from wyshbone.errors import ConflictError, InputError, NotFoundError, UnplannableGoalError, WyshboneError
from wyshbone.executor import Runtime, execute_lead_generation_plan
from wyshbone.providers.local_directory import default_import_paths, directory_info, import_directory
from wyshbone.services import PlanRunner, Supervisor

app = typer.Typer(help="Wyshbone Supervisor: a sales goal in plain words → a plan → live execution → leads.")
db_app = typer.Typer(help="The embedded business directory.")
app.add_typer(db_app, name="db")
outreach_app = typer.Typer(help="Outreach drafts: review, send over SMTP, stop, suppress.")
app.add_typer(outreach_app, name="outreach")
monitors_app = typer.Typer(help="Monitors that re-run a plan's search and report only new businesses.")
app.add_typer(monitors_app, name="monitors")

out = Console()
err = Console(stderr=True)
CLI_USER = SupervisorUserContext(user_id="cli")
T = TypeVar("T")


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=2)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def _setup_logging(settings: Settings, verbose: bool) -> None:
    """Event lines go to ``<home>/logs/events.log``; with --verbose to stderr too."""
    log_dir = settings.home / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [logging.FileHandler(log_dir / "events.log")]
    if verbose:
        handlers.append(logging.StreamHandler(sys.stderr))
    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=handlers, force=True)


async def _with_supervisor(settings: Settings, use: Callable[[Supervisor], Coroutine[Any, Any, T]]) -> T:
    supervisor = await Supervisor.open(settings)
    try:
        return await use(supervisor)
    finally:
        await supervisor.close()


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        raise _fail(f"invalid WYSHBONE_* setting: {exc}") from None


GoalArg = Annotated[str, typer.Argument(help='The goal, e.g. "Find 20 coffee shops in Manchester".')]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (camelCase) and nothing else on stdout.")]
MustBeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--must-be",
        help="What every lead must also be, e.g. --must-be italian (repeat, or separate with commas); it "
        'replaces what was read from the goal, and --must-be "" asks for none.',
    ),
]


SETUP_HELP = (
    'A step whose service is not set up says what it needs ("Not set up: needs a Hunter.io key"), with the '
    "setting that fixes it dimmed on the line below: WYSHBONE_HUNTER_API_KEY (Hunter.io: domains and emails), "
    "WYSHBONE_WEBSITE_CRAWL=true (emails from businesses' own websites), WYSHBONE_GOOGLE_PLACES_API_KEY and "
    "WYSHBONE_OVERPASS_URL (searching Google Places and OpenStreetMap beyond the directory), "
    "WYSHBONE_SENDER_NAME, _EMAIL and _ADDRESS (outreach drafts). Warnings about foreseeable shortfalls are printed "
    "before approval."
)


@app.command(epilog=SETUP_HELP)
def plan(goal: GoalArg, as_json: JsonOpt = False, must_be: MustBeOpt = None) -> None:
    """Show the parsed goal, its assumptions, the steps and the estimate. Stores nothing."""
    settings = _settings()

    async def use(sup: Supervisor) -> LeadGenPlan:
        return sup.plan(goal, CLI_USER, _overrides(must_be))

    the_plan = _plan_or_exit(lambda: _run(_with_supervisor(settings, use)))
    if as_json:
        typer.echo(the_plan.model_dump_json(indent=2))
    else:
        _print_plan(the_plan)


def _overrides(must_be: list[str] | None) -> GoalOverrides | None:
    """``--must-be`` replaces the qualifiers read from the goal (``--must-be ""`` clears them)."""
    if must_be is None:
        return None
    words = [w.strip() for value in must_be for w in value.split(",") if w.strip()]
    return GoalOverrides(qualifiers=words)


def _plan_or_exit(make: Callable[[], T]) -> T:
    try:
        return make()
    except UnplannableGoalError as exc:
        raise _fail("I can't plan that goal:\n  - " + "\n  - ".join(exc.problems)) from None
    except WyshboneError as exc:
        raise _fail(str(exc)) from None


# --- words for people: the tables never show step ids, tool identifiers or raw status values -----------------

STEP_WORDS = {
    "pending": "waiting",
    "running": "running",
    "completed": "done",
    "failed": "failed",
    "skipped": "not run",
    "cancelled": "cancelled",
}
"""A step's progress status (the API's machine value) as the tables say it."""

STEP_STYLE = {
    "waiting": "dim",
    "running": "bold yellow",
    "retrying": "yellow",
    "done": "green",
    "failed": "bold red",
    "not run": "magenta",
    "not set up": "magenta",
    "cancelled": "red",
}

PROVIDER_NAMES = {
    "local_directory": "Wyshbone directory",
    "overpass": "OpenStreetMap",
    "google_places": "Google Places",
    "hunter": "Hunter.io",
    "website": "business websites",
    "wyshbone_store": "lead store",
    "outreach_drafts": "email drafts",
    "hunter_verifier": "Hunter.io verifier",
    "monitor": "monitor",
    "demo_script": "demo script",
}
"""Providers (as plans and progress name them) as a person knows them; the page's app.js says the same."""

SOURCE_NAMES = {
    "fsa_fhrs": "FSA",
    "nhs_ods_dental": "NHS",
    "openbrewerydb": "Open Brewery DB",
    "open_pubs": "Open Pubs",
    "osm": "OpenStreetMap",
    "google_places": "Google Places",
}
"""Where a lead's record comes from, as the leads table says it."""


def _providers(name: str | None) -> str:
    """ "local_directory+overpass" → "Wyshbone directory + OpenStreetMap"."""
    return " + ".join(PROVIDER_NAMES.get(p, p) for p in (name or "").split("+") if p)


_PROVIDER_PREFIX = re.compile(r"\b(" + "|".join(map(re.escape, PROVIDER_NAMES)) + r")(?=: )")


def _in_words(message: str) -> str:
    """A step's message with the providers it names as a person knows them ("local_directory: found nothing" →
    "Wyshbone directory: found nothing")."""
    return _PROVIDER_PREFIX.sub(lambda m: PROVIDER_NAMES[m.group(1)], message)


def _lower_first(text: str) -> str:
    return text if text[:2].isupper() else text[:1].lower() + text[1:]


def _notes(rows: list[tuple[int, str, str]]) -> Table | None:
    """Notes under a table, one per step: "2  Find Company Domains: Not set up: needs a Hunter.io key", and the
    details (the settings that fix it) dimmed on the line below. Long notes wrap here instead of being cut."""
    if not rows:
        return None
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column()
    for number, title, message in rows:
        headline, details = split_reason(message)
        text = Text.assemble((title, "bold"), ": ", _in_words(headline))
        if details:
            text.append("\n" + details, style="dim")
        grid.add_row(f" {number}", text)
    return grid


def _print_plan(the_plan: LeadGenPlan) -> None:
    head = Table.grid(padding=(0, 1))
    head.add_column(style="bold", no_wrap=True)
    head.add_column()
    head.add_row("Goal:", the_plan.goal.raw_goal)
    head.add_row("Understood:", _understood(the_plan.goal))
    for assumption in the_plan.assumptions:
        head.add_row("", Text(f"• {assumption}", style="dim"))
    out.print(head)
    availability = {a.step_id: a for a in the_plan.estimate.steps}
    idle = {(c.step_id, c.provider) for c in the_plan.estimate.calls if not c.configured}
    table = Table(title="The plan", title_justify="left")
    for col in ("#", "Step", "Tries", "Runs"):
        table.add_column(col, no_wrap=col in ("#", "Runs"))
    notes: list[tuple[int, str, str]] = []
    for i, step in enumerate(the_plan.steps, start=1):
        avail = availability.get(step.id)
        runs = "yes" if avail is None or avail.will_run else "[magenta]no[/]"
        if avail is not None and avail.reason:
            notes.append((i, step.title, avail.reason))
            runs += " (see below)" if avail.will_run else ""
        table.add_row(str(i), step.title, _tries(step, idle, runs=avail is None or avail.will_run), runs)
    out.print(table)
    if (grid := _notes(notes)) is not None:
        out.print(grid)
    _print_estimate(the_plan)
    _print_warnings(the_plan, out)


def _print_warnings(the_plan: LeadGenPlan, console: Console) -> None:
    """The shortfalls the plan foresees, last, so they sit right above the approval question."""
    if not the_plan.warnings:
        return
    console.print("[bold yellow]Before you approve:[/]")
    warnings = Table.grid(padding=(0, 1))
    warnings.add_column(style="bold yellow", no_wrap=True)
    warnings.add_column()
    for warning in the_plan.warnings:
        warnings.add_row("  !", warning)
    console.print(warnings)


def _tries(step: LeadGenPlanStep, idle: set[tuple[str, str]], *, runs: bool) -> Text:
    """The providers the step tries, in order; those not set up are named after them, dimmed."""
    names = [PROVIDER_NAMES.get(p, p) for p in step.providers]
    if not runs:
        return Text(" or ".join(names) or "—")
    usable = [n for p, n in zip(step.providers, names, strict=True) if (step.id, p) not in idle]
    unset = [n for p, n in zip(step.providers, names, strict=True) if (step.id, p) in idle]
    text = Text(" → ".join(usable) or "—")
    if unset:
        text.append(f" (not set up: {', '.join(unset)})", style="dim")
    return text


def _understood(goal: LeadGenGoal) -> str:
    """ "10 Italian restaurants in Birmingham (GB) · must be: Italian · outreach: email · monitoring: weekly"."""
    what = pluralize(goal.target_persona or "business", goal.volume)
    where = f"{'in or near' if goal.nearby_allowed else 'in'} {goal.target_region or goal.country}"
    parts = [f"{goal.volume} {what} {where} ({goal.country})"]
    if goal.qualifiers:
        labels = [QUALIFIERS[q].label if q in QUALIFIERS else q for q in goal.qualifiers]
        parts.append("must be: " + ", ".join(labels))
    parts.append("outreach: " + (", ".join(goal.preferred_channels) or "none"))
    parts.append("monitoring: " + ((goal.monitor_cadence or "weekly") if goal.include_monitoring else "no"))
    return " · ".join(parts)


def _print_estimate(the_plan: LeadGenPlan) -> None:
    est = the_plan.estimate
    external = [c for c in est.calls if c.configured]
    titles = {step.id: step.title for step in the_plan.steps}
    for c in external:
        price = f"${c.cost_usd:.2f}" if c.cost_usd is not None else "free"
        name = PROVIDER_NAMES.get(c.provider, c.provider)
        calls = f"{c.calls} {pluralize('call', c.calls)}"
        out.print(
            f"  {titles.get(c.step_id, 'A step')}: {name}, at most {calls}, {price} ({c.note})",
            highlight=False,
        )
    paid = "" if external else " (no paid calls)"
    out.print(f"  [bold]Estimated cost:[/] ${est.total_cost_usd:.2f}{paid}", highlight=False)


def _progress_title(progress: PlanProgress) -> str:
    """What the run is doing, or how it ended (the outcome, never "completed" above a partial one)."""
    status = progress.overall_status
    if status is ProgressOverallStatus.CANCELLED:
        return outcome_headline("cancelled")
    if status in (ProgressOverallStatus.COMPLETED, ProgressOverallStatus.FAILED):
        return outcome_headline(progress.detail or status.value)
    if status is ProgressOverallStatus.EXECUTING:
        if progress.detail == "queued":
            return "Queued: waiting for a free run slot"
        return f"Running: step {progress.current_step_index + 1} of {progress.total_steps}"
    return "Waiting to start"


def _step_word(step: StepProgress) -> str:
    if step.status is ProgressStepStatus.SKIPPED and (step.error_message or "").startswith("Not set up"):
        return "not set up"
    if step.status is ProgressStepStatus.RUNNING and step.retry_in_seconds is not None:
        return "retrying"
    return STEP_WORDS.get(step.status.value, step.status.value)


def _progress_view(progress: PlanProgress) -> Group:
    """The steps table, with why each step that did not run (or failed) under it."""
    table = Table(title=_progress_title(progress), title_justify="left")
    for col in ("#", "Step", "Status", "Tries", "Via"):
        table.add_column(col, no_wrap=col in ("#", "Status", "Tries"))
    notes: list[tuple[int, str, str]] = []
    for step in progress.steps:
        word = _step_word(step)
        table.add_row(
            str(step.index + 1),
            step.title,
            Text(word, style=STEP_STYLE.get(word, "")),
            str(step.attempts or ""),
            _providers(step.provider),
        )
        finished = step.status not in (ProgressStepStatus.PENDING, ProgressStepStatus.RUNNING)
        if finished and step.error_message:
            notes.append((step.index + 1, step.title, step.error_message))
    grid = _notes(notes)
    return Group(table) if grid is None else Group(table, grid)


async def _execute_live(
    the_plan: LeadGenPlan,
    run: Callable[..., Coroutine[Any, Any, LeadGenExecutionResult]],
    console: Console,
) -> LeadGenExecutionResult:
    events: list[PlanEvent] = []
    titles = {step.id: step.title for step in the_plan.steps}
    with Live(_progress_view(project([], plan=the_plan)), console=console, refresh_per_second=8) as live:

        def on_event(event: PlanEvent) -> None:
            events.append(event)
            note = _event_note(event, titles)
            if note:
                live.console.print(note, highlight=False)
            live.update(_progress_view(project(events, plan=the_plan)))

        result = await run(on_event=on_event)
    if not console.is_terminal:
        console.line()
    return result


def _cut(text: str, limit: int) -> str:
    """Full messages are printed as lines above the table; in the table they are cut short."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


_NOTES = {
    "STEP_RETRYING": "[yellow]↻ retrying[/] {step} (attempt {attempt}) in {delay}s: {error}",
    "STEP_FALLBACK": "[yellow]⇢[/] {step}: trying {provider} instead ({error})",
    "STEP_FAILED": "[red]✗[/] {step} failed: {error}",
}
"""The transitions a person should notice as they happen; why a step was not run is said under the table."""


def _event_note(event: PlanEvent, titles: Mapping[str, str]) -> str | None:
    template = _NOTES.get(event.type.value)
    if template is None or event.status == "cancelled":
        return None
    return template.format(
        step=titles.get(event.step_id or "", "a step"),
        attempt=event.attempt,
        delay=event.data.get("delaySeconds"),
        provider=_providers(event.provider),
        error=escape(_lower_first(_in_words(split_reason(event.error_message)[0])) or "no reason given"),
    )


@app.command(epilog=SETUP_HELP)
def run(
    goal: GoalArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Approve the plan without asking.")] = False,
    as_json: JsonOpt = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print event lines to stderr.")
    ] = False,
    must_be: MustBeOpt = None,
) -> None:
    """Plan the goal, ask for approval, execute it with live progress, save the leads; the last lines say how
    many were saved of how many asked for, and why fewer."""
    settings = _settings()
    _setup_logging(settings, verbose)
    overrides = _overrides(must_be)
    _run(
        _with_supervisor(
            settings, lambda sup: _run_goal(sup, goal, yes=yes, as_json=as_json, overrides=overrides)
        )
    )


async def _run_goal(
    sup: Supervisor, goal: str, *, yes: bool, as_json: bool, overrides: GoalOverrides | None = None
) -> None:
    the_plan = _plan_or_exit(lambda: sup.plan(goal, CLI_USER, overrides))
    display = err if as_json else out
    if not as_json:
        _print_plan(the_plan)
    else:
        _print_warnings(the_plan, err)  # stdout holds the result's JSON and nothing else
    if not yes and not typer.confirm("Approve this plan?", default=True, err=as_json):
        err.print("Not approved: nothing was run.")
        raise typer.Exit(code=1)
    await sup.repos.plans.save(the_plan)
    approved = await sup.approve_plan(the_plan.id)
    cancel = asyncio.Event()
    # Ctrl-C cancels the plan cleanly: running steps stop, the event log and the plan say "cancelled".
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, cancel.set)
    runner = partial(PlanRunner(sup).run, approved, session_id=None, cancel=cancel)
    result = await _execute_live(approved, runner, display)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    leads = await sup.leads(the_plan.id)
    _print_outcome(the_plan, result, leads, sup.settings)


def _print_outcome(
    the_plan: LeadGenPlan, result: LeadGenExecutionResult, leads: Sequence[Lead], settings: Settings
) -> None:
    """The leads, then the last lines: how the run ended and what it delivered against what was asked."""
    if leads:
        out.print(_leads_table(leads, result.delivery, the_plan.goal))
    colour = {"succeeded": "green", "partial": "yellow"}.get(result.overall_status.value, "red")
    out.print(f"[bold]Overall:[/] [{colour}]{result.overall_status.value}[/]")
    if result.delivery is not None:
        nearby = sum(1 for lead in leads if lead.match is not None and lead.match.area == "nearby")
        style = "" if result.delivery.note is None and not nearby else "yellow"
        out.print(Text(delivery_line(result.delivery, the_plan.goal, nearby=nearby), style=style))
    elif not leads:
        out.print("No leads were saved.")
    if leads:
        out.print(f"CSV: wyshbone leads {result.plan_id} --csv", highlight=False)
        out.print(f"[dim]Stored in {settings.store_url.split('///')[-1]}[/]", highlight=False)
    for step in result.step_results:
        data = step.data or {}
        if "sequenceId" in data:
            drafted = int(data["drafted"])
            not_drafted = len(data.get("notDrafted", []))
            out.print(
                f"Outreach: {drafted} {pluralize('lead', drafted)} drafted, {not_drafted} not; nothing is sent "
                "yet.",
                highlight=False,
            )
            out.print(f"  review: wyshbone outreach show --list {data['listId']}", highlight=False)
            out.print(f"  send:   wyshbone outreach send --list {data['listId']}", highlight=False)
        if "monitorId" in data:
            out.print(
                f"Monitor {data['monitorId']}: {data['cadence']}, next check {data['nextRunAt'][:16]}",
                highlight=False,
            )
            out.print("  cron: wyshbone monitors run-due", highlight=False)


def _leads_table(leads: Sequence[Lead], delivery: Delivery | None, goal: LeadGenGoal) -> Table:
    """The saved leads, readable at 80 columns: one "Business" cell (name, address) and one "Contact" cell."""
    title = f"{len(leads)} {kind(goal, len(leads))} saved"
    if delivery is not None and delivery.delivered < delivery.wanted:
        title = f"{delivery.delivered} of {delivery.wanted} {kind(goal, delivery.wanted)} saved"
    table = Table(title=title, title_justify="left")
    with_contacts = any(lead.phone or lead.domain or lead.emails for lead in leads)
    columns = ("#", "Business", "Postcode", "km", "Match", "Source", *(("Contact",) if with_contacts else ()))
    for col in columns:
        no_wrap = col in ("#", "Postcode", "km", "Match")
        table.add_column(col, no_wrap=no_wrap, justify="right" if col == "km" else "left")
    for i, lead in enumerate(leads, start=1):
        business = Text(lead.name, style="bold")
        if lead.address:
            business.append("\n" + lead.address)
        area = lead.match.area if lead.match else ""
        row: list[str | Text] = [
            str(i),
            business,
            lead.postcode or "",
            f"{lead.distance_km:.1f}" if lead.distance_km is not None else "",
            Text(area, style="yellow" if area == "nearby" else ""),
            SOURCE_NAMES.get(lead.source, lead.source),
        ]
        if with_contacts:
            email = lead.emails[0] if lead.emails else None
            found = f"{email['value']} ({email.get('verification', 'unverified')})" if email else ""
            row.append("\n".join(v for v in (lead.phone, found, "" if email else lead.domain) if v))
        table.add_row(*row)
    return table


@app.command()
def leads(
    plan_id: Annotated[str, typer.Argument(help="The plan whose saved leads to print.")],
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV instead of JSON.")] = False,
) -> None:
    """Print a plan's saved leads (JSON, or CSV with --csv), each with its provenance."""
    settings = _settings()

    async def use(sup: Supervisor) -> list[Lead]:
        return list(await sup.leads(plan_id))

    try:
        found = _run(_with_supervisor(settings, use))
    except NotFoundError as exc:
        raise _fail(str(exc)) from None
    if as_csv:
        sys.stdout.write(leads_csv(found))
    else:
        typer.echo(json.dumps([lead.to_json_dict() for lead in found], indent=2))


@app.command()
def demo(
    step_seconds: Annotated[float, typer.Option(help="How long each scripted step takes.")] = 0.6,
) -> None:
    """The spec's test script: 3 scripted steps succeed; then the same plan with one tool failing. After each
    run's table, its event lines as logged ([LEAD_GEN_PLAN] {...}: STEP_RETRYING, STEP_SKIPPED, ...)."""

    async def both() -> None:
        for title, failing in (("All tools working", False), ("The enrichment tool failing", True)):
            out.rule(title)
            the_plan = demo_plan(f"demo-{'failing' if failing else 'ok'}")
            runtime = Runtime(registry=demo_registry(failing=failing, step_seconds=step_seconds))
            execute = partial(execute_lead_generation_plan, the_plan, CLI_USER, runtime=runtime)
            with event_lines() as lines:
                result = await _execute_live(the_plan, execute, out)
            out.print(f"Overall: [bold]{result.overall_status.value}[/]")
            out.print("[dim]The events, as logged:[/]")
            for line in lines:
                # One JSON object a line, however wide: never wrapped, never read as markup.
                out.print(line, markup=False, highlight=False, soft_wrap=True)

    _run(both())


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on (default WYSHBONE_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default WYSHBONE_PORT, 8000).")] = None,
) -> None:
    """Serve the web app and API; plans left executing by a crash resume on start."""
    import uvicorn

    from wyshbone.web import create_app

    settings = _settings()
    # Log lines are written by a thread, not on the event loop that serves the API and runs the plans.
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    writer = QueueListener(lines, logging.StreamHandler(sys.stderr))
    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[QueueHandler(lines)], force=True)
    if directory_info(settings.directory_file) is None:
        err.print(
            "[yellow]warning:[/] the directory is not imported: run `wyshbone db import` (searches will be skipped)"
        )
    writer.start()
    try:
        uvicorn.run(
            create_app(settings), host=host or settings.host, port=port or settings.port, log_level="info"
        )
    finally:
        writer.stop()


@db_app.command("import")
def db_import(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="CSV.gz files (default: ../shared/data/uk_businesses*.csv.gz)."),
    ] = None,
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="Do nothing when already imported.")
    ] = False,
) -> None:
    """Import the open business data into the embedded directory (idempotent)."""
    settings = _settings()
    target = settings.directory_file
    if if_missing and directory_info(target) is not None:
        err.print(f"Directory already imported at {target}.")
        return
    files = list(paths or default_import_paths(settings.open_data_dir))
    if not files:
        raise _fail(
            f"no data to import: no uk_businesses*.csv.gz in {settings.open_data_dir}. Set WYSHBONE_OPEN_DATA_DIR "
            "to the folder holding the open data, or pass the files."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("import", total=None)

        def on_progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        try:
            report = import_directory(
                files,
                target,
                on_progress=on_progress,
                on_phase=lambda what: bar.update(task, description=what),
            )
        except InputError as exc:
            raise _fail(str(exc)) from None
    err.print(
        f"Imported {report.rows_written:,} businesses from {len(report.files)} file(s) in {report.seconds:.1f} s → {target}"
    )


@db_app.command("info")
def db_info() -> None:
    """Show whether the directory is imported, and how many businesses it holds."""
    settings = _settings()
    info = directory_info(settings.directory_file)
    if info is None:
        raise _fail(
            f"the directory is not imported yet ({settings.directory_file}): run `wyshbone db import`"
        )
    typer.echo(json.dumps(info, indent=2, default=str))


# --- outreach ---------------------------------------------------------------------------------------------------

MAX_ID = 2**63 - 1
OUTREACH_WORDS = {"opted_out": "opted out", "skipped": "not drafted"}
"""A lead's outreach status as the table says it (the page's app.js says the same)."""
ListOpt = Annotated[
    int,
    typer.Option("--list", min=1, max=MAX_ID, help="The lead list's id (printed when its plan finishes)."),
]
AccountOpt = Annotated[
    str, typer.Option("--account", help="Whose suppression list (default: this command line's user).")
]


def _service(use: Callable[[Supervisor], Coroutine[Any, Any, T]]) -> T:
    """Run ``use`` with a supervisor; bad input or a missing setting → stderr and exit 2."""
    try:
        return _run(_with_supervisor(_settings(), use))
    except (InputError, ConflictError) as exc:
        raise _fail(str(exc)) from None


@outreach_app.command("show")
def outreach_show(list_id: ListOpt, as_json: JsonOpt = False) -> None:
    """The list's sequence: each lead's status, and each message with its status and the server's reply."""
    sequence = _service(lambda sup: sup.outreach.sequence(list_id))
    if as_json:
        typer.echo(sequence.model_dump_json(by_alias=True, indent=2))
        return
    steps = " → ".join(f"{s.key} (day {s.day})" for s in sequence.steps)
    out.print(f"[bold]Sequence {sequence.id}[/] for list {list_id}: {steps}")
    table = Table(title="Leads")
    for col in ("Business", "Email", "Status", "Why"):
        table.add_column(col)
    for lead in sequence.leads:
        status = OUTREACH_WORDS.get(lead.status, lead.status)
        table.add_row(lead.lead_name, lead.email or "", status, lead.reason or "")
    out.print(table)
    messages = Table(title="Messages")
    for col in ("#", "To", "Step", "Subject", "Status", "Reply"):
        messages.add_column(col)
    for m in sequence.messages:
        messages.add_row(str(m.id), m.email, m.step_key, m.subject, m.status, _cut(m.reply or "", 60))
    out.print(messages)


@outreach_app.command("send")
def outreach_send(
    list_id: ListOpt,
    limit: Annotated[int | None, typer.Option(min=1, help="Send at most this many now.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Send the list's due messages over SMTP (WYSHBONE_SMTP_URL): daily cap, a gap between messages, and
    never the same step twice to the same lead."""

    def shown(message: Any) -> None:
        if not as_json:
            colour = "green" if message.status == "sent" else "red"
            out.print(
                f"[{colour}]{message.status}[/] {message.email} · {message.step_key} · {message.reply or ''}"
            )

    report = _service(lambda sup: sup.outreach.send(list_id, limit=limit, on_message=shown))
    if as_json:
        typer.echo(report.model_dump_json(by_alias=True, indent=2))
        return
    out.print(
        f"{report.sent} sent, {report.failed} failed, {report.suppressed} suppressed of {report.due} due"
        + (f"; {report.capped} left for tomorrow by the daily cap" if report.capped else "")
    )


@outreach_app.command("mark-replied")
def outreach_mark_replied(
    list_id: ListOpt, email: Annotated[str, typer.Argument(help="The address that replied.")]
) -> None:
    """Stop the sequence for a lead who replied."""
    stopped = _service(lambda sup: sup.outreach.mark_replied(list_id, email))
    out.print(f"Stopped {stopped} unsent message(s) to {email}.")


@outreach_app.command("suppress")
def outreach_suppress(
    values: Annotated[list[str], typer.Argument(help="Email addresses or domains never to write to.")],
    account: AccountOpt = CLI_USER.user_id,
) -> None:
    """Put addresses or whole domains on the suppression list (checked when drafting and when sending)."""
    stopped = _service(lambda sup: sup.outreach.suppress(account, values, SuppressionReason.MANUAL))
    out.print(
        f"Suppressed {len(values)} entr{'y' if len(values) == 1 else 'ies'}; stopped {stopped} unsent message(s)."
    )


@outreach_app.command("suppressions")
def outreach_suppressions(account: AccountOpt = CLI_USER.user_id) -> None:
    """Print the suppression list as JSON."""
    entries = _service(lambda sup: sup.outreach.suppressions(account))
    typer.echo(json.dumps([e.to_json_dict() for e in entries], indent=2))


# --- monitors ---------------------------------------------------------------------------------------------------

MonitorArg = Annotated[int, typer.Argument(min=1, max=MAX_ID, help="The monitor's id.")]


def _print_run(run: Any) -> None:
    colour = "green" if run.status == "succeeded" else "red"
    out.print(f"[{colour}]{run.status}[/] monitor {run.monitor_id}: {run.message or run.error or ''}")
    for name in run.new_leads:
        out.print(f"  + {name}")


@monitors_app.command("list")
def monitors_list(as_json: JsonOpt = False) -> None:
    """Every monitor with its cadence, next check and last run."""
    found = _service(lambda sup: sup.monitors.all())
    if as_json:
        typer.echo(json.dumps([m.to_json_dict() for m in found], indent=2))
        return
    table = Table(title="Monitors")
    for col in ("#", "Name", "Cadence", "Status", "Next check", "Known", "Last run"):
        table.add_column(col)
    for m in found:
        last = m.last_run.message if m.last_run else ""
        table.add_row(
            str(m.id),
            m.name,
            m.cadence.value,
            m.status,
            f"{m.next_run_at:%Y-%m-%d %H:%M}",
            str(m.known),
            last or "",
        )
    out.print(table)


@monitors_app.command("run-due")
def monitors_run_due() -> None:
    """Run every monitor that is due (for cron, e.g. every 15 minutes)."""
    runs = _service(lambda sup: sup.monitors.run_due())
    for run in runs:
        _print_run(run)
    if not runs:
        err.print("No monitor is due.")


@monitors_app.command("run")
def monitors_run(monitor_id: MonitorArg) -> None:
    """Run one monitor now, whatever its schedule."""
    _print_run(_service(lambda sup: sup.monitors.run(monitor_id)))


@monitors_app.command("pause")
def monitors_pause(monitor_id: MonitorArg) -> None:
    """Stop checking until resumed."""
    _service(lambda sup: sup.monitors.pause(monitor_id))
    out.print(f"Monitor {monitor_id} paused.")


@monitors_app.command("resume")
def monitors_resume(monitor_id: MonitorArg) -> None:
    """Check again on schedule (a check missed while paused runs at once)."""
    _service(lambda sup: sup.monitors.resume(monitor_id))
    out.print(f"Monitor {monitor_id} resumed.")


@monitors_app.command("delete")
def monitors_delete(monitor_id: MonitorArg) -> None:
    """Delete the monitor and its runs (the leads it found stay in their list)."""
    _service(lambda sup: sup.monitors.delete(monitor_id))
    out.print(f"Monitor {monitor_id} deleted.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
