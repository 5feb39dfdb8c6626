"""``MemoryOutreachRepository``: the outreach repository in memory, row for row what the tables would hold (the
same row builders, the same stored times), so it behaves as the database does."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from wyshbone.domain.outreach import (
    SENDABLE,
    OutreachMessage,
    OutreachSequence,
    QueuedMessage,
    Suppression,
    SuppressionKind,
)
from wyshbone.errors import NotFoundError
from wyshbone.storage._memory import Row, Table
from wyshbone.storage._sql import iso
from wyshbone.storage.outreach import (
    ACTIVE,
    SENDING,
    STOPPED,
    MessageMove,
    NewSequence,
    OutreachRepository,
    covering_domains,
    suppression_rows,
    to_message,
    to_queued,
    to_sequence,
    to_suppression,
)


def _covers(entry: Suppression, lead: Row) -> bool:
    """Whether ``entry`` covers the lead's address: the address itself, or the domain and the domains below it
    (as the database's ``LIKE '%@domain' OR LIKE '%@%.domain'`` reads it)."""
    email: str | None = lead["email"]
    if email is None:
        return False
    if entry.kind is SuppressionKind.ADDRESS:
        return email == entry.value
    host = email.partition("@")[2]
    return "@" in email and (host == entry.value or host.endswith(f".{entry.value}"))


@dataclass
class MemoryOutreachRepository(OutreachRepository):
    """``OutreachRepository`` in memory."""

    _sequences: Table = field(default_factory=Table)
    _leads: dict[tuple[int, str], Row] = field(default_factory=dict)
    """(sequence id, lead key) → the sequence's lead."""
    _messages: Table = field(default_factory=Table)
    _suppressions: dict[tuple[str, str, str], Row] = field(default_factory=dict)
    """(account, kind, value) → the entry."""

    async def _create_sequence(self, new: NewSequence) -> tuple[int, bool]:
        sequence_id, created = self._sequences.insert_once(
            plan_id=new.plan_id, step_id=new.step_id, values=new.values
        )
        for row in new.lead_rows(sequence_id):
            self._leads.setdefault((sequence_id, row["lead_key"]), row)
        taken = {(m["sequence_id"], m["lead_key"], m["step_index"]) for m in self._messages.rows.values()}
        keys = {m["idempotency_key"] for m in self._messages.rows.values()}
        for row in new.message_rows(sequence_id):
            unique = (row["sequence_id"], row["lead_key"], row["step_index"])
            if unique not in taken and row["idempotency_key"] not in keys:  # the table's two constraints
                self._messages.insert(row)
                taken.add(unique)
                keys.add(row["idempotency_key"])
        return sequence_id, created

    async def sequence_lead_keys(self, *, plan_id: str, step_id: str) -> set[str]:
        ids = {row["id"] for row in self._sequences.where(plan_id=plan_id, step_id=step_id)}
        return {key for sequence_id, key in self._leads if sequence_id in ids}

    async def sequence(
        self, *, list_id: int | None = None, sequence_id: int | None = None, items: bool = True
    ) -> OutreachSequence | None:
        row = (
            self._sequences.get(sequence_id)
            if sequence_id is not None
            else self._sequences.first(list_id=list_id)
        )
        if row is None or not items:
            return None if row is None else to_sequence(row, [], [])
        leads = sorted(self._leads_of(row["id"]), key=lambda r: (r["lead_name"], r["lead_key"]))
        names = {lead["lead_key"]: lead["lead_name"] for lead in leads}
        messages = sorted(
            self._messages.where(sequence_id=row["id"]), key=lambda m: (m["step_index"], m["id"])
        )
        return to_sequence(row, leads, [to_message(m, names.get(m["lead_key"], "")) for m in messages])

    def _leads_of(self, sequence_id: int) -> list[Row]:
        return [r for (s, _), r in self._leads.items() if s == sequence_id]

    async def queued_messages(self, sequence_id: int) -> list[QueuedMessage]:
        active = {r["lead_key"] for r in self._leads_of(sequence_id) if r["status"] == ACTIVE}
        return [
            to_queued(m) for m in self._messages.where(sequence_id=sequence_id) if m["lead_key"] in active
        ]

    async def outgoing(self, message_id: int) -> tuple[OutreachMessage, str]:
        row = self._messages.get(message_id)
        lead = None if row is None else self._leads.get((row["sequence_id"], row["lead_key"]))
        if row is None or lead is None:
            raise NotFoundError(f"no outreach message {message_id}")
        return to_message(row, lead["lead_name"]), str(row["body_html"])

    async def _apply(self, move: MessageMove) -> bool:
        row = self._messages.get(move.message_id)
        if row is None or row["status"] not in move.from_:
            return False
        row.update(move.values)
        row["attempts"] += 1 if move.claim else 0
        return True

    async def sent_since(self, account_id: str, since: datetime) -> int:
        ids = {row["id"] for row in self._sequences.where(account_id=account_id)}
        after = iso(since)
        return sum(
            1
            for m in self._messages.rows.values()
            if m["sequence_id"] in ids
            and (
                (m["status"] == "sent" and m["sent_at"] >= after)
                or (m["status"] == SENDING and m["updated_at"] >= after)
            )
        )

    async def stop_lead(self, sequence_id: int, email: str, *, status: str, reason: str) -> int:
        sequence = self._sequences.get(sequence_id)
        if sequence is None:
            raise NotFoundError(f"no outreach sequence {sequence_id}")
        address = email.strip().lower()

        def matches(lead: Row) -> bool:
            return bool(lead["email"] == address and lead["sequence_id"] == sequence_id)

        return self._stop(sequence["account_id"], matches, status, reason)

    def _stop(self, account_id: str, matches: Callable[[Row], bool], status: str, reason: str) -> int:
        """Move the account's active sequence leads that ``matches`` to ``status``; stop their unsent mail."""
        ids = {row["id"] for row in self._sequences.where(account_id=account_id)}
        now, stopped = iso(), 0
        for (sequence_id, key), lead in self._leads.items():
            if sequence_id not in ids or lead["status"] != ACTIVE or not matches(lead):
                continue
            lead.update(status=status, reason=reason, updated_at=now)
            for message in self._messages.where(sequence_id=sequence_id, lead_key=key):
                if message["status"] in SENDABLE:
                    message.update(status=STOPPED, updated_at=now)
                    stopped += 1
        return stopped

    async def suppressions(self, account_id: str, *, email: str | None = None) -> dict[tuple[str, str], str]:
        rows = [r for (account, _, _), r in self._suppressions.items() if account == account_id]
        if email is not None:
            address, domains = covering_domains(email)
            wanted = {(SuppressionKind.ADDRESS.value, address)}
            wanted |= {(SuppressionKind.DOMAIN.value, domain) for domain in domains}
            rows = [r for r in rows if (r["kind"], r["value"]) in wanted]
        return {(r["kind"], r["value"]): r["reason"] for r in rows}

    async def list_suppressions(self, account_id: str) -> list[Suppression]:
        rows = [r for (account, _, _), r in self._suppressions.items() if account == account_id]
        return [to_suppression(r) for r in sorted(rows, key=lambda r: (r["created_at"], r["value"]))]

    async def add_suppressions(
        self, account_id: str, entries: Sequence[Suppression], *, lead_status: str = "suppressed"
    ) -> int:
        for row in suppression_rows(account_id, entries, iso()):
            self._suppressions.setdefault((account_id, row["kind"], row["value"]), row)
        stopped = 0
        for entry in entries:
            why = f"{entry.reason.value}: {entry.value}"
            stopped += self._stop(account_id, functools.partial(_covers, entry), lead_status, why)
        return stopped
