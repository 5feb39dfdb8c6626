"""The outreach use cases: show a list's sequence, send what is due through the ``Mailer``, stop a lead who
replied, honour opt-outs and keep the suppression lists."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from wyshbone.config import Settings
from wyshbone.domain.outreach import (
    SENDABLE,
    OutreachMessage,
    OutreachSequence,
    SendReport,
    Suppression,
    SuppressionReason,
    due_messages,
    start_of_day,
    suppressed_by,
    suppression_entry,
)
from wyshbone.errors import NotFoundError
from wyshbone.providers.smtp import (
    Delivery,
    Mailer,
    OutgoingMail,
    SmtpUnavailableError,
    UnsendableMessageError,
)
from wyshbone.services.plans import Clock
from wyshbone.signing import OptOutLinks
from wyshbone.storage.leads import LeadListRow, LeadRepository
from wyshbone.storage.outreach import SENDING, OutreachRepository

__all__ = ["Outreach"]


@dataclass
class Outreach:
    """Outreach use cases: show a list's sequence, send what is due, stop a lead, honour opt-outs."""

    settings: Settings
    """For the daily cap and the gap between messages."""
    store: OutreachRepository
    lead_store: LeadRepository
    mailer: Mailer
    links: OptOutLinks
    clock: Clock
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)

    async def sequence(
        self, list_id: int, *, session_id: str | None = None, items: bool = True
    ) -> OutreachSequence:
        """The list's sequence with its leads and messages (``items=False``: the sequence alone);
        ``NotFoundError`` for another session's list."""
        await self._list(list_id, session_id)
        sequence = await self.store.sequence(list_id=list_id, items=items)
        if sequence is None:
            raise NotFoundError(
                f"list {list_id} has no outreach sequence: plan a goal that says to email them"
            )
        return sequence

    async def due(self, list_id: int, *, session_id: str | None = None) -> int:
        """How many of the list's messages are due now (before the daily cap)."""
        sequence = await self.sequence(list_id, session_id=session_id, items=False)
        return len(due_messages(await self.store.queued_messages(sequence.id), self.clock()))

    async def _list(self, list_id: int, session_id: str | None) -> LeadListRow:
        found = await self.lead_store.list_info(list_id)
        if found is None or (session_id is not None and found.session_id != session_id):
            raise NotFoundError(f"no lead list {list_id}")
        return found

    def check_mailer(self) -> None:
        """``SetupError`` when no SMTP server is configured or its URL is unusable."""
        self.mailer.check()

    async def send(
        self,
        list_id: int,
        *,
        session_id: str | None = None,
        limit: int | None = None,
        on_message: Callable[[OutreachMessage], object] | None = None,
    ) -> SendReport:
        """Send the list's due messages through the mailer, at most the daily cap, spaced by the configured gap.

        Each message is claimed before it is sent and never sent again (its idempotency key is its Message-ID);
        suppressions are checked again just before each one. A message that cannot be built (its address or a
        header would not hold) is marked failed with the reason, and the run goes on. ``SetupError`` when no
        server is configured or the server cannot be used (the run stops; nothing is marked sent that was not).
        """
        settings = self.settings
        sequence = await self.sequence(list_id, session_id=session_id, items=False)
        self.check_mailer()
        now = self.clock()
        due = due_messages(await self.store.queued_messages(sequence.id), now)
        sent_today = await self.store.sent_since(sequence.account_id, start_of_day(now))
        budget = max(0, settings.outreach_daily_cap - sent_today)
        if limit is not None:
            budget = min(budget, limit)
        report = SendReport(list_id=list_id, due=len(due), capped=max(0, len(due) - budget))
        for index, queued in enumerate(due[:budget]):
            if index and settings.outreach_gap_seconds:
                await self.sleep(settings.outreach_gap_seconds)
            view = await self._send_one(queued.id, sequence=sequence, report=report)
            if view is not None:
                report.messages.append(view)
                if on_message is not None:
                    on_message(view)
        return report

    async def _send_one(
        self, message_id: int, *, sequence: OutreachSequence, report: SendReport
    ) -> OutreachMessage | None:
        """One due message: suppressions checked, claimed, sent, its outcome kept and counted in ``report``.
        None when it was not attempted (suppressed, or another sender has it)."""
        repo = self.store
        message, html = await repo.outgoing(message_id)
        entries = await repo.suppressions(sequence.account_id, email=message.email)
        if reason := suppressed_by(message.email, entries):
            await repo.stop_lead(sequence.id, message.email, status="suppressed", reason=reason)
            report.suppressed += 1
            return None
        mail = self._mail(message, html, sequence)  # before the claim: nothing to fail between claim and send
        if not await repo.transition(message_id, from_=SENDABLE, to=SENDING):
            return None  # another sender took it
        delivery = await self._deliver(message_id, mail)
        sent_at = self.clock() if delivery.outcome == "sent" else None
        await repo.transition(
            message_id, from_=SENDING, to=delivery.outcome, reply=delivery.reply, sent_at=sent_at
        )
        if delivery.outcome == "bounced":
            entry = suppression_entry(message.email, SuppressionReason.HARD_BOUNCE)
            await repo.add_suppressions(sequence.account_id, [entry], lead_status="bounced")
        if delivery.outcome == "sent":
            report.sent += 1
        else:
            report.failed += 1
        return message.model_copy(
            update={
                "status": delivery.outcome,
                "reply": delivery.reply,
                "sent_at": sent_at,
                "attempts": message.attempts + 1,  # the claim counted this attempt
            }
        )

    async def _deliver(self, message_id: int, mail: OutgoingMail) -> Delivery:
        """Hand a claimed message to the mailer. A message that cannot be built is a failure to record (it
        cannot have gone out); a server that cannot be used marks the message failed and stops the run."""
        try:
            return await self.mailer.send(mail)
        except SmtpUnavailableError as exc:
            await self.store.transition(message_id, from_=SENDING, to="failed", reply=exc.message)
            raise
        except UnsendableMessageError as exc:  # refused before any connection
            return Delivery("failed", f"not sent: {exc.message}")

    def _mail(self, message: OutreachMessage, html: str, sequence: OutreachSequence) -> OutgoingMail:
        return OutgoingMail(
            sender_name=sequence.sender.name,
            sender_email=sequence.sender.email or "",
            to=message.email,
            subject=message.subject,
            text=message.body_text,
            html=html,
            message_key=message.idempotency_key,
            opt_out_url=self.links.url(sequence.account_id, message.email),
        )

    async def mark_replied(self, list_id: int, email: str, *, session_id: str | None = None) -> int:
        """The lead at ``email`` replied: stop their sequence. Returns how many messages were stopped."""
        sequence = await self.sequence(list_id, session_id=session_id)
        address = email.strip().lower()
        if not any(lead.email == address for lead in sequence.leads):
            raise NotFoundError(f"no lead of list {list_id} is written to at {email!r}")
        return await self.store.stop_lead(sequence.id, address, status="replied", reason="replied")

    async def opt_out(self, token: str) -> str:
        """Honour an opt-out link: the address goes on its account's suppression list. Returns the address."""
        account, email = self.links.read(token)
        await self.store.add_suppressions(
            account, [suppression_entry(email, SuppressionReason.OPTED_OUT)], lead_status="opted_out"
        )
        return email

    async def suppress(self, account: str, values: Sequence[str], reason: SuppressionReason) -> int:
        """Add addresses or domains to the account's suppression list; returns how many messages it stopped."""
        entries = [suppression_entry(value, reason) for value in values]
        return await self.store.add_suppressions(account, entries, lead_status="suppressed")

    async def suppressions(self, account: str) -> list[Suppression]:
        return await self.store.list_suppressions(account)
