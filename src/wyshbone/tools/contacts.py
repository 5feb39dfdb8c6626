"""HUNTER_DOMAIN_LOOKUP and HUNTER_ENRICH: each lead's web domain, then its email addresses, per-lead waterfalls.

Domain: the lead's own website (registrable domain, offline), else Hunter's domain search by company name.
Emails: the business's own website (when crawling is enabled), else Hunter's domain search; the first source
that finds an address wins; what a source refused as an address is noted on the lead (``Lead.notes``). Each lead's
outcome (found / not found / error, and why) is in the step's data; the step fails only when a source fails as a
whole (bad key, quota gone, still rate limited after retries).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import httpx

from wyshbone.domain.models import (
    ContactEmail,
    Lead,
    LeadToolExecutionEnv,
    LeadToolExecutionResult,
)
from wyshbone.domain.planner import ProviderInfo
from wyshbone.domain.steps import ContactsOutput, DomainLookupParams, EnrichParams, LeadOutcome
from wyshbone.providers.hunter import HunterClient
from wyshbone.providers.keyed_limits import KeyedLimiter
from wyshbone.providers.website import discover_contacts, registrable_domain
from wyshbone.tools.lead_list import step_leads
from wyshbone.tools.registry import Provider

Crawl = Callable[[str], Awaitable[Any]]


def _outcome(
    source_id: str,
    outcome: Literal["found", "not_found", "error"],
    via: str | None = None,
    reason: str | None = None,
) -> LeadOutcome:
    return LeadOutcome(source_id=source_id, outcome=outcome, via=via, reason=reason)


EMAILS_PER_DOMAIN = 5
"""Addresses asked of Hunter per domain (one request either way)."""

LEADS_AT_ONCE = 16
"""Leads looked up side by side; the providers' shared rate limiters keep the request rate within bounds."""

T = TypeVar("T")
U = TypeVar("U")


async def bounded_map(
    fn: Callable[[T], Awaitable[U]], items: Sequence[T], *, limit: int = LEADS_AT_ONCE
) -> list[U]:
    """``fn`` over ``items``, at most ``limit`` at a time, results in the order of ``items``.

    The first provider-wide failure (raised) cancels the rest: the step as a whole failed.
    """
    gate = asyncio.Semaphore(limit)

    async def one(item: T) -> U:
        async with gate:
            return await fn(item)

    tasks = [asyncio.ensure_future(one(item)) for item in items]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        # Re-raised as it is (not wrapped in a group) so the executor sees the provider's own error.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _result(leads: list[Lead], outcomes: list[LeadOutcome]) -> LeadToolExecutionResult:
    output = ContactsOutput(
        leads=leads,
        outcomes=outcomes,
        found=sum(o.outcome == "found" for o in outcomes),
        not_found=sum(o.outcome == "not_found" for o in outcomes),
        errors=sum(o.outcome == "error" for o in outcomes),
    )
    return LeadToolExecutionResult(success=True, output=output)


