"""The command line: ``wyshbone plan | run | demo | leads | db | outreach | monitors``. Thin adapters over ``services``.

Bad input ends with a message on stderr and exit code 2, having written nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import signal
import sys
from collections.abc import Callable, Coroutine
from functools import partial
from logging.handlers import QueueHandler, QueueListener
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from wyshbone.config import Settings
from wyshbone.demo import demo_plan, demo_registry
from wyshbone.domain.leads import leads_csv
from wyshbone.domain.models import (
    Lead,
    LeadGenExecutionResult,
    LeadGenPlan,
    PlanEvent,
    PlanProgress,
    SupervisorUserContext,
)
from wyshbone.domain.outreach import SuppressionReason
from wyshbone.domain.progress import project
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

STATUS_STYLE = {
    "pending": "dim",
    "running": "bold yellow",
    "completed": "green",
    "failed": "bold red",
    "skipped": "magenta",
    "cancelled": "red",
}


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


@app.command()
def plan(goal: GoalArg, as_json: JsonOpt = False) -> None:
    """Show the parsed goal, its assumptions, the steps and the estimate. Stores nothing."""
    settings = _settings()

    async def use(sup: Supervisor) -> LeadGenPlan:
        return sup.plan(goal, CLI_USER)

    the_plan = _plan_or_exit(lambda: _run(_with_supervisor(settings, use)))
    if as_json:
        typer.echo(the_plan.model_dump_json(indent=2))
    else:
        _print_plan(the_plan)


def _plan_or_exit(make: Callable[[], T]) -> T:
    try:
        return make()
    except UnplannableGoalError as exc:
        raise _fail("I can't plan that goal:\n  - " + "\n  - ".join(exc.problems)) from None
    except WyshboneError as exc:
        raise _fail(str(exc)) from None


def _print_plan(the_plan: LeadGenPlan) -> None:
    g = the_plan.goal
    out.print(f"[bold]Goal:[/] {g.raw_goal}")
    channels = ", ".join(g.preferred_channels) or "none"
    monitoring = f"yes ({g.monitor_cadence})" if g.include_monitoring else "no"
    out.print(
        f"  persona [cyan]{g.target_persona}[/] · region [cyan]{g.target_region}[/] ({g.country}) · "
        f"volume [cyan]{g.volume}[/] · outreach {channels} · monitoring {monitoring}"
    )
    for assumption in the_plan.assumptions:
        out.print(f"  [dim]assumed:[/] {assumption}")
    availability = {a.step_id: a for a in the_plan.estimate.steps}
    table = Table(title=f"Plan {the_plan.id}", show_lines=False)
    for col in ("#", "Step", "Tool", "Providers", "Will run"):
        table.add_column(col)
    for i, step in enumerate(the_plan.steps, start=1):
        avail = availability.get(step.id)
        if avail is None or (avail.will_run and not avail.reason):
            runs = "yes"
        elif avail.will_run:
            runs = f"[red]yes, but {avail.reason}[/]"
        else:
            runs = f"[magenta]skipped[/]: {avail.reason}"
        table.add_row(str(i), step.title, step.tool, " → ".join(step.providers) or "—", runs)
    out.print(table)
    est = the_plan.estimate
    external = [c for c in est.calls if c.configured]
    if external:
        for c in external:
            price = f"${c.cost_usd:.2f}" if c.cost_usd is not None else "free"
            out.print(f"  estimate: {c.provider} ≤ {c.calls} call(s), {price} ({c.note})")
    out.print(
        f"  [bold]estimated cost:[/] ${est.total_cost_usd:.2f} (no external paid calls)"
        if not external
        else f"  [bold]estimated cost:[/] ${est.total_cost_usd:.2f}"
    )


def _progress_table(progress: PlanProgress) -> Table:
    table = Table(title=f"Plan {progress.plan_id} · {progress.overall_status.value}", expand=False)
    for col in ("#", "Step", "Status", "Tries", "Provider", "Note"):
        table.add_column(col, no_wrap=col in ("#", "Status", "Tries"))
    for step in progress.steps:
        style = STATUS_STYLE.get(step.status.value, "")
        table.add_row(
            str(step.index + 1),
            step.title,
            Text(step.status.value, style=style),
            str(step.attempts or ""),
            step.provider or "",
            _cut(step.error_message or "", 40),
        )
    return table


async def _execute_live(
    the_plan: LeadGenPlan,
    run: Callable[..., Coroutine[Any, Any, LeadGenExecutionResult]],
    console: Console,
) -> LeadGenExecutionResult:
    events: list[PlanEvent] = []
    with Live(_progress_table(project([], plan=the_plan)), console=console, refresh_per_second=8) as live:

        def on_event(event: PlanEvent) -> None:
            events.append(event)
            note = _event_note(event)
            if note:
                live.console.print(note, highlight=False)
            live.update(_progress_table(project(events, plan=the_plan)))

        result = await run(on_event=on_event)
    if not console.is_terminal:
        console.line()
    return result


def _cut(text: str, limit: int) -> str:
    """Full messages are printed as lines above the table; in the table they are cut short."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


