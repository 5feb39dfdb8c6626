"""Outreach decisions, pure: the default sequence, drafting from templates, suppression, and what is due.

Templates are Jinja2, rendered in a sandbox (a template may come from a user) with the lead's and the sender's
fields. Every message body ends with a footer that the templates cannot leave out: who is sending, from where,
and how to opt out. The HTML part is the text escaped whole, so a business called ``<b>Bean</b>`` stays text.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from pydantic import Field

from wyshbone.domain.dedupe import lead_keys
from wyshbone.domain.emails import normalise_address, normalise_domain, parse_addresses, refusals
from wyshbone.domain.models import CamelModel, ContactEmail, Lead, SupervisorUserContext
from wyshbone.domain.personas import pluralize
from wyshbone.errors import InputError

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_ATTEMPTS = 3
"""A message that failed this many times for a passing reason is not tried again."""


class SequenceStep(CamelModel):
    """One message of a sequence: sent ``day`` days after the first one (and never before the previous one)."""

    key: str = Field(min_length=1, max_length=40)
    day: int = Field(ge=0, le=365)
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=10_000)


DEFAULT_STEPS: tuple[SequenceStep, ...] = (
    SequenceStep(
        key="intro",
        day=0,
        subject="{{ sender_company or sender_name }} × {{ business_name }}",
        body=(
            "Hello {{ first_name or 'there' }},\n\n"
            "I came across {{ business_name }}{% if town %} in {{ town }}{% endif %} and wanted to introduce "
            "{{ sender_company or 'myself' }}. We work with {{ persona_plural or 'businesses' }} like yours, "
            "and I think we could help.\n\n"
            "Would you be open to a short call next week?\n\n"
            "Best wishes,\n{{ sender_name }}"
        ),
    ),
    SequenceStep(
        key="follow_up",
        day=3,
        subject="Re: {{ sender_company or sender_name }} × {{ business_name }}",
        body=(
            "Hello {{ first_name or 'there' }},\n\n"
            "Just following up on my note from a few days ago. If it would help, I'm happy to drop by "
            "{{ business_name }} or send some details over.\n\n"
            "Best wishes,\n{{ sender_name }}"
        ),
    ),
    SequenceStep(
        key="last_note",
        day=7,
        subject="Last note from {{ sender_company or sender_name }}",
        body=(
            "Hello {{ first_name or 'there' }},\n\n"
            "I won't keep filling your inbox: this is my last note. If the timing is ever better, just reply "
            "and I'll pick it up from there.\n\n"
            "Best wishes,\n{{ sender_name }}"
        ),
    ),
)


class Sender(CamelModel):
    """Who the outreach is from (from settings)."""

    name: str | None = None
    email: str | None = None
    company: str | None = None
    address: str | None = None

    def missing(self) -> list[str]:
        """The settings still needed before any message may be drafted (identity and postal address)."""
        names = {"name": "WYSHBONE_SENDER_NAME", "email": "WYSHBONE_SENDER_EMAIL"}
        names["address"] = "WYSHBONE_SENDER_ADDRESS"
        return [setting for attr, setting in names.items() if not (getattr(self, attr) or "").strip()]


class SuppressionKind(StrEnum):
    ADDRESS = "address"
    DOMAIN = "domain"


class SuppressionReason(StrEnum):
    OPTED_OUT = "opted_out"
    CLAIMED = "hunter_451"
    """The person asked Hunter not to have their address processed (HTTP 451 claimed_email)."""
    HARD_BOUNCE = "hard_bounce"
    MANUAL = "manual"


class Suppression(CamelModel):
    kind: SuppressionKind
    value: str
    reason: SuppressionReason
    created_at: datetime | None = None


def suppression_entry(value: str, reason: SuppressionReason) -> Suppression:
    """``someone@x.com`` → an address entry; ``x.com`` or ``@x.com`` → a domain entry. Both are checked and
    normalised as provider addresses are (``domain.emails``): lowercase, an international domain as punycode, so
    an entry matches the addresses leads hold. ``InputError`` says what is wrong with anything else."""
    text = value.strip()
    if "@" in text and not text.startswith("@"):
        try:
            address = normalise_address(text)
        except InputError as exc:
            raise InputError(f"{value!r} is not an email address: {exc.message}") from None
        return Suppression(kind=SuppressionKind.ADDRESS, value=address, reason=reason)
    try:
        domain = normalise_domain(text.removeprefix("@"))
    except InputError as exc:
        raise InputError(
            f"{value!r} is neither an email address nor a domain (as the domain of an address: {exc.message})"
        ) from None
    return Suppression(kind=SuppressionKind.DOMAIN, value=domain, reason=reason)


def suppressed_by(email: str, entries: Mapping[tuple[str, str], str]) -> str | None:
    """Why ``email`` must not be written to ((kind, value) → reason), or None.

    A domain entry covers its subdomains too: ``x.com`` suppresses ``jo@mail.x.com``.
    """
    address = email.strip().lower()
    reason = entries.get((SuppressionKind.ADDRESS, address))
    if reason is not None:
        return f"suppressed: {address} is on the suppression list ({reason})"
    labels = address.rpartition("@")[2].split(".")
    for i in range(len(labels) - 1):
        domain = ".".join(labels[i:])
        reason = entries.get((SuppressionKind.DOMAIN, domain))
        if reason is not None:
            return f"suppressed: {domain} is on the suppression list ({reason})"
    return None


# --- choosing whom to write to -------------------------------------------------------------------------------

_UNUSABLE = {"invalid", "disposable"}
_RANK = {"valid": 0, "accept_all": 1, "webmail": 2, "unverified": 3, "unknown": 3}


def ranked_contacts(lead: Lead) -> list[ContactEmail]:
    """The lead's usable addresses, best first: verified first, then personal, then by confidence. Each is
    one valid, normalised address (a lead's are, unless a copy skipped its checks: such values are left out)."""
    found = list(lead.emails)
    checked = [e.model_copy(update={"value": value}) for e in found if (value := _single(e.value))]
    usable = [e for e in checked if e.verification not in _UNUSABLE]
    return sorted(
        usable, key=lambda e: (_RANK.get(e.verification, 3), e.type != "personal", -(e.score or 0), e.value)
    )


def _single(value: str) -> str | None:
    """``value`` normalised when it is exactly one valid address, else None."""
    parsed = parse_addresses(value)
    return parsed.addresses[0] if len(parsed.addresses) == 1 and not parsed.refused else None


def choose_contact(
    lead: Lead, suppressions: Mapping[tuple[str, str], str] | None = None
) -> tuple[ContactEmail | None, str | None]:
    """The lead's best address that is not suppressed, or why there is none (with the addresses refused)."""
    ranked = ranked_contacts(lead)
    if not ranked:
        why = "no email address found" if not lead.emails else "no usable address (all invalid or disposable)"
        return None, "; ".join([why, *refusals(lead.notes)])
    for contact in ranked:
        if not suppressions or suppressed_by(contact.value, suppressions) is None:
            return contact, None
    return None, suppressed_by(ranked[0].value, suppressions or {})


def account_of(user: SupervisorUserContext) -> str:
    """Whose suppression list and daily cap apply: the account when there is one, else the user."""
    return user.account_id or user.user_id


def lead_key(lead: Lead) -> str:
    """The lead's identity in a sequence (its source record)."""
    return lead_keys(lead.source_id, lead.name, lead.postcode)[0]


def idempotency_key(sequence_id: int, key: str, step_index: int) -> str:
    """One key per (sequence, lead, step): a message with this key is sent at most once."""
    digest = hashlib.sha256(f"{sequence_id}\x1f{key}\x1f{step_index}".encode()).hexdigest()[:32]
    return f"wyshbone-{sequence_id}-{step_index}-{digest}"


# --- drafting ---------------------------------------------------------------------------------------------------


@functools.cache
def _sandbox() -> ImmutableSandboxedEnvironment:
    """Where templates are parsed and rendered; made on first use, as Jinja2 costs 30 ms to import."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
    )


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Draft:
    """One message to one lead, ready for review and sending."""

    lead_key: str
    lead_name: str
    email: str
    step_index: int
    step_key: str
    day: int
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A lead that gets no drafts, and why."""

    lead_key: str
    lead_name: str
    email: str | None
    reason: str
    status: str = "skipped"
    """"skipped" (nothing to write to) or "suppressed"."""


def check_templates(steps: Sequence[SequenceStep]) -> None:
    """``InputError`` naming the step whose template does not parse, or whose days go backwards."""
    from jinja2 import TemplateError

    if not steps:
        raise InputError("a sequence needs at least one step")
    for earlier, later in itertools.pairwise(steps):
        if later.day < earlier.day:
            raise InputError(
                f"step {later.key!r} is on day {later.day}, before {earlier.key!r} (day {earlier.day})"
            )
    for step in steps:
        for part in (step.subject, step.body):
            try:
                _sandbox().parse(part)
            except TemplateError as exc:
                raise InputError(f"step {step.key!r}: the template does not parse: {exc}") from exc


def template_fields(lead: Lead, contact: ContactEmail, sender: Sender, persona: str | None) -> dict[str, Any]:
    """What a template may use."""
    return {
        "business_name": lead.name,
        "town": lead.post_town or lead.local_authority,
        "postcode": lead.postcode,
        "category": lead.category,
        "website": lead.website,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "contact_position": contact.position,
        "email": contact.value,
        "persona": persona,
        "persona_plural": pluralize(persona) if persona else None,
        "sender_name": sender.name,
        "sender_email": sender.email,
        "sender_company": sender.company,
        "sender_address": sender.address,
    }


def footer(sender: Sender, opt_out_url: str) -> tuple[str, str]:
    """The identity-and-opt-out footer, as text and as HTML."""
    who = ", ".join(p for p in (sender.name, sender.company) if p)
    lines = [f"Sent by {who} <{sender.email}>", f"{sender.address}"]
    out = f"Don't want to hear from us again? Opt out here: {opt_out_url}"
    text = "\n".join(["--", *lines, out])
    html = Markup('<hr><p style="font-size:smaller">{}<br>{}<br>{} <a href="{}">opt out</a></p>').format(
        f"Sent by {who} <{sender.email}>", sender.address, "Don't want to hear from us again?", opt_out_url
    )
    return text, str(html)


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    """Each template is compiled once (compiling costs fifty renders), then rendered per lead."""
    return _sandbox().from_string(source)


def render_step(step: SequenceStep, fields: Mapping[str, Any], sender: Sender, opt_out_url: str) -> Rendered:
    """One step for one lead: subject, text, and the HTML part made from the text, escaped whole (so neither a
    business called ``<b>Bean</b>`` nor a literal ``<WELCOME>`` in a template becomes markup). Header-breaking
    characters never reach the subject. A template that fails while rendering raises ``InputError``."""
    from jinja2 import TemplateError

    try:
        subject = _compiled(step.subject).render(fields)
        text = _compiled(step.body).render(fields)
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        raise InputError(f"step {step.key!r} cannot be rendered: {exc}") from exc
    subject = " ".join(subject.split())[:300]
    foot_text, foot_html = footer(sender, opt_out_url)
    paragraphs = "".join(
        str(Markup("<p>{}</p>").format(Markup("<br>").join(p.strip().split("\n"))))
        for p in text.split("\n\n")
        if p.strip()
    )
    return Rendered(
        subject, f"{text.rstrip()}\n\n{foot_text}\n", f"<html><body>{paragraphs}{foot_html}</body></html>"
    )


def draft_sequence(
    leads: Iterable[Lead],
    steps: Sequence[SequenceStep],
    sender: Sender,
    *,
    suppressions: Mapping[tuple[str, str], str],
    opt_out_url: Callable[[str], str],
    persona: str | None = None,
) -> tuple[list[Draft], list[Skipped]]:
    """Every step for every lead with a usable, unsuppressed address; the others with the reason they have none."""
    drafts: list[Draft] = []
    skipped: list[Skipped] = []
    for lead in leads:
        key = lead_key(lead)
        contact, why_not = choose_contact(lead, suppressions)
        if contact is None:
            best = ranked_contacts(lead)
            if best:  # every usable address is suppressed
                address = best[0].value.strip().lower()
                skipped.append(Skipped(key, lead.name, address, why_not or "suppressed", status="suppressed"))
            else:
                skipped.append(Skipped(key, lead.name, None, why_not or "no email address"))
            continue
        email = contact.value.strip().lower()
        fields = template_fields(lead, contact, sender, persona)
        url = opt_out_url(email)
        for index, step in enumerate(steps):
            message = render_step(step, fields, sender, url)
            drafts.append(
                Draft(
                    key,
                    lead.name,
                    email,
                    index,
                    step.key,
                    step.day,
                    message.subject,
                    message.text,
                    message.html,
                )
            )
    return drafts, skipped


# --- sending: what is due ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """A message's state as the sender sees it."""

    id: int
    lead_key: str
    step_index: int
    day: int
    status: str
    """draft | sending | sent | failed | suppressed | stopped"""
    attempts: int = 0
    sent_at: datetime | None = None


SENDABLE = frozenset({"draft", "failed"})


def due_messages(messages: Iterable[QueuedMessage], now: datetime) -> list[QueuedMessage]:
    """Per lead, the next unsent step when its day has come: day N means N days after the first was sent.

    A lead whose earlier step is still unsent, being sent, or stopped gets nothing more; a message that failed
    ``MAX_ATTEMPTS`` times stops its lead's sequence.
    """
    by_lead: dict[str, list[QueuedMessage]] = {}
    for message in messages:
        by_lead.setdefault(message.lead_key, []).append(message)
    due = []
    for queue in by_lead.values():
        queue.sort(key=lambda m: m.step_index)
        first_sent = queue[0].sent_at if queue[0].status == "sent" else None
        for message in queue:
            if message.status == "sent":
                continue
            if message.status not in SENDABLE or message.attempts >= MAX_ATTEMPTS:
                break
            if message.step_index == 0 or (
                first_sent is not None and now >= first_sent + timedelta(days=message.day)
            ):
                due.append(message)
            break
    due.sort(key=lambda m: (m.step_index, m.id))
    return due


def start_of_day(now: datetime) -> datetime:
    """Midnight (in ``now``'s zone) that starts the day the daily cap counts."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


# --- what is stored, as the API and CLI show it ------------------------------------------------------------------


class OutreachMessage(CamelModel):
    id: int
    lead_key: str
    lead_name: str
    email: str
    step_index: int
    step_key: str
    day: int
    subject: str
    body_text: str
    status: str
    attempts: int = 0
    reply: str | None = None
    """The SMTP server's answer to the last attempt."""
    sent_at: datetime | None = None
    idempotency_key: str


class OutreachLead(CamelModel):
    lead_key: str
    lead_name: str
    email: str | None
    status: str
    """active | skipped | suppressed | replied | opted_out | bounced"""
    reason: str | None = None


class OutreachSequence(CamelModel):
    id: int
    plan_id: str
    step_id: str
    list_id: int
    account_id: str
    steps: list[SequenceStep]
    sender: Sender
    created_at: datetime
    leads: list[OutreachLead] = Field(default_factory=list)
    messages: list[OutreachMessage] = Field(default_factory=list)


class SendReport(CamelModel):
    """What one ``outreach send`` did."""

    list_id: int
    due: int
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    capped: int = 0
    """Due messages left for another day by the daily cap."""
    messages: list[OutreachMessage] = Field(default_factory=list)
