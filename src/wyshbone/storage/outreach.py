"""Outreach: a list's email sequence with its leads and drafted messages, each message's moves from draft to
sent (claimed before it is sent, so it is sent once), and each account's suppression list.

``OutreachRepository`` is the contract; ``SqlOutreachRepository`` keeps it in the database and
``MemoryOutreachRepository`` (``storage._outreach_memory``) in memory, with the same behaviour. A message is
draft | sending | sent | failed | rejected | bounced | stopped; a sequence's lead is active | skipped |
suppressed | replied | opted_out | bounced, and only an active lead's unsent messages are ever sent.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, func, select, update

from wyshbone.domain.outreach import (
    SENDABLE,
    Draft,
    OutreachLead,
    OutreachMessage,
    OutreachSequence,
    QueuedMessage,
    Sender,
    SequenceStep,
    Skipped,
    Suppression,
    SuppressionKind,
    idempotency_key,
)
from wyshbone.errors import NotFoundError
from wyshbone.storage import tables as t
from wyshbone.storage._sql import insert_once, iso, parse_time
from wyshbone.storage.db import Database

ACTIVE = "active"
"""A sequence's lead still written to."""
SENDING = "sending"
"""A message claimed by a sender: no other sender takes it."""
STOPPED = "stopped"
"""A message that will not be sent: its lead replied, opted out, bounced or was suppressed."""


@dataclass(frozen=True, slots=True)
class NewSequence:
    """A plan step's sequence and its drafts, as ``OutreachRepository.create_sequence`` hands them to a backend."""

    plan_id: str
    step_id: str
    values: dict[str, Any]
    """The sequence row's other columns."""
    drafts: Sequence[Draft]
    skipped: Sequence[Skipped]
    now: str

    def lead_rows(self, sequence_id: int) -> list[dict[str, Any]]:
        """One row per lead: each drafted lead active, each skipped one with why."""
        leads: dict[str, tuple[str, str | None, str, str | None]] = {
            d.lead_key: (d.lead_name, d.email, ACTIVE, None) for d in self.drafts
        }
        leads.update({s.lead_key: (s.lead_name, s.email, s.status, s.reason) for s in self.skipped})
        return [
            {"sequence_id": sequence_id, "lead_key": key, "lead_name": name, "email": email}
            | {"status": status, "reason": reason, "updated_at": self.now}
            for key, (name, email, status, reason) in leads.items()
        ]

    def message_rows(self, sequence_id: int) -> list[dict[str, Any]]:
        """One row per draft, each with the key that makes it sendable once."""
        return [
            {"sequence_id": sequence_id, "lead_key": d.lead_key, "email": d.email, "step_index": d.step_index}
            | {"step_key": d.step_key, "day": d.day, "subject": d.subject, "body_text": d.text}
            | {"body_html": d.html, "idempotency_key": idempotency_key(sequence_id, d.lead_key, d.step_index)}
            | {"status": "draft", "attempts": 0, "reply": None, "sent_at": None, "updated_at": self.now}
            for d in self.drafts
        ]


@dataclass(frozen=True, slots=True)
class MessageMove:
    """One conditional move of one message, as ``OutreachRepository.transition`` decides it and a backend
    applies it."""

    message_id: int
    from_: frozenset[str]
    """Applied only while the message is in one of these."""
    values: dict[str, Any]
    """The columns it writes: status, updated_at, and reply and sent_at when given."""
    claim: bool
    """A claim before a send: it counts an attempt."""


