"""SUP-001: turn a goal into a plan of steps, with an estimate of its cost and of what its searches can find.
Pure.

The planner knows which providers each tool would try and what they charge through a ``ToolCatalog``
value handed to it (built from settings by the tool layer); it never looks at settings itself. What each search
provider can deliver (``SearchCoverage``, counted by the tool layer) becomes the plan's coverage and warnings
(``with_coverage``); ``shortfall_clause`` says after a run why fewer were found.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from wyshbone.domain.matching import Wanted, category_label
from wyshbone.domain.matching import wanted as read_wanted
from wyshbone.domain.models import (
    LeadGenContext,
    LeadGenGoal,
    LeadGenPlan,
    LeadGenPlanStep,
    LeadToolIdentifier,
    PlanEstimate,
    ProviderCallEstimate,
    ProviderCoverage,
    StepAvailability,
)
from wyshbone.domain.personas import pluralize
from wyshbone.domain.qualifiers import QUALIFIERS
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
    label: str = ""
    """How a person knows it ("the directory", "Google Places"); ``name`` when empty."""

    def covers(self, country: str) -> bool:
        return self.countries is None or country in self.countries

    @property
    def spoken(self) -> str:
        return self.label or self.name


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
        "qualifiers": list(goal.qualifiers),
        "region": goal.target_region,
        "country": goal.country,
        "regionMatch": goal.region_match.to_json_dict() if goal.region_match else None,
        "nearbyAllowed": goal.nearby_allowed,
        "volume": goal.volume,
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
    return f"Not set up: needs {_spoken(needs, 'or')}\n{details}"


def _needs(reason: str) -> str | None:
    """One provider's reason ("set WYSHBONE_HUNTER_API_KEY, or WYSHBONE_WEBSITE_CRAWL=true") in a person's words;
    None when it names no setting."""
    if "wyshbone db import" in reason:
        return "the business directory imported"
    settings = list(dict.fromkeys(_SETTING.findall(reason)))
    if not settings:
        return None
    spoken = [_NEEDS.get(name, f"the setting {name}") for name in settings]
    return _spoken(spoken, "or" if ", or " in reason else "and")


def _spoken(items: list[str], conjunction: str) -> str:
    """["a", "b", "c"] → "a, b and c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


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


# ------------------------------------------------------------------------------------ coverage before approval
# What each usable provider of a search step can deliver is counted (the directory) or stated (online caps)
# by the tool layer before approval; here it becomes the plan's coverage and its warnings, in plain words.


@dataclass(frozen=True, slots=True)
class CouncilGap:
    """A council of the asked place whose open data cannot hold the asked kind: a source is missing there."""

    council: str
    """As a person reads it ("Birmingham")."""
    holds: tuple[str, ...]
    """Directory categories the open data does hold there, most first ("pub_bar", "dentist")."""
    missing: tuple[str, ...]
    """The sources with no data there that would hold the asked kind ("FSA")."""


@dataclass(frozen=True, slots=True)
class SearchCoverage:
    """What one provider of a search step can deliver for the goal, known before approval (its ``count``)."""

    available: int | None = None
    """Businesses of the asked kind and qualifiers inside the place; None when it cannot count before searching."""
    nearby: int | None = None
    """The same just outside the place (they top up, labelled nearby); None when not counted."""
    cap: int | None = None
    """The most one search of it returns (Google Places: 60)."""
    kind_held: bool = True
    """False when it does not record the asked kind at all (the directory and gyms): names only."""
    name_only: tuple[str, ...] = ()
    """Qualifiers (keys) it can show only by a business's name."""
    unshowable: tuple[str, ...] = ()
    """Qualifiers it cannot show at all: it will find none."""
    gaps: tuple[CouncilGap, ...] = ()
    """Councils of the place whose data cannot hold the asked kind."""
    dates: tuple[tuple[str, str], ...] = ()
    """(source, date or range) of its data for the place ("FSA", "2021-12-25")."""


CoverageCounts = Mapping[str, Sequence[tuple[ProviderInfo, SearchCoverage]]]
"""step id → what each usable provider of that step can deliver, in chain order."""

_SEARCH_TOOLS = (T.GLOBAL_DB_SEARCH.value, T.GOOGLE_PLACES_SEARCH.value)


