"""SUP-001: turn a goal into a plan of steps, with an estimate of its cost. Pure.

The planner knows which providers each tool would try and what they charge through a ``ToolCatalog``
value handed to it (built from settings by the tool layer); it never looks at settings itself.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from wyshbone.domain.models import (
    LeadGenContext,
    LeadGenGoal,
    LeadGenPlan,
    LeadGenPlanStep,
    LeadToolIdentifier,
    PlanEstimate,
    ProviderCallEstimate,
    StepAvailability,
)
from wyshbone.errors import InvalidPlanError

T = LeadToolIdentifier

SEARCH_OVERFETCH = 2
"""The spec's choice: fetch 2 × volume candidates, then keep the best."""


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    """What the planner needs to know about one provider of a tool."""

    name: str
    """Provider name as shown to a person ("local_directory", "google_places")."""
    configured: bool
    """Whether it can be used now (key present, data imported...)."""
    reason: str | None = None
    """Why not, when not configured; never contains a secret."""
    external: bool = True
    """False for providers that make no outside call (the embedded directory)."""
    unit_price_usd: float | None = None
    """List price per request; None when the provider does not charge."""
    page_size: int | None = None
    """Results per request, for search providers that page."""
    max_results: int | None = None
    """Hard cap on results the provider returns for one query."""
    countries: tuple[str, ...] | None = None
    """ISO codes of the countries it covers; None → anywhere."""

    def covers(self, country: str) -> bool:
        return self.countries is None or country in self.countries


ToolCatalog = Mapping[str, tuple[ProviderInfo, ...]]
"""tool → its provider chain, in fallback order. A tool with an empty chain has no provider configured."""


@dataclass(frozen=True, slots=True)
class _StepSpec:
    tool: LeadToolIdentifier
    title: str
    description: str
    required: bool


_SPECS: dict[LeadToolIdentifier, _StepSpec] = {
    T.GLOBAL_DB_SEARCH: _StepSpec(
        T.GLOBAL_DB_SEARCH,
        "Search Wyshbone Global Database",
        "Find businesses matching the persona in the region, best matches first.",
        required=True,
    ),
    T.HUNTER_DOMAIN_LOOKUP: _StepSpec(
        T.HUNTER_DOMAIN_LOOKUP,
        "Find Company Domains",
        "Work out each business's web domain, from its website or a company lookup.",
        required=False,
    ),
    T.HUNTER_ENRICH: _StepSpec(
        T.HUNTER_ENRICH,
        "Enrich Contact Data",
        "Find contact email addresses for each business, with their verification status.",
        required=False,
    ),
    T.LEAD_LIST_SAVE: _StepSpec(
        T.LEAD_LIST_SAVE,
        "Save Lead List",
        "Keep the best leads, deduplicated, in a named list with each field's source.",
        required=True,
    ),
    T.EMAIL_SEQUENCE_SETUP: _StepSpec(
        T.EMAIL_SEQUENCE_SETUP,
        "Prepare Outreach",
        "Draft an email sequence (intro, day 3, day 7) for each saved lead with an email; nothing is sent yet.",
        required=False,
    ),
    T.MONITOR_SETUP: _StepSpec(
        T.MONITOR_SETUP,
        "Set Up Monitor",
        "Keep the search: run it once now as a baseline, then on a schedule; report and save only new businesses.",
        required=False,
    ),
}


MONITOR_MAX_RESULTS = 200
"""How many businesses a monitor's search looks at (``WYSHBONE_MONITOR_MAX_RESULTS``)."""


def step_id(tool: LeadToolIdentifier, n: int = 1) -> str:
    return f"{tool.value.lower()}_{n}"


def plan_lead_generation(
    goal: LeadGenGoal,
    context: LeadGenContext,
    *,
    catalog: ToolCatalog | None = None,
    plan_id: str | None = None,
    assumptions: Iterable[str] = (),
    monitor_max_results: int = MONITOR_MAX_RESULTS,
) -> LeadGenPlan:
    """Plan the steps for ``goal``: search → domain lookup → enrich → save (+ outreach, + monitor)."""
    catalog = catalog or {}
    search, domains, enrich, save = (
        step_id(T.GLOBAL_DB_SEARCH),
        step_id(T.HUNTER_DOMAIN_LOOKUP),
        step_id(T.HUNTER_ENRICH),
        step_id(T.LEAD_LIST_SAVE),
    )
    list_name = _list_name(goal)
    steps = [
        _step(T.GLOBAL_DB_SEARCH, catalog, params=_search_params(goal), depends_on=[]),
        _step(
            T.HUNTER_DOMAIN_LOOKUP,
            catalog,
            params={"sourceStepId": search, "limit": goal.volume},
            depends_on=[search],
        ),
        _step(
            T.HUNTER_ENRICH,
            catalog,
            params={"sourceStepId": domains, "leadsStepId": search, "limit": goal.volume},
            depends_on=[domains],
        ),
        _step(
            T.LEAD_LIST_SAVE,
            catalog,
            params={
                "sourceStepId": search,
                "enrichmentStepIds": [domains, enrich],
                "listName": list_name,
                "volume": goal.volume,
            },
            depends_on=[search],
            # Enrichment is optional: the list waits for it, and is saved (with what was found) even if it failed.
            waits_for=[domains, enrich],
        ),
    ]
    if "email" in goal.preferred_channels:
        steps.append(
            _step(
                T.EMAIL_SEQUENCE_SETUP,
                catalog,
                params={
                    "sourceStepId": save,
                    "persona": goal.target_persona,
                    "sequenceLength": 3,
                    "limit": goal.volume,
                },
                depends_on=[save],
            )
        )
    if goal.include_monitoring:
        steps.append(
            _step(
                T.MONITOR_SETUP,
                catalog,
                params={
                    "sourceStepId": save,
                    "searchStepId": search,
                    "cadence": goal.monitor_cadence or "weekly",
                    "maxResults": monitor_max_results,
                },
                depends_on=[save],
            )
        )
    plan = LeadGenPlan(
        id=plan_id or uuid.uuid4().hex,
        user_id=context.user_id,
        goal=goal,
        steps=steps,
        assumptions=list(assumptions),
    )
    validate_plan(plan)
    return plan.model_copy(update={"estimate": estimate_plan(plan, catalog)})


