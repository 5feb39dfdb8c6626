"""Monitor decisions, pure: cadences, what is new since the last run, and the message that reports it."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field

from wyshbone.domain.dedupe import lead_keys
from wyshbone.domain.models import CamelModel, Lead
from wyshbone.domain.personas import pluralize
from wyshbone.errors import InputError


class Cadence(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


DEFAULT_CADENCE = Cadence.WEEKLY


def cadence_of(value: object) -> Cadence:
    try:
        return Cadence(str(value or DEFAULT_CADENCE).strip().lower())
    except ValueError:
        raise InputError(f"unknown cadence {value!r}: use daily, weekly or monthly") from None


def next_run_after(cadence: Cadence, after: datetime) -> datetime:
    """The next time a monitor with ``cadence`` is due, counted from ``after``.

    Monthly keeps the day of the month where it can (31 January → 28 or 29 February).
    """
    if cadence is Cadence.DAILY:
        return after + timedelta(days=1)
    if cadence is Cadence.WEEKLY:
        return after + timedelta(weeks=1)
    year, month = (after.year + 1, 1) if after.month == 12 else (after.year, after.month + 1)
    day = min(after.day, calendar.monthrange(year, month)[1])
    return after.replace(year=year, month=month, day=day)


def identities(lead: Lead) -> tuple[str, str]:
    """The two keys a lead is known by (its source record; its name at its postcode)."""
    return lead_keys(lead.source_id, lead.name, lead.postcode)


def new_leads(found: Iterable[Lead], known: set[str]) -> list[Lead]:
    """The leads of ``found`` known by neither identity, each business once, in the order found."""
    seen = set(known)
    fresh = []
    for lead in found:
        keys = identities(lead)
        if seen.isdisjoint(keys):
            fresh.append(lead)
        seen.update(keys)
    return fresh


def report(new: int, *, persona: str | None, region: str | None, since: datetime, now: datetime) -> str:
    """ "3 new coffee shops in Manchester since 1 Nov" (or "No new ... since ..."); the year only when not ``now``'s."""
    noun = pluralize(persona or "business", new)
    where = f" in {region}" if region else ""
    when = f"{since.day} {since:%b}" + ("" if since.year == now.year else f" {since.year}")
    if new == 0:
        return f"No new {noun}{where} since {when}."
    return f"{new} new {noun}{where} since {when}."


class MonitorRun(CamelModel):
    id: int | None = None
    monitor_id: int
    kind: str
    """setup (what the plan knew when the monitor was made) | baseline (the first check that succeeds: it
    learns what is there and reports nothing as new) | scheduled | manual"""
    status: str
    """succeeded | failed"""
    started_at: datetime
    finished_at: datetime
    found: int = 0
    new: int = 0
    new_leads: list[str] = Field(default_factory=list)
    """Names of the new businesses."""
    drafted: int = 0
    """New businesses that got outreach drafts (the plan's outreach step, run again for them)."""
    message: str | None = None
    error: str | None = None
    plan_id: str | None = Field(default=None, exclude_if=lambda plan_id: plan_id is None)
    """The check plan this run executed (its steps, events and progress); None for the set-up's record."""


class Monitor(CamelModel):
    id: int
    plan_id: str
    step_id: str
    session_id: str | None
    user_id: str
    list_id: int
    name: str
    search: dict[str, Any]
    """The tool and params the monitor re-runs."""
    cadence: Cadence
    status: str
    """active | paused"""
    next_run_at: datetime
    last_run_at: datetime | None = None
    last_success_at: datetime | None = None
    created_at: datetime
    known: int = 0
    """How many businesses the monitor already knows."""
    last_run: MonitorRun | None = None
