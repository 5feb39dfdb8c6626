"""What the command line prints: the plan, live progress, the outcome and the leads, as rich tables readable at
80 columns. Imported only by the commands that print them (rich is slow to import)."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from wyshbone.config import Settings
from wyshbone.domain.delivery import delivery_line, kind, outcome_headline, split_reason
from wyshbone.domain.models import (
    Delivery,
    Lead,
    LeadGenExecutionResult,
    LeadGenGoal,
    LeadGenPlan,
    LeadGenPlanStep,
    LeadToolIdentifier,
    PlanEvent,
    PlanEventType,
    PlanProgress,
    ProgressOverallStatus,
    ProgressStepStatus,
    StepProgress,
)
from wyshbone.domain.personas import pluralize
from wyshbone.domain.progress import project
from wyshbone.domain.qualifiers import QUALIFIERS

T = TypeVar("T")

out = Console()
err = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """Say what was wrong on stderr; the caller raises the returned exit (code 2: bad input)."""
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=2)


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


def print_plan(the_plan: LeadGenPlan) -> None:
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
    print_warnings(the_plan, out)


def print_warnings(the_plan: LeadGenPlan, console: Console) -> None:
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


async def execute_live(
    the_plan: LeadGenPlan,
    run: Callable[..., Coroutine[Any, Any, LeadGenExecutionResult]],
    console: Console,
) -> LeadGenExecutionResult:
    return await follow_live(run, console, plan=the_plan)


async def follow_live(
    run: Callable[..., Coroutine[Any, Any, T]], console: Console, *, plan: LeadGenPlan | None = None
) -> T:
    """``run(on_event=...)``, its plan's steps shown live as its events arrive, retries and failures as lines
    above them. The steps are ``plan``'s, or (a plan made inside ``run``, as a monitor's check is) those its
    first event names: then nothing shows until it starts, so a run refused before it starts prints no table."""
    events: list[PlanEvent] = []
    titles = {step.id: step.title for step in plan.steps} if plan is not None else {}
    live = Live(_progress_view(project([], plan=plan)), console=console, refresh_per_second=8)

    def on_event(event: PlanEvent) -> None:
        events.append(event)
        if event.type is PlanEventType.PLAN_STARTED and not titles:
            titles.update((str(s["stepId"]), str(s["title"])) for s in event.data.get("steps", []))
        if not live.is_started:
            live.start()
        note = _event_note(event, titles)
        if note:
            live.console.print(note, highlight=False)
        live.update(_progress_view(project(events, plan=plan)))

    if plan is not None:
        live.start()
    try:
        result = await run(on_event=on_event)
    finally:
        shown = live.is_started
        live.stop()
    if shown and not console.is_terminal:
        console.line()
    return result


def cut(text: str, limit: int) -> str:
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


def print_outcome(
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
        from wyshbone.storage.db import shown_url  # never the password

        out.print(f"[dim]Stored in {shown_url(settings.store_url)}[/]", highlight=False)
    tools = {step.id: step.tool for step in the_plan.steps}
    for step in result.step_results:
        data = step.data or {}
        tool = tools.get(step.step_id)
        if tool == LeadToolIdentifier.EMAIL_SEQUENCE_SETUP and "sequenceId" in data:
            _print_drafts(data)
        elif tool == LeadToolIdentifier.MONITOR_SETUP and "monitorId" in data:
            out.print(
                f"Monitor {data['monitorId']}: checks {data['cadence']}. Its first check, due now, learns what"
                " is already there; later checks report only new businesses.",
                highlight=False,
            )
            out.print(f"  now:  wyshbone monitors run {data['monitorId']}", highlight=False)
            out.print("  cron: wyshbone monitors run-due", highlight=False)


def _print_drafts(data: Mapping[str, Any]) -> None:
    """What the outreach step drafted, and the commands to review and send it."""
    drafted = int(data["drafted"])
    not_drafted = len(data.get("notDrafted", []))
    out.print(
        f"Outreach: {drafted} {pluralize('lead', drafted)} drafted, {not_drafted} not; nothing is sent yet.",
        highlight=False,
    )
    out.print(f"  review: wyshbone outreach show --list {data['listId']}", highlight=False)
    out.print(f"  send:   wyshbone outreach send --list {data['listId']}", highlight=False)


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
            found = f"{email.value} ({email.verification})" if email else ""
            row.append("\n".join(v for v in (lead.phone, found, "" if email else lead.domain) if v))
        table.add_row(*row)
    return table
