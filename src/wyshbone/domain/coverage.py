"""What the search providers can deliver for a goal, known before approval, in plain words: the plan's coverage
(one entry per counted provider of each search step) and a warning for each foreseeable shortfall; after a run,
why fewer were found (``shortfall_clause``). The tool layer counts (the directory) or states (online caps); this
module only words it. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from wyshbone.domain.catalog import ProviderInfo, ToolCatalog
from wyshbone.domain.kind_rules import category_label
from wyshbone.domain.matching import Wanted
from wyshbone.domain.matching import wanted as read_wanted
from wyshbone.domain.models import LeadGenGoal, LeadGenPlan, LeadToolIdentifier, ProviderCoverage
from wyshbone.domain.personas import pluralize
from wyshbone.domain.qualifiers import QUALIFIERS
from wyshbone.domain.wording import capital, listed

__all__ = [
    "DIRECTORY_LABEL",
    "CouncilGap",
    "CoverageCounts",
    "SearchCoverage",
    "coverage_note",
    "coverage_warnings",
    "shortfall_clause",
    "with_coverage",
]


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

_SEARCH_TOOLS = (LeadToolIdentifier.GLOBAL_DB_SEARCH.value, LeadToolIdentifier.GOOGLE_PLACES_SEARCH.value)


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
                f"{capital(info.spoken)}'s open data covers food, drink and dental businesses, not "
                f"{pluralize(want.persona or 'business')}: '{want.persona}' is matched on business names only."
            )
        warnings += [_gap_sentence(gap) for gap in count.gaps]
        warnings += _qualifier_sentences(info, count)
        if count.available is None and count.cap is not None and count.cap < goal.volume and len(found) == 1:
            warnings.append(
                f"{capital(info.spoken)} returns at most {count.cap} businesses per search; "
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
        f"{listed(list(dict.fromkeys(searched)) or [DIRECTORY_LABEL], 'and')} found no more {asked} {where}"
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
    sentence = f"{capital(info.spoken)} holds {what} in {_place(goal)}" + (
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
        sentence += f" {capital(listed([o.spoken for o in others], 'and'))} will look for the rest."
    elif capped:
        reach = inside + near + sum(c.cap or 0 for _, c in capped)
        names = listed([o.spoken for o, _ in capped], "and")
        if reach < goal.volume:
            caps = ", ".join(f"{c.cap}" for _, c in capped)
            sentence += (
                f" {capital(names)} return{'s' if len(capped) == 1 else ''} at most {caps} per search."
            )
        else:
            sentence += f" {capital(names)} will look for the rest."
    else:
        missing = sorted({p.spoken for p in chain if p.external and not p.configured})
        if missing:
            sentence += f" Set up {listed(missing, 'or')} to look further."
    return [sentence]


def _gap_sentence(gap: CouncilGap) -> str:
    holds = listed([category_label(c) for c in gap.holds], "and") if gap.holds else "nothing"
    missing = listed(list(gap.missing), "and")
    return f"{gap.council} council: {holds} only in the open data ({missing} data missing for this council)."


def _qualifier_sentences(info: ProviderInfo, count: SearchCoverage) -> list[str]:
    who = capital(info.spoken)
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
    return listed([f"'{label}'" for label in labels], "and")