def domain_lookup_provider(info: ProviderInfo, hunter: HunterClient | None) -> Provider[DomainLookupParams]:
    async def run(params: DomainLookupParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        leads = step_leads(env, params.source_step_id)[: params.limit]
        found = await bounded_map(lambda lead: _domain_for(lead, hunter), leads)
        return _result([lead for lead, _ in found], [outcome for _, outcome in found])

    return Provider(info, run)


async def _domain_for(lead: Lead, hunter: HunterClient | None) -> tuple[Lead, LeadOutcome]:
    if lead.domain:
        return lead, _outcome(
            lead.source_id, "found", lead.provenance.get("domain", lead.source), "already known"
        )
    if lead.website and (domain := registrable_domain(lead.website)):
        return _with(lead, domain=domain, via="website"), _outcome(lead.source_id, "found", "website")
    if hunter is None:
        return lead, _outcome(lead.source_id, "not_found", None, "no website, and Hunter is not configured")
    found = await hunter.domain_search(company=lead.name, limit=EMAILS_PER_DOMAIN)
    if not found.domain:
        return lead, _outcome(lead.source_id, "not_found", "hunter", "Hunter knows no domain for this name")
    # Hunter's answer names the domain's addresses too: kept, so the email step need not ask Hunter again.
    if found.refused:
        lead = lead.model_copy(update={"notes": list(dict.fromkeys([*lead.notes, *found.refused]))})
    fields: dict[str, Any] = {"domain": found.domain} | (
        {"emails": list(found.emails)} if found.emails else {}
    )
    return _with(lead, via="hunter", **fields), _outcome(lead.source_id, "found", "hunter")


def _with(lead: Lead, *, via: str, **fields: Any) -> Lead:
    provenance = {**lead.provenance, **dict.fromkeys(fields, via)}
    return lead.model_copy(update={**fields, "provenance": provenance})


def enrich_provider(
    info: ProviderInfo,
    hunter: HunterClient | None,
    *,
    client: httpx.AsyncClient | None,
    crawl_websites: bool,
    allow_private: bool = False,
    politeness: KeyedLimiter | None = None,
) -> Provider[EnrichParams]:
    """Emails per lead: the business's own website first (when crawling, each host's requests spaced by
    ``politeness``), then Hunter. The addresses a source refused (two in one value are two addresses; a line
    break, or garbage, is refused) are noted on the lead.

    Claimed addresses (Hunter's 451) are not this step's concern: a domain search names no single person, so
    Hunter never answers it so; the verifier does, which drafting asks (``tools.outreach``), suppressing them.
    """

    async def run(params: EnrichParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        leads = step_leads(env, params.source_step_id, params.leads_step_id)[: params.limit]
        crawl_client = client if crawl_websites else None
        found = await bounded_map(
            lambda lead: _emails_for(
                lead, hunter, client=crawl_client, allow_private=allow_private, politeness=politeness
            ),
            leads,
        )
        updated = [_with_emails(lead, each) for lead, each in zip(leads, found, strict=True)]
        return _result(updated, [each.outcome for each in found])

    return Provider(info, run)


@dataclass(frozen=True, slots=True)
class Emails:
    """What the sources said about one lead's addresses."""

    emails: list[ContactEmail]
    outcome: LeadOutcome
    refused: list[str] = field(default_factory=list)
    """A note per address a source refused, and why ("refused address 'x' from hunter: ...")."""


def _with_emails(lead: Lead, found: Emails) -> Lead:
    """``lead`` with the addresses found (and their source), and a note for each refused, found or not."""
    if found.refused:
        lead = lead.model_copy(update={"notes": list(dict.fromkeys([*lead.notes, *found.refused]))})
    if not found.emails:
        return lead
    return _with(lead, emails=list(found.emails), via=found.outcome.via or "")


async def _emails_for(
    lead: Lead,
    hunter: HunterClient | None,
    *,
    client: httpx.AsyncClient | None,
    allow_private: bool,
    politeness: KeyedLimiter | None,
) -> Emails:
    reasons: list[str] = []
    refused: list[str] = []
    if client is not None and lead.website:
        site = await discover_contacts(
            lead.website, client=client, allow_private=allow_private, politeness=politeness
        )
        refused += site.refused
        if site.emails:
            return Emails(site.emails, _outcome(lead.source_id, "found", "website"), refused)
        reasons.append(f"website: {site.reason or 'no address found'}")
    if lead.provenance.get("domain") == "hunter":
        # Hunter found the domain, and its answer named the domain's addresses: the same data, not asked twice.
        # (Addresses the lead had from its own source are not Hunter's: they are not credited to it.)
        if lead.emails and lead.provenance.get("emails") == "hunter":
            return Emails(list(lead.emails), _outcome(lead.source_id, "found", "hunter"), refused)
        reasons.append("hunter: no addresses for this domain")
    elif hunter is not None and lead.domain:
        found = await hunter.domain_search(domain=lead.domain, limit=EMAILS_PER_DOMAIN)
        refused += found.refused
        if found.emails:
            return Emails(list(found.emails), _outcome(lead.source_id, "found", "hunter"), refused)
        reasons.append("hunter: no addresses for this domain")
    elif hunter is not None:
        reasons.append("hunter: no domain to search")
    why = "; ".join(reasons) or "no source could be tried"
    return Emails([], _outcome(lead.source_id, "not_found", None, why), refused)
