"""The outreach commands: show a list's sequence, send what is due, stop a lead who replied, suppress."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from wyshbone.cli.common import service
from wyshbone.cli.output import cut, out
from wyshbone.domain.outreach import SuppressionReason

OUTREACH_WORDS = {"opted_out": "opted out", "skipped": "not drafted"}
"""A lead's outreach status as the table says it (the page's app.js says the same)."""


def show(list_id: int, *, as_json: bool) -> None:
    sequence = service(lambda app: app.outreach.sequence(list_id))
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
        messages.add_row(str(m.id), m.email, m.step_key, m.subject, m.status, cut(m.reply or "", 60))
    out.print(messages)


def send(list_id: int, *, limit: int | None, as_json: bool) -> None:
    def shown(message: Any) -> None:
        if not as_json:
            colour = "green" if message.status == "sent" else "red"
            out.print(
                f"[{colour}]{message.status}[/] {message.email} · {message.step_key} · {message.reply or ''}"
            )

    report = service(lambda app: app.outreach.send(list_id, limit=limit, on_message=shown))
    if as_json:
        typer.echo(report.model_dump_json(by_alias=True, indent=2))
        return
    out.print(
        f"{report.sent} sent, {report.failed} failed, {report.suppressed} suppressed of {report.due} due"
        + (f"; {report.capped} left for tomorrow by the daily cap" if report.capped else "")
    )


def mark_replied(list_id: int, email: str) -> None:
    stopped = service(lambda app: app.outreach.mark_replied(list_id, email))
    out.print(f"Stopped {stopped} unsent message(s) to {email}.")


def suppress(values: list[str], account: str) -> None:
    stopped = service(lambda app: app.outreach.suppress(account, values, SuppressionReason.MANUAL))
    out.print(
        f"Suppressed {len(values)} entr{'y' if len(values) == 1 else 'ies'}; stopped {stopped} unsent message(s)."
    )


def suppressions(account: str) -> None:
    entries = service(lambda app: app.outreach.suppressions(account))
    typer.echo(json.dumps([e.to_json_dict() for e in entries], indent=2))
