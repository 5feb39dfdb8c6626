"""SUP-001: turn a goal into a plan of steps (``plan_lead_generation``), validated, with its estimate. Pure.

The planner knows which providers each tool would try and what they charge through a ``ToolCatalog`` value
handed to it (``domain.catalog``); the estimate is ``domain.estimate``'s; what each search provider can deliver
becomes the plan's coverage and warnings in ``domain.coverage`` (``with_coverage``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from wyshbone.domain.camel import StepParams
from wyshbone.domain.catalog import ProviderInfo, ToolCatalog
from wyshbone.domain.coverage import (
    DIRECTORY_LABEL,
    CouncilGap,
    SearchCoverage,
    shortfall_clause,
    with_coverage,
)
from wyshbone.domain.estimate import estimate_plan, not_set_up
from wyshbone.domain.limits import MONITOR_MAX_RESULTS
from wyshbone.domain.models import (
    LeadGenContext,
    LeadGenGoal,
    LeadGenPlan,
    LeadGenPlanStep,
    LeadToolIdentifier,
)
from wyshbone.domain.monitors import Cadence
from wyshbone.domain.steps import (
    DomainLookupParams,
    EnrichParams,
    MonitorParams,
    SaveListParams,
    SearchParams,
    SequenceParams,
    misfits,
)
from wyshbone.errors import InvalidPlanError

# The catalog, estimate and coverage names are re-exported for the callers that import them from here (tools,
# services, demo, bench, tests).
__all__ = [
    "DIRECTORY_LABEL",
    "MONITOR_MAX_RESULTS",
    "SEARCH_OVERFETCH",
    "CouncilGap",
    "ProviderInfo",
    "SearchCoverage",
    "ToolCatalog",
    "estimate_plan",
    "not_set_up",
    "plan_lead_generation",
    "shortfall_clause",
    "step_id",
    "validate_plan",
    "with_coverage",
]

T = LeadToolIdentifier

SEARCH_OVERFETCH = 2
"""The spec's choice: fetch 2 × volume candidates, then keep the best."""


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


def step_id(tool: LeadToolIdentifier, n: int = 1) -> str:
    return f"{tool.value.lower()}_{n}"


_SEARCH, _DOMAINS, _ENRICH, _SAVE = (
    step_id(T.GLOBAL_DB_SEARCH),
    step_id(T.HUNTER_DOMAIN_LOOKUP),
    step_id(T.HUNTER_ENRICH),
    step_id(T.LEAD_LIST_SAVE),
)


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
    steps = [*_gathering_steps(goal, catalog), *_follow_up_steps(goal, catalog, monitor_max_results)]
    plan = LeadGenPlan(
        id=plan_id or uuid.uuid4().hex,
        user_id=context.user_id,
        goal=goal,
        steps=steps,
        assumptions=list(assumptions),
    )
    validate_plan(plan)
    return plan.model_copy(update={"estimate": estimate_plan(plan, catalog)})


def _gathering_steps(goal: LeadGenGoal, catalog: ToolCatalog) -> list[LeadGenPlanStep]:
    """The search, the domains and emails of what it found, and the list saved."""
    save = SaveListParams(
        source_step_id=_SEARCH,
        enrichment_step_ids=[_DOMAINS, _ENRICH],
        list_name=_list_name(goal),
        volume=goal.volume,
    )
    return [
        _step(T.GLOBAL_DB_SEARCH, catalog, params=_search_params(goal), depends_on=[]),
        _step(
            T.HUNTER_DOMAIN_LOOKUP,
            catalog,
            params=DomainLookupParams(source_step_id=_SEARCH, limit=goal.volume),
            depends_on=[_SEARCH],
        ),
        _step(
            T.HUNTER_ENRICH,
            catalog,
            params=EnrichParams(source_step_id=_DOMAINS, leads_step_id=_SEARCH, limit=goal.volume),
            depends_on=[_DOMAINS],
        ),
        # Enrichment is optional: the list waits for it, and is saved (with what was found) even if it failed.
        _step(T.LEAD_LIST_SAVE, catalog, params=save, depends_on=[_SEARCH], waits_for=[_DOMAINS, _ENRICH]),
    ]


def _follow_up_steps(
    goal: LeadGenGoal, catalog: ToolCatalog, monitor_max_results: int
) -> list[LeadGenPlanStep]:
    """What the goal asks after the list is saved: outreach drafts (when it emails), a monitor (when it watches)."""
    steps = []
    if "email" in goal.preferred_channels:
        outreach = SequenceParams(
            source_step_id=_SAVE, persona=goal.target_persona, sequence_length=3, limit=goal.volume
        )
        steps.append(_step(T.EMAIL_SEQUENCE_SETUP, catalog, params=outreach, depends_on=[_SAVE]))
    if goal.include_monitoring:
        monitor = MonitorParams(
            source_step_id=_SAVE,
            search_step_id=_SEARCH,
            cadence=Cadence(goal.monitor_cadence or "weekly"),
            max_results=monitor_max_results,
        )
        steps.append(_step(T.MONITOR_SETUP, catalog, params=monitor, depends_on=[_SAVE]))
    return steps


def _list_name(goal: LeadGenGoal) -> str:
    persona = goal.target_persona or "leads"
    region = goal.target_region or goal.country
    return f"{persona.title()}s in {region}"


def _search_params(goal: LeadGenGoal) -> SearchParams:
    return SearchParams(
        persona=goal.target_persona,
        categories=list(goal.target_categories),
        qualifiers=list(goal.qualifiers),
        region=goal.target_region,
        country=goal.country,
        region_match=goal.region_match,
        nearby_allowed=goal.nearby_allowed,
        volume=goal.volume,
        max_results=SEARCH_OVERFETCH * goal.volume,
    )


def _step(
    tool: LeadToolIdentifier,
    catalog: ToolCatalog,
    *,
    params: StepParams,
    depends_on: list[str],
    waits_for: list[str] | None = None,
) -> LeadGenPlanStep:
    spec = _SPECS[tool]
    return LeadGenPlanStep(
        id=step_id(tool),
        title=spec.title,
        tool=tool,
        params=params.to_json_dict(),
        depends_on=depends_on,
        waits_for=waits_for or [],
        description=spec.description,
        required=spec.required,
        providers=[p.name for p in catalog.get(tool, ())],
    )


def validate_plan(plan: LeadGenPlan) -> None:
    """Raise ``InvalidPlanError`` listing every duplicate id, unknown dependency, cycle, and step whose params do
    not fit its tool."""
    problems: list[str] = misfits(plan)
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
