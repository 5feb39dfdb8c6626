"""What a plan will cost before it runs: the outside calls each step's providers make at most, their list
price, and which steps will not run and why ("Not set up: needs a Hunter.io key"). Pure."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from wyshbone.domain.catalog import ProviderInfo, ToolCatalog
from wyshbone.domain.models import (
    LeadGenPlan,
    LeadGenPlanStep,
    LeadToolIdentifier,
    PlanEstimate,
    ProviderCallEstimate,
    StepAvailability,
)
from wyshbone.domain.steps import MonitorParams
from wyshbone.domain.wording import listed

__all__ = ["estimate_plan", "not_set_up"]


def estimate_plan(plan: LeadGenPlan, catalog: ToolCatalog) -> PlanEstimate:
    """External calls per provider (at most) and their list-price cost; which steps will be skipped."""
    calls: list[ProviderCallEstimate] = []
    availability: list[StepAvailability] = []
    country = plan.goal.country
    for step in plan.steps:
        chain = catalog.get(step.tool, ())
        availability.append(_availability(step, chain, country))
        calls.extend(_call_estimate(step, p, plan.goal.volume) for p in chain if p.external)
        if step.tool == LeadToolIdentifier.MONITOR_SETUP:
            calls.extend(_monitor_estimate(plan, step, catalog))
    total = sum(c.cost_usd or 0.0 for c in calls if c.configured)
    return PlanEstimate(calls=calls, total_cost_usd=round(total, 4), steps=availability)


def _availability(step: LeadGenPlanStep, chain: tuple[ProviderInfo, ...], country: str) -> StepAvailability:
    configured = [p for p in chain if p.configured]
    if any(p.covers(country) for p in configured):
        return StepAvailability(step_id=step.id, will_run=True)
    if configured:
        return StepAvailability(
            step_id=step.id, will_run=True, reason=_covers_elsewhere(configured, chain, country)
        )
    return StepAvailability(step_id=step.id, will_run=False, reason=not_set_up(chain))


# Reasons read in two lines: what a person is missing ("Not set up: needs a Hunter.io key"), then the details
# for whoever sets the service up (the settings by name). The page folds the details away; the CLI dims them.

_NEEDS = {
    "WYSHBONE_HUNTER_API_KEY": "a Hunter.io key",
    "WYSHBONE_GOOGLE_PLACES_API_KEY": "a Google Places key",
    "WYSHBONE_OVERPASS_URL": "an OpenStreetMap (Overpass) address",
    "WYSHBONE_WEBSITE_CRAWL": "reading businesses' own websites switched on",
    "WYSHBONE_SENDER_NAME": "your name",
    "WYSHBONE_SENDER_EMAIL": "your email address",
    "WYSHBONE_SENDER_ADDRESS": "your postal address",
    "WYSHBONE_DATABASE_URL": "a database to keep them in",
}
"""Each setting a provider may be waiting for, as the thing a person would say is missing."""

_SETTING = re.compile(r"\bWYSHBONE_[A-Z0-9_]+")


def not_set_up(chain: Iterable[ProviderInfo]) -> str:
    """Why a step none of whose providers is usable cannot run: "Not set up: needs a Hunter.io key", then a
    details line naming each provider's setting ("hunter: set WYSHBONE_HUNTER_API_KEY")."""
    reasons = [(provider.name, provider.reason) for provider in chain if provider.reason]
    if not reasons:
        return "Not set up: no service is registered for this step"
    needs = list(dict.fromkeys(need for _, reason in reasons if (need := _needs(reason))))
    details = "; ".join(f"{name}: {reason}" for name, reason in reasons)
    if not needs:  # a plugin's own words: nothing better to say than them
        return f"Not set up ({'; '.join(reason for _, reason in reasons)})\n{details}"
    return f"Not set up: needs {listed(needs, 'or')}\n{details}"


def _needs(reason: str) -> str | None:
    """One provider's reason ("set WYSHBONE_HUNTER_API_KEY, or WYSHBONE_WEBSITE_CRAWL=true") in a person's words;
    None when it names no setting."""
    if "wyshbone db import" in reason:
        return "the business directory imported"
    settings = list(dict.fromkeys(_SETTING.findall(reason)))
    if not settings:
        return None
    spoken = [_NEEDS.get(name, f"the setting {name}") for name in settings]
    return listed(spoken, "or" if ", or " in reason else "and")


def _covers_elsewhere(configured: list[ProviderInfo], chain: tuple[ProviderInfo, ...], country: str) -> str:
    covered = sorted({c for p in configured for c in p.countries or ()})
    details = [f"{p.name} covers {'/'.join(p.countries or ())} only" for p in configured]
    details += [f"{p.name}: {p.reason}" for p in chain if p.reason]
    return (
        f"Will find nothing: what is set up searches {'/'.join(covered)} only, not {country}\n"
        + "; ".join(details)
    )


def _monitor_estimate(
    plan: LeadGenPlan, step: LeadGenPlanStep, catalog: ToolCatalog
) -> list[ProviderCallEstimate]:
    """A monitor runs the plan's search (wider) once at set-up, then again at every check: the set-up's calls."""
    monitor = step.params_as(MonitorParams)
    search = next((s for s in plan.steps if s.id == monitor.search_step_id), None)
    if search is None:
        return []
    wider = search.model_copy(update={"params": {**search.params, "maxResults": monitor.max_results}})
    cadence = monitor.cadence.value
    estimates = []
    for provider in catalog.get(search.tool, ()):
        if provider.external:
            one = _call_estimate(wider, provider, plan.goal.volume)
            note = f"the monitor's baseline search; the same again at each {cadence} check ({one.note})"
            estimates.append(one.model_copy(update={"step_id": step.id, "note": note}))
    return estimates


def _call_estimate(step: LeadGenPlanStep, provider: ProviderInfo, volume: int) -> ProviderCallEstimate:
    if provider.page_size:
        wanted = int(step.params.get("maxResults", volume))
        if provider.max_results:
            wanted = min(wanted, provider.max_results)
        n = math.ceil(wanted / provider.page_size)
        note = f"up to {n} page(s) of {provider.page_size}"
    else:
        n = int(step.params.get("limit", 1))
        note = "at most one request per lead" if "limit" in step.params else "one request"
    if step.providers.index(provider.name) > 0:
        note += "; only if the providers before it fail or find nothing"
    cost = round(n * provider.unit_price_usd, 4) if provider.unit_price_usd is not None else None
    return ProviderCallEstimate(
        step_id=step.id,
        provider=provider.name,
        configured=provider.configured,
        calls=n,
        unit_price_usd=provider.unit_price_usd,
        cost_usd=cost,
        note=note,
    )
