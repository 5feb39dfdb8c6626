"""Small helpers the repositories share: how times are stored, and inserting a plan step's row only once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select


def iso(when: datetime | None = None) -> str:
    """A UTC time as stored: fixed width (microseconds always written), so stored times compare as strings."""
    return (when or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def lapsed(lease_until: Any, now: datetime) -> Any:
    """A lease column's condition "nobody holds it at ``now``": never taken, released, or run out."""
    return lease_until.is_(None) | (lease_until < iso(now))


def stamp() -> str:
    """Now, as the plan, session, message and lead-list rows record when they were written (never compared
    with the fixed-width times above, only ordered among themselves)."""
    return datetime.now(UTC).isoformat()


def parse_time(value: str | None) -> datetime | None:
    """A stored time back as a datetime (None stays None)."""
    return datetime.fromisoformat(value) if value else None


def insert_once(
    conn: Connection, table: Any, *, plan_id: str, step_id: str, values: dict[str, Any]
) -> tuple[int, bool]:
    """The id of ``table``'s row for this plan step, inserting it with ``values`` when there is none; and
    whether it was inserted now (a step run again after a crash finds its row and adds nothing)."""
    found = select(table.c.id).where(table.c.plan_id == plan_id, table.c.step_id == step_id)
    existing = conn.execute(found).scalar()
    if existing is not None:
        return int(existing), False
    return new_id(conn, table.insert().values(plan_id=plan_id, step_id=step_id, **values)), True


def new_id(conn: Connection, insert: Any) -> int:
    """Run ``insert`` and return the row's new integer key."""
    return int(conn.execute(insert).inserted_primary_key[0])  # type: ignore[index]