_NOTES = {
    "STEP_RETRYING": "[yellow]↻ retrying[/] {step} (attempt {attempt}) in {delay}s: {error}",
    "STEP_FALLBACK": "[yellow]⇢ falling back[/] {step} to {provider}: {error}",
    "STEP_FAILED": "[red]✗ failed[/] {step}: {error}",
    "STEP_SKIPPED": "[magenta]–[/] {step} {error}",
}


def _event_note(event: PlanEvent) -> str | None:
    """One line for the transitions a person should notice (the table shows the rest)."""
    template = _NOTES.get(event.type.value)
    if template is None:
        return None
    return template.format(
        step=event.step_id,
        attempt=event.attempt,
        delay=event.data.get("delaySeconds"),
        provider=event.provider,
        error=event.error_message or "",
    )


@app.command()
def run(
    goal: GoalArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Approve the plan without asking.")] = False,
    as_json: JsonOpt = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print event lines to stderr.")
    ] = False,
) -> None:
    """Plan the goal, ask for approval, execute it with live progress, save the leads."""
    settings = _settings()
    _setup_logging(settings, verbose)
    _run(_with_supervisor(settings, lambda sup: _run_goal(sup, goal, yes=yes, as_json=as_json)))


async def _run_goal(sup: Supervisor, goal: str, *, yes: bool, as_json: bool) -> None:
    the_plan = _plan_or_exit(lambda: sup.plan(goal, CLI_USER))
    display = err if as_json else out
    if not as_json:
        _print_plan(the_plan)
    if not yes and not typer.confirm("Approve this plan?", default=True, err=as_json):
        err.print("Not approved: nothing was run.")
        raise typer.Exit(code=1)
    await sup.store.save_plan(the_plan)
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
    _print_outcome(result, leads, sup.settings)


def _print_outcome(result: LeadGenExecutionResult, leads: list[Lead] | Any, settings: Settings) -> None:
    colour = {"succeeded": "green", "partial": "yellow"}.get(result.overall_status.value, "red")
    out.print(f"[bold]Overall:[/] [{colour}]{result.overall_status.value}[/]")
    if leads:
        table = Table(title=f"{len(leads)} leads saved")
        with_contacts = any(lead.domain or lead.emails for lead in leads)
        columns = ["#", "Name", "Address", "Postcode", "km", "Source"] + (
            ["Domain", "Email"] if with_contacts else []
        )
        for col in columns:
            table.add_column(col)
        for i, lead in enumerate(leads, start=1):
            dist = f"{lead.distance_km:.1f}" if lead.distance_km is not None else ""
            row = [str(i), lead.name, lead.address or "", lead.postcode or "", dist, lead.source_id]
            if with_contacts:
                email = lead.emails[0] if lead.emails else None
                found = f"{email['value']} ({email.get('verification', 'unverified')})" if email else ""
                row += [lead.domain or "", found]
            table.add_row(*row)
        out.print(table)
        out.print(
            f"Saved in {settings.store_url.split('///')[-1]} · export: wyshbone leads {result.plan_id} --csv"
        )
    else:
        out.print("No leads were saved.")
    for step in result.step_results:
        data = step.data or {}
        if "sequenceId" in data:
            out.print(
                f"Outreach: {data['drafted']} lead(s) drafted, {len(data.get('notDrafted', []))} not · review: "
                f"wyshbone outreach show --list {data['listId']} · send: wyshbone outreach send --list {data['listId']}"
            )
        if "monitorId" in data:
            out.print(
                f"Monitor {data['monitorId']}: {data['cadence']}, next check {data['nextRunAt'][:16]} · "
                "cron: wyshbone monitors run-due"
            )


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
    """The spec's test script: 3 scripted steps succeed; then the same plan with one tool failing."""

    async def both() -> None:
        for title, failing in (("All tools working", False), ("The enrichment tool failing", True)):
            out.rule(title)
            the_plan = demo_plan(f"demo-{'failing' if failing else 'ok'}")
            runtime = Runtime(registry=demo_registry(failing=failing, step_seconds=step_seconds))
            execute = partial(execute_lead_generation_plan, the_plan, CLI_USER, runtime=runtime)
            result = await _execute_live(the_plan, execute, out)
            out.print(f"Overall: [bold]{result.overall_status.value}[/]")

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
        table.add_row(lead.lead_name, lead.email or "", lead.status, lead.reason or "")
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