class OutreachRepository(Protocol):
    """Where sequences, their messages and the accounts' suppression lists are kept.

    Implementations subclass it: ``create_sequence`` and ``transition`` are decided here, once, and applied
    by their ``_create_sequence`` and ``_apply``.
    """

    async def create_sequence(
        self,
        *,
        plan_id: str,
        step_id: str,
        list_id: int,
        account_id: str,
        steps: Sequence[SequenceStep],
        sender: Sender,
        drafts: Sequence[Draft],
        skipped: Sequence[Skipped],
    ) -> tuple[int, bool]:
        """Store the sequence with its drafts, one sequence per plan step: run again (for leads a monitor
        added), it adds the drafts of leads it does not have yet and leaves the others as they are. Returns
        (id, created now)."""
        now = iso()
        steps_json = [step.to_json_dict() for step in steps]
        values = {"list_id": list_id, "account_id": account_id, "steps": steps_json}
        values |= {"sender": sender.to_json_dict(), "created_at": now}
        return await self._create_sequence(NewSequence(plan_id, step_id, values, drafts, skipped, now))

    async def _create_sequence(self, new: NewSequence) -> tuple[int, bool]:
        """Insert the sequence row once, and the lead and message rows it does not have yet."""
        ...

    async def sequence_lead_keys(self, *, plan_id: str, step_id: str) -> set[str]:
        """The leads the plan step's sequence already has (drafted or not), none when it has no sequence yet."""
        ...

    async def sequence(
        self, *, list_id: int | None = None, sequence_id: int | None = None, items: bool = True
    ) -> OutreachSequence | None:
        """The (first) sequence of a list, or the sequence with ``sequence_id``, with its leads (by name) and
        messages (by step) — ``items=False``: without them, for callers that need only the sequence itself."""
        ...

    async def queued_messages(self, sequence_id: int) -> list[QueuedMessage]:
        """The messages of the sequence's active leads, as ``due_messages`` reads them."""
        ...

    async def outgoing(self, message_id: int) -> tuple[OutreachMessage, str]:
        """The message as the API shows it, and its HTML part: what the sender needs."""
        ...

    async def transition(
        self,
        message_id: int,
        *,
        from_: str | Collection[str],
        to: str,
        reply: str | None = None,
        sent_at: datetime | None = None,
    ) -> bool:
        """Move the message from (one of) ``from_`` to ``to``; False (nothing changed) unless it is still there.
        Moving to ``sending`` is the claim before a send and counts an attempt; ``reply`` (the server's
        answer) and ``sent_at`` are written when given."""
        values: dict[str, Any] = {"status": to, "updated_at": iso()}
        if reply is not None:
            values["reply"] = reply
        if sent_at is not None:
            values["sent_at"] = iso(sent_at)
        sources = frozenset([from_] if isinstance(from_, str) else from_)
        return await self._apply(MessageMove(message_id, sources, values, claim=to == SENDING))

    async def _apply(self, move: MessageMove) -> bool:
        """Apply ``move`` as one conditional update; whether it applied."""
        ...

    async def sent_since(self, account_id: str, since: datetime) -> int:
        """Messages of the account sent (or being sent) since ``since``: what the daily cap counts."""
        ...

    async def stop_lead(self, sequence_id: int, email: str, *, status: str, reason: str) -> int:
        """The sequence's active lead(s) written to at ``email`` move to ``status`` (they replied, say), and
        their unsent messages to ``stopped``. Returns how many messages were stopped."""
        ...

    async def suppressions(self, account_id: str, *, email: str | None = None) -> dict[tuple[str, str], str]:
        """(kind, value) → reason, for every entry of the account's suppression list; with ``email``, only the
        entries that could cover that address (itself, its domain and the domains above it)."""
        ...

    async def list_suppressions(self, account_id: str) -> list[Suppression]: ...
    async def add_suppressions(
        self, account_id: str, entries: Sequence[Suppression], *, lead_status: str = "suppressed"
    ) -> int:
        """Put ``entries`` on the account's list (an entry already there keeps its first reason) and stop every
        active lead they cover in the account's sequences (the lead gets ``lead_status``). Returns how many
        messages were stopped."""
        ...


def covering_domains(email: str) -> tuple[str, list[str]]:
    """The address as stored, and the domains whose entries cover it: its own and each one above it."""
    address = email.strip().lower()
    labels = address.rpartition("@")[2].split(".")
    return address, [".".join(labels[i:]) for i in range(len(labels) - 1)]


_LEAD_COLUMNS = ("lead_key", "lead_name", "email", "status", "reason")


def to_sequence(
    row: Mapping[Any, Any], leads: Sequence[Mapping[Any, Any]], messages: list[OutreachMessage]
) -> OutreachSequence:
    return OutreachSequence(
        id=row["id"],
        plan_id=row["plan_id"],
        step_id=row["step_id"],
        list_id=row["list_id"],
        account_id=row["account_id"],
        steps=row["steps"],
        sender=row["sender"],
        created_at=datetime.fromisoformat(row["created_at"]),
        leads=[OutreachLead(**{name: r[name] for name in _LEAD_COLUMNS}) for r in leads],
        messages=messages,
    )


def to_message(row: Mapping[Any, Any], lead_name: str) -> OutreachMessage:
    fields = ("id", "lead_key", "email", "step_index", "step_key", "day", "subject", "body_text", "status")
    return OutreachMessage(
        **{name: row[name] for name in fields},
        lead_name=lead_name,
        attempts=row["attempts"],
        reply=row["reply"],
        sent_at=parse_time(row["sent_at"]),
        idempotency_key=row["idempotency_key"],
    )