def _list_name(goal: LeadGenGoal) -> str:
    persona = goal.target_persona or "leads"
    region = goal.target_region or goal.country
    return f"{persona.title()}s in {region}"


def _search_params(goal: LeadGenGoal) -> dict[str, object]:
    return {
        "persona": goal.target_persona,
        "categories": list(goal.target_categories),
        "region": goal.target_region,
        "country": goal.country,
        "regionMatch": goal.region_match.to_json_dict() if goal.region_match else None,
        "maxResults": SEARCH_OVERFETCH * goal.volume,
    }


def _step(
    tool: LeadToolIdentifier,
    catalog: ToolCatalog,
    *,
    params: dict[str, object],
    depends_on: list[str],
    waits_for: list[str] | None = None,
) -> LeadGenPlanStep:
    spec = _SPECS[tool]
    return LeadGenPlanStep(
        id=step_id(tool),
        title=spec.title,
        tool=tool,
        params=params,
        depends_on=depends_on,
        waits_for=waits_for or [],
        description=spec.description,
        required=spec.required,
        providers=[p.name for p in catalog.get(tool, ())],
    )


def estimate_plan(plan: LeadGenPlan, catalog: ToolCatalog) -> PlanEstimate:
    """External calls per provider (at most) and their list-price cost; which steps will be skipped."""
    calls: list[ProviderCallEstimate] = []
    availability: list[StepAvailability] = []
    country = plan.goal.country
    for step in plan.steps:
        chain = catalog.get(step.tool, ())
        availability.append(_availability(step, chain, country))
        calls.extend(_call_estimate(step, p, plan.goal.volume) for p in chain if p.external)
        if step.tool == T.MONITOR_SETUP:
            calls.extend(_monitor_estimate(plan, step, catalog))
    total = sum(c.cost_usd or 0.0 for c in calls if c.configured)
    return PlanEstimate(calls=calls, total_cost_usd=round(total, 4), steps=availability)


def _availability(step: LeadGenPlanStep, chain: tuple[ProviderInfo, ...], country: str) -> StepAvailability:
    configured = [p for p in chain if p.configured]
    if any(p.covers(country) for p in configured):
        return StepAvailability(step_id=step.id, will_run=True)
    if configured:
        names = ", ".join(f"{p.name} covers {'/'.join(p.countries or ())} only" for p in configured)
        why = f"no configured provider covers {country} ({names})"
        return StepAvailability(step_id=step.id, will_run=True, reason=f"will find nothing: {why}")
    reasons = "; ".join(f"{p.name}: {p.reason}" for p in chain if p.reason)
    why = "no provider configured" + (f" ({reasons})" if reasons else "")
    return StepAvailability(step_id=step.id, will_run=False, reason=why)


def _monitor_estimate(
    plan: LeadGenPlan, step: LeadGenPlanStep, catalog: ToolCatalog
) -> list[ProviderCallEstimate]:
    """A monitor runs the plan's search (wider) once at set-up, then again at every check: the set-up's calls."""
    search_id = str(step.params.get("searchStepId") or "")
    search = next((s for s in plan.steps if s.id == search_id), None)
    if search is None:
        return []
    wider = search.model_copy(
        update={"params": {**search.params, "maxResults": step.params.get("maxResults")}}
    )
    cadence = step.params.get("cadence") or "weekly"
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


def validate_plan(plan: LeadGenPlan) -> None:
    """Raise ``InvalidPlanError`` listing every duplicate id, unknown dependency and cycle."""
    problems: list[str] = []
    ids = [s.id for s in plan.steps]
    seen: set[str] = set()
    for sid in ids:
        if sid in seen:
            problems.append(f"duplicate step id {sid!r}")
        seen.add(sid)
    for step in plan.steps:
        for dep in (*step.depends_on, *step.waits_for):
            if dep not in seen:
                problems.append(f"step {step.id!r} depends on unknown step {dep!r}")
            elif dep == step.id:
                problems.append(f"step {step.id!r} depends on itself")
    cycle = _find_cycle({s.id: [d for d in (*s.depends_on, *s.waits_for) if d in seen] for s in plan.steps})
    if cycle and len(cycle) > 2:
        problems.append("dependency cycle: " + " → ".join(cycle))
    if problems:
        raise InvalidPlanError(problems)


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A cycle as a path that ends where it starts, or None (iterative DFS, colours white/grey/black)."""
    state: dict[str, int] = dict.fromkeys(graph, 0)
    for root in graph:
        if state[root]:
            continue
        path: list[str] = []
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            node, i = stack.pop()
            if i == 0:
                state[node] = 1
                path.append(node)
            deps = graph[node]
            if i < len(deps):
                stack.append((node, i + 1))
                dep = deps[i]
                if state[dep] == 1:
                    return [*path[path.index(dep) :], dep]
                if state[dep] == 0:
                    stack.append((dep, 0))
            else:
                state[node] = 2
                path.pop()
    return None
