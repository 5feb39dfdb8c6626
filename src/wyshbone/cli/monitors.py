"""The monitor commands: list, run the due ones (cron), run one now, pause, resume, delete."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from wyshbone.cli.common import service
from wyshbone.cli.output import err, out
from wyshbone.domain.monitors import MonitorRun


def _print_run(run: MonitorRun) -> None:
    colour = "green" if run.status == "succeeded" else "red"
    out.print(f"[{colour}]{run.status}[/] monitor {run.monitor_id}: {run.message or run.error or ''}")
    for name in run.new_leads:
        out.print(f"  + {name}")


def list_all(*, as_json: bool) -> None:
    found = service(lambda app: app.monitors.all())
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


def run_due() -> None:
    runs = service(lambda app: app.monitors.run_due())
    for run in runs:
        _print_run(run)
    if not runs:
        err.print("No monitor is due.")


def run_one(monitor_id: int) -> None:
    _print_run(service(lambda app: app.monitors.run(monitor_id)))


def pause(monitor_id: int) -> None:
    service(lambda app: app.monitors.pause(monitor_id))
    out.print(f"Monitor {monitor_id} paused.")


def resume(monitor_id: int) -> None:
    service(lambda app: app.monitors.resume(monitor_id))
    out.print(f"Monitor {monitor_id} resumed.")


def delete(monitor_id: int) -> None:
    service(lambda app: app.monitors.delete(monitor_id))
    out.print(f"Monitor {monitor_id} deleted.")