def to_queued(row: Mapping[Any, Any]) -> QueuedMessage:
    return QueuedMessage(
        row["id"], row["lead_key"], row["step_index"], row["day"], row["status"], row["attempts"],
        parse_time(row["sent_at"]),
    )  # fmt: skip


def to_suppression(row: Mapping[Any, Any]) -> Suppression:
    created = datetime.fromisoformat(row["created_at"])
    return Suppression(kind=row["kind"], value=row["value"], reason=row["reason"], created_at=created)


def suppression_rows(account_id: str, entries: Sequence[Suppression], now: str) -> list[dict[str, Any]]:
    return [
        {"account_id": account_id, "kind": e.kind.value, "value": e.value, "reason": e.reason.value}
        | {"created_at": now}
        for e in entries
    ]


class SqlOutreachRepository(OutreachRepository):
    """``OutreachRepository`` in the database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _create_sequence(self, new: NewSequence) -> tuple[int, bool]:
        def work(conn: Connection) -> tuple[int, bool]:
            sequence_id, created = insert_once(
                conn, t.outreach_sequences, plan_id=new.plan_id, step_id=new.step_id, values=new.values
            )
            for table, rows in (
                (t.outreach_leads, new.lead_rows(sequence_id)),
                (t.outreach_messages, new.message_rows(sequence_id)),
            ):
                if rows:
                    conn.execute(self._db.insert(table).on_conflict_do_nothing(), rows)
            return sequence_id, created

        return await self._db.write(work)

    async def sequence_lead_keys(self, *, plan_id: str, step_id: str) -> set[str]:
        sequences = select(t.outreach_sequences.c.id).where(
            t.outreach_sequences.c.plan_id == plan_id, t.outreach_sequences.c.step_id == step_id
        )
        stmt = select(t.outreach_leads.c.lead_key).where(t.outreach_leads.c.sequence_id.in_(sequences))
        return set(await self._db.read(lambda conn: conn.execute(stmt).scalars().all()))

    async def sequence(
        self, *, list_id: int | None = None, sequence_id: int | None = None, items: bool = True
    ) -> OutreachSequence | None:
        s, leads, messages = t.outreach_sequences, t.outreach_leads, t.outreach_messages
        where = s.c.id == sequence_id if sequence_id is not None else s.c.list_id == list_id

        def read(conn: Connection) -> OutreachSequence | None:
            row = conn.execute(select(s).where(where).order_by(s.c.id)).first()
            if row is None or not items:
                return None if row is None else to_sequence(row._mapping, [], [])
            by_name = (leads.c.lead_name, leads.c.lead_key)
            found = conn.execute(select(leads).where(leads.c.sequence_id == row.id).order_by(*by_name)).all()
            names = {lead.lead_key: lead.lead_name for lead in found}
            by_step = (messages.c.step_index, messages.c.id)
            sent = conn.execute(select(messages).where(messages.c.sequence_id == row.id).order_by(*by_step))
            mail = [to_message(m._mapping, names.get(m.lead_key, "")) for m in sent]
            return to_sequence(row._mapping, [lead._mapping for lead in found], mail)

        return await self._db.read(read)

    async def queued_messages(self, sequence_id: int) -> list[QueuedMessage]:
        active = select(t.outreach_leads.c.lead_key).where(
            t.outreach_leads.c.sequence_id == sequence_id, t.outreach_leads.c.status == ACTIVE
        )
        m = t.outreach_messages.c
        stmt = (
            select(m.id, m.lead_key, m.step_index, m.day, m.status, m.attempts, m.sent_at)
            .where(m.sequence_id == sequence_id, m.lead_key.in_(active))
            .order_by(m.id)
        )
        rows = await self._db.read(lambda conn: conn.execute(stmt).all())
        return [to_queued(r._mapping) for r in rows]

    async def outgoing(self, message_id: int) -> tuple[OutreachMessage, str]:
        m, leads = t.outreach_messages, t.outreach_leads
        stmt = (
            select(m, leads.c.lead_name)
            .join(leads, (leads.c.sequence_id == m.c.sequence_id) & (leads.c.lead_key == m.c.lead_key))
            .where(m.c.id == message_id)
        )
        row = await self._db.read(lambda conn: conn.execute(stmt).first())
        if row is None:
            raise NotFoundError(f"no outreach message {message_id}")
        return to_message(row._mapping, row.lead_name), str(row.body_html)

    async def _apply(self, move: MessageMove) -> bool:
        m = t.outreach_messages.c
        values = move.values | ({"attempts": m.attempts + 1} if move.claim else {})
        where = (m.id == move.message_id, m.status.in_(sorted(move.from_)))
        stmt = update(t.outreach_messages).where(*where).values(values)
        return bool(await self._db.write(lambda conn: conn.execute(stmt).rowcount) == 1)

    async def sent_since(self, account_id: str, since: datetime) -> int:
        m = t.outreach_messages.c
        sequences = select(t.outreach_sequences.c.id).where(t.outreach_sequences.c.account_id == account_id)
        recent = ((m.status == "sent") & (m.sent_at >= iso(since))) | (
            (m.status == SENDING) & (m.updated_at >= iso(since))
        )
        stmt = (
            select(func.count()).select_from(t.outreach_messages).where(m.sequence_id.in_(sequences), recent)
        )
        return int(await self._db.read(lambda conn: conn.execute(stmt).scalar_one()))

    async def stop_lead(self, sequence_id: int, email: str, *, status: str, reason: str) -> int:
        account = select(t.outreach_sequences.c.account_id).where(t.outreach_sequences.c.id == sequence_id)
        leads = t.outreach_leads.c
        match = (leads.email == email.strip().lower()) & (leads.sequence_id == sequence_id)

        def work(conn: Connection) -> int:
            account_id = conn.execute(account).scalar()
            if account_id is None:
                raise NotFoundError(f"no outreach sequence {sequence_id}")
            return self._stop_leads(conn, account_id, match, status, reason)

        return await self._db.write(work)

    def _stop_leads(self, conn: Connection, account_id: str, match: Any, status: str, reason: str) -> int:
        """Move the account's active sequence leads matching ``match`` to ``status``; stop their unsent mail."""
        leads, messages, now = t.outreach_leads.c, t.outreach_messages.c, iso()
        sequences = select(t.outreach_sequences.c.id).where(t.outreach_sequences.c.account_id == account_id)
        active = select(leads.sequence_id, leads.lead_key).where(
            leads.sequence_id.in_(sequences), leads.status == ACTIVE, match
        )
        stopped = 0
        for sequence_id, key in conn.execute(active).all():
            lead = (leads.sequence_id == sequence_id) & (leads.lead_key == key)
            conn.execute(
                update(t.outreach_leads).where(lead).values(status=status, reason=reason, updated_at=now)
            )
            unsent = (
                messages.sequence_id == sequence_id,
                messages.lead_key == key,
                messages.status.in_(SENDABLE),
            )
            # why is on the lead; ``reply`` stays the server's
            stopped += conn.execute(
                update(t.outreach_messages).where(*unsent).values(status=STOPPED, updated_at=now)
            ).rowcount
        return stopped

    async def suppressions(self, account_id: str, *, email: str | None = None) -> dict[tuple[str, str], str]:
        c = t.suppressions.c
        stmt = select(c.kind, c.value, c.reason).where(c.account_id == account_id)
        if email is not None:
            address, domains = covering_domains(email)
            stmt = stmt.where(
                ((c.kind == SuppressionKind.ADDRESS.value) & (c.value == address))
                | ((c.kind == SuppressionKind.DOMAIN.value) & c.value.in_(domains))
            )
        rows = await self._db.read(lambda conn: conn.execute(stmt).all())
        return {(r.kind, r.value): r.reason for r in rows}

    async def list_suppressions(self, account_id: str) -> list[Suppression]:
        c = t.suppressions.c
        stmt = select(t.suppressions).where(c.account_id == account_id).order_by(c.created_at, c.value)
        rows = await self._db.read(lambda conn: conn.execute(stmt).all())
        return [to_suppression(r._mapping) for r in rows]

    async def add_suppressions(
        self, account_id: str, entries: Sequence[Suppression], *, lead_status: str = "suppressed"
    ) -> int:
        if not entries:
            return 0
        rows = suppression_rows(account_id, entries, iso())
        email = t.outreach_leads.c.email

        def work(conn: Connection) -> int:
            conn.execute(self._db.insert(t.suppressions).on_conflict_do_nothing(), rows)
            stopped = 0
            for entry in entries:
                match = (
                    email == entry.value
                    if entry.kind is SuppressionKind.ADDRESS
                    # the domain and the domains below it, as ``suppressed_by`` reads a domain entry
                    else email.like(f"%@{entry.value}") | email.like(f"%@%.{entry.value}")
                )
                why = f"{entry.reason.value}: {entry.value}"
                stopped += self._stop_leads(conn, account_id, match, lead_status, why)
            return stopped

        return await self._db.write(work)