def with_coverage(plan: LeadGenPlan, counts: CoverageCounts, catalog: ToolCatalog) -> LeadGenPlan:
    """``plan`` with ``estimate.coverage`` (one entry per counted provider of each search step) and the
    warnings each foreseeable shortfall calls for (appended to any it has)."""
    coverage: list[ProviderCoverage] = []
    warnings: list[str] = []
    for step in plan.steps:
        found = counts.get(step.id, ())
        for info, count in found:
            coverage.append(
                ProviderCoverage(
                    step_id=step.id,
                    provider=info.name,
                    available=count.available,
                    cap=count.cap,
                    note=coverage_note(plan.goal, info, count),
                )
            )
        if str(step.tool) in _SEARCH_TOOLS and found:
            warnings += coverage_warnings(plan.goal, found, catalog.get(step.tool, ()))
    estimate = plan.estimate.model_copy(update={"coverage": coverage})
    merged = list(dict.fromkeys([*plan.warnings, *warnings]))
    return plan.model_copy(update={"estimate": estimate, "warnings": merged})


def coverage_note(goal: LeadGenGoal, info: ProviderInfo, count: SearchCoverage) -> str:
    """What one provider can and cannot tell for this goal, in a line ("1 inside Manchester, 3 nearby; does not
    record cuisine: 'Italian' matched on names only")."""
    want = _wanted(goal)
    parts: list[str] = []
    if count.available is not None:
        counted = f"{count.available} inside {_place(goal)}"
        parts.append(counted + (f", {count.nearby} nearby" if count.nearby else ""))
    else:
        parts.append("cannot count before searching")
    if count.cap is not None:
        parts.append(f"at most {count.cap} per search")
    if not count.kind_held:
        parts.append(f"does not hold {want.asked()}: matched on names only")
    for aspect, labels in _by_aspect(count.name_only):
        named = (
            "matched on names only" if aspect.startswith("'") else f"{_quoted(labels)} matched on names only"
        )
        parts.append(f"does not record {aspect}: {named}")
    if count.unshowable:
        parts.append(f"cannot show {_quoted([_label(k) for k in count.unshowable])}")
    parts += [f"no {', '.join(gap.missing)} data for {gap.council}" for gap in count.gaps]
    if count.dates:
        parts.append("data: " + ", ".join(f"{source} {date}" for source, date in count.dates))
    return "; ".join(parts)


def coverage_warnings(
    goal: LeadGenGoal,
    found: Sequence[tuple[ProviderInfo, SearchCoverage]],
    chain: Sequence[ProviderInfo],
) -> list[str]:
    """A plain sentence for each shortfall foreseeable before approval: fewer counted than asked for and how
    to look further; a kind the directory does not hold, or not for a council (from its coverage records);
    qualifiers matched on names only, or not at all; qualifiers no source records."""
    want = _wanted(goal)
    warnings: list[str] = []
    for info, count in found:
        if count.available is not None:
            warnings += _shortfall(goal, want, info, count, found, chain)
        if not count.kind_held:
            warnings.append(
                f"{_capital(info.spoken)}'s open data covers food, drink and dental businesses, not "
                f"{pluralize(want.persona or 'business')}: '{want.persona}' is matched on business names only."
            )
        warnings += [_gap_sentence(gap) for gap in count.gaps]
        warnings += _qualifier_sentences(info, count)
        if count.available is None and count.cap is not None and count.cap < goal.volume and len(found) == 1:
            warnings.append(
                f"{_capital(info.spoken)} returns at most {count.cap} businesses per search; "
                f"{goal.volume} were asked for."
            )
    warnings += [
        f"No source records '{q.label}': businesses are not filtered on it." for q in want.unverifiable
    ]
    return list(dict.fromkeys(warnings))


def shortfall_clause(*, asked: str, place: str, searched: Sequence[str], nearby: bool, online: bool) -> str:
    """Why a search found fewer than wanted, to read after "1 of 10 gyms: ": "the directory holds no more gyms
    in Manchester and no online search is set up"; ``searched`` are the providers that looked, as a person
    knows them, ``online`` whether any online search is set up."""
    where = f"in or near {place}" if nearby else f"in {place}"
    if list(searched) == [DIRECTORY_LABEL]:
        clause = f"{DIRECTORY_LABEL} holds no more {asked} {where}"
        return clause if online else f"{clause} and no online search is set up"
    return (
        f"{_listed(list(dict.fromkeys(searched)) or [DIRECTORY_LABEL], 'and')} found no more {asked} {where}"
    )


DIRECTORY_LABEL = "the directory"
"""How a person knows the embedded directory."""


