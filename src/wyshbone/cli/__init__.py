"""The command line: ``wyshbone plan | run | demo | leads | serve | worker | db | outreach | monitors``. Thin adapters
over ``services``, opened by ``bootstrap``.

Bad input ends with a message on stderr and exit code 2, having written nothing. This module holds only the
commands' signatures and help: each command imports its implementation (and with it rich, pydantic, the
services and the store) when it runs, so ``wyshbone --help`` starts as fast as Typer itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Wyshbone Supervisor: a sales goal in plain words → a plan → live execution → leads.",
    rich_markup_mode=None,
)
db_app = typer.Typer(help="The store's schema, and the embedded business directory.", rich_markup_mode=None)
app.add_typer(db_app, name="db")
outreach_app = typer.Typer(
    help="Outreach drafts: review, send over SMTP, stop, suppress.", rich_markup_mode=None
)
app.add_typer(outreach_app, name="outreach")
monitors_app = typer.Typer(
    help="Monitors that re-run a plan's search and report only new businesses.", rich_markup_mode=None
)
app.add_typer(monitors_app, name="monitors")

CLI_USER_ID = "cli"
"""Who the command line plans and sends as (``common.CLI_USER``)."""
MAX_ID = 2**63 - 1

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
ListOpt = Annotated[
    int,
    typer.Option("--list", min=1, max=MAX_ID, help="The lead list's id (printed when its plan finishes)."),
]
AccountOpt = Annotated[
    str, typer.Option("--account", help="Whose suppression list (default: this command line's user).")
]
MonitorArg = Annotated[int, typer.Argument(min=1, max=MAX_ID, help="The monitor's id.")]

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
    from wyshbone.cli import plans

    plans.plan(goal, as_json=as_json, must_be=must_be)


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
    from wyshbone.cli import plans

    plans.run(goal, yes=yes, as_json=as_json, verbose=verbose, must_be=must_be)


@app.command()
def leads(
    plan_id: Annotated[str, typer.Argument(help="The plan whose saved leads to print.")],
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV instead of JSON.")] = False,
) -> None:
    """Print a plan's saved leads (JSON, or CSV with --csv), each with its provenance."""
    from wyshbone.cli import plans

    plans.leads(plan_id, as_csv=as_csv)


@app.command()
def demo(
    step_seconds: Annotated[float, typer.Option(help="How long each scripted step takes.")] = 0.6,
) -> None:
    """The spec's test script: 3 scripted steps succeed; then the same plan with one tool failing. After each
    run's table, its event lines as logged ([LEAD_GEN_PLAN] {...}: STEP_RETRYING, STEP_SKIPPED, ...)."""
    from wyshbone.cli import plans

    plans.demo(step_seconds=step_seconds)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on (default WYSHBONE_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default WYSHBONE_PORT, 8000).")] = None,
) -> None:
    """Serve the web app and API; plans left executing by a crash resume on start."""
    from wyshbone.cli.serve import serve as serve_app

    serve_app(host, port)


@app.command()
def worker(
    concurrency: Annotated[
        int,
        typer.Option(min=1, max=1000, help="How many jobs (plans, sends, checks) this worker runs at once."),
    ] = 8,
    queues: Annotated[
        list[str] | None,
        typer.Option(
            "--queues",
            help="Only these queues: plans, outreach, maintenance (repeat, or separate with commas; default: all).",
        ),
    ] = None,
) -> None:
    """Run approved plans, sends and monitor checks as jobs from the shared Postgres queue
    (WYSHBONE_EXECUTION=queue), until Ctrl-C or SIGTERM; start as many as you like, on any machine. A worker
    that dies mid-plan: another resumes it."""
    from wyshbone.cli.worker import work

    work(concurrency=concurrency, queues=queues)


@db_app.command("migrate")
def db_migrate() -> None:
    """Bring the store (WYSHBONE_DATABASE_URL) to the newest schema, with the job queue's tables in queue
    mode (idempotent; servers and workers also do it on start)."""
    from wyshbone.cli.worker import migrate

    migrate()


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
    from wyshbone.cli import db

    db.import_data(paths, if_missing=if_missing)


@db_app.command("info")
def db_info() -> None:
    """Show whether the directory is imported, and how many businesses it holds."""
    from wyshbone.cli import db

    db.info()


# --- outreach ---------------------------------------------------------------------------------------------------


@outreach_app.command("show")
def outreach_show(list_id: ListOpt, as_json: JsonOpt = False) -> None:
    """The list's sequence: each lead's status, and each message with its status and the server's reply."""
    from wyshbone.cli import outreach

    outreach.show(list_id, as_json=as_json)


@outreach_app.command("send")
def outreach_send(
    list_id: ListOpt,
    limit: Annotated[int | None, typer.Option(min=1, help="Send at most this many now.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Send the list's due messages over SMTP (WYSHBONE_SMTP_URL): daily cap, a gap between messages, and
    never the same step twice to the same lead."""
    from wyshbone.cli import outreach

    outreach.send(list_id, limit=limit, as_json=as_json)


@outreach_app.command("mark-replied")
def outreach_mark_replied(
    list_id: ListOpt, email: Annotated[str, typer.Argument(help="The address that replied.")]
) -> None:
    """Stop the sequence for a lead who replied."""
    from wyshbone.cli import outreach

    outreach.mark_replied(list_id, email)


@outreach_app.command("suppress")
def outreach_suppress(
    values: Annotated[list[str], typer.Argument(help="Email addresses or domains never to write to.")],
    account: AccountOpt = CLI_USER_ID,
) -> None:
    """Put addresses or whole domains on the suppression list (checked when drafting and when sending)."""
    from wyshbone.cli import outreach

    outreach.suppress(values, account)


@outreach_app.command("suppressions")
def outreach_suppressions(account: AccountOpt = CLI_USER_ID) -> None:
    """Print the suppression list as JSON."""
    from wyshbone.cli import outreach

    outreach.suppressions(account)


# --- monitors ---------------------------------------------------------------------------------------------------


@monitors_app.command("list")
def monitors_list(as_json: JsonOpt = False) -> None:
    """Every monitor with its cadence, next check and last run."""
    from wyshbone.cli import monitors

    monitors.list_all(as_json=as_json)


@monitors_app.command("run-due")
def monitors_run_due() -> None:
    """Run every monitor that is due (for cron, e.g. every 15 minutes)."""
    from wyshbone.cli import monitors

    monitors.run_due()


@monitors_app.command("run")
def monitors_run(monitor_id: MonitorArg) -> None:
    """Run one monitor now, whatever its schedule."""
    from wyshbone.cli import monitors

    monitors.run_one(monitor_id)


@monitors_app.command("pause")
def monitors_pause(monitor_id: MonitorArg) -> None:
    """Stop checking until resumed."""
    from wyshbone.cli import monitors

    monitors.pause(monitor_id)


@monitors_app.command("resume")
def monitors_resume(monitor_id: MonitorArg) -> None:
    """Check again on schedule (a check missed while paused runs at once)."""
    from wyshbone.cli import monitors

    monitors.resume(monitor_id)


@monitors_app.command("delete")
def monitors_delete(monitor_id: MonitorArg) -> None:
    """Delete the monitor and its runs (the leads it found stay in their list)."""
    from wyshbone.cli import monitors

    monitors.delete(monitor_id)


def main() -> None:
    app()


__all__ = ["app", "main"]
