"""The monitor commands: list, run the due ones (cron), run one now (its check's steps shown live, as ``run``
shows a plan's), pause, resume, delete."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import partial

import typer
from rich.table import Table

from wyshbone.bootstrap import AppContext
from wyshbone.cli.common import service
from wyshbone.cli.output import err, follow_live, out
from wyshbone.domain.monitors import Monitor, MonitorRun

RUN_WORDS = {"setup": "Set up", "baseline": "First check", "scheduled": "Checked", "manual": "Checked"}
"""What each kind of run is called where the last one is shown."""


def _print_run(run: MonitorRun) -> None:
    colour = "green" if run.status == "succeeded" else "red"
    out.print(f"[{colour}]{run.status}[/] monitor {run.monitor_id}: {run.message or run.error or ''}")
    for name in run.new_leads:
        out.print(f"  + {name}")


def _next_check(monitor: Monitor, now: datetime) -> str:
    if monitor.status != "active":
        return "paused"
    if monitor.next_run_at <= now:
        return "due now"
    return f"{monitor.next_run_at:%d %b %H:%M}"


def _last_run(run: MonitorRun | None) -> str:
    """The last run in a few words (its full sentence: ``monitors run`` and ``--json``)."""
    if run is None:
        return ""
    said = f"{RUN_WORDS.get(run.kind, 'Checked')} {run.finished_at:%d %b %H:%M}"
    if run.status != "succeeded":
        return f"{said}: failed"
    if run.kind in ("setup", "baseline"):
        return f"{said}: {run.found} found"
    drafted = f", {run.drafted} drafted" if run.drafted else ""
    return f"{said}: {run.new} new{drafted}"


def list_all(*, as_json: bool) -> None:
    found = service(lambda app: app.monitors.all())
    if as_json:
        typer.echo(json.dumps([m.to_json_dict() for m in found], indent=2))
        return
    table = Table(title="Monitors")
    for col in ("#", "Name", "Checks", "Status", "Next check", "Knows", "Last run"):
        table.add_column(col)
    now = datetime.now(UTC)
    for m in found:
        table.add_row(
            str(m.id),
            m.name,
            m.cadence.value,
            m.status,
            _next_check(m, now),
            str(m.known),
            _last_run(m.last_run),
        )
    out.print(table)


def run_due() -> None:
    runs = service(lambda app: app.monitors.run_due())
    for run in runs:
        _print_run(run)
    if not runs:
        err.print("No monitor is due.")


def run_one(monitor_id: int) -> None:
    """Check the monitor now, its check's steps shown as they run, then what it found."""

    async def use(app: AppContext) -> MonitorRun:
        await app.monitors.get(monitor_id)  # no such monitor: say so before showing anything
        return await follow_live(partial(app.monitors.run, monitor_id), out)

    _print_run(service(use))


def pause(monitor_id: int) -> None:
    service(lambda app: app.monitors.pause(monitor_id))
    out.print(f"Monitor {monitor_id} paused.")


def resume(monitor_id: int) -> None:
    service(lambda app: app.monitors.resume(monitor_id))
    out.print(f"Monitor {monitor_id} resumed.")


def delete(monitor_id: int) -> None:
    service(lambda app: app.monitors.delete(monitor_id))
    out.print(f"Monitor {monitor_id} deleted.")