def _wanted(goal: LeadGenGoal) -> Wanted:
    return read_wanted(
        persona=goal.target_persona or "", categories=goal.target_categories, qualifiers=goal.qualifiers
    )


def _place(goal: LeadGenGoal) -> str:
    return goal.region_match.name if goal.region_match else goal.target_region or goal.country


def _shortfall(
    goal: LeadGenGoal,
    want: Wanted,
    info: ProviderInfo,
    count: SearchCoverage,
    found: Sequence[tuple[ProviderInfo, SearchCoverage]],
    chain: Sequence[ProviderInfo],
) -> list[str]:
    inside = count.available or 0
    near = count.nearby or 0
    if inside >= goal.volume or (goal.nearby_allowed and inside + near >= goal.volume):
        return []
    if not count.kind_held:
        what = f"{inside or 'no'} business{'' if inside == 1 else 'es'} like '{want.persona}'"
    else:
        what = f"{inside or 'no'} {want.asked(inside)}"
    sentence = f"{_capital(info.spoken)} holds {what} in {_place(goal)}" + (
        f" and {near} nearby" if near else ""
    )
    sentence += f"; {goal.volume} were asked for."
    if inside + near >= goal.volume:
        rest = "They will all come" if not inside else "The rest will come"
        return [f"{sentence} {rest} from nearby, labelled as such."]
    others = [other for other, _ in found if other.name != info.name]
    unknown = [o for o, c in found if o.name != info.name and c.cap is None and c.available is None]
    capped = [(o, c) for o, c in found if o.name != info.name and c.cap is not None]
    if unknown:
        sentence += f" {_capital(_listed([o.spoken for o in others], 'and'))} will look for the rest."
    elif capped:
        reach = inside + near + sum(c.cap or 0 for _, c in capped)
        names = _listed([o.spoken for o, _ in capped], "and")
        if reach < goal.volume:
            caps = ", ".join(f"{c.cap}" for _, c in capped)
            sentence += (
                f" {_capital(names)} return{'s' if len(capped) == 1 else ''} at most {caps} per search."
            )
        else:
            sentence += f" {_capital(names)} will look for the rest."
    else:
        missing = sorted({p.spoken for p in chain if p.external and not p.configured})
        if missing:
            sentence += f" Set up {_listed(missing, 'or')} to look further."
    return [sentence]


def _gap_sentence(gap: CouncilGap) -> str:
    holds = _listed([category_label(c) for c in gap.holds], "and") if gap.holds else "nothing"
    missing = _listed(list(gap.missing), "and")
    return f"{gap.council} council: {holds} only in the open data ({missing} data missing for this council)."


def _qualifier_sentences(info: ProviderInfo, count: SearchCoverage) -> list[str]:
    who = _capital(info.spoken)
    sentences = []
    for aspect, labels in _by_aspect(count.name_only):
        if aspect == "ownership":
            sentences.append(
                f"{who} does not record who owns a business: {_quoted(labels)} means the name is not a known "
                "chain's."
            )
        elif aspect.startswith("'"):
            sentences.append(f"{who} does not record {aspect}: it is matched on business names only.")
        else:
            verb = "is" if len(labels) == 1 else "are"
            sentences.append(
                f"{who} does not record {aspect}: {_quoted(labels)} {verb} matched on business names only."
            )
    for key in count.unshowable:
        sentences.append(
            f"{who} does not record '{_label(key)}' and business names do not show it: it will find none."
        )
    return sentences


def _by_aspect(keys: Iterable[str]) -> list[tuple[str, list[str]]]:
    """Qualifier keys grouped by what they are about ("cuisine": ["Italian", "Thai"]), in order."""
    groups: dict[str, list[str]] = {}
    for key in keys:
        q = QUALIFIERS.get(key)
        osm_keys = {k for k, _ in q.osm} if q else set()
        if "cuisine" in osm_keys:
            aspect = "cuisine"
        elif any(k.startswith("diet:") for k in osm_keys):
            aspect = "diets"
        elif q is not None and q.chains:
            aspect = "ownership"
        else:
            aspect = f"'{_label(key)}'"
        groups.setdefault(aspect, []).append(_label(key))
    return [(aspect, labels) for aspect, labels in groups.items()]


def _label(key: str) -> str:
    q = QUALIFIERS.get(key)
    return q.label if q else key


def _quoted(labels: Sequence[str]) -> str:
    return _listed([f"'{label}'" for label in labels], "and")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _listed(items: Sequence[str], conjunction: str) -> str:
    """["a", "b", "c"] → "a, b and c" (or "or")."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"
