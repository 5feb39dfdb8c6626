"""What a directory search asks and where, as the FTS5 expressions and SQL conditions of one search (pure): which
businesses it accepts (the kind by ``domain.kind_rules``, every qualifier, no excluded category), the tiers that
rank them, and the zones (inside the place, then nearby) it reads them in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from wyshbone.domain.areas import NEARBY_FACTOR, Area
from wyshbone.domain.kind_rules import KIND_RULES
from wyshbone.domain.matching import Wanted
from wyshbone.errors import InputError
from wyshbone.providers import _directory_sql as sql

__all__ = ["CATEGORY_POINTS", "NAME_POINTS", "REST_POINTS", "TYPE_POINTS", "build_query"]

# Relevance, in hundredths: persona signals add up; the postcode bonus (5) separates rows within a tier.
CATEGORY_POINTS, NAME_POINTS, TYPE_POINTS, REST_POINTS = 100, 60, 30, 20


def build_query(want: Wanted, area: Area) -> sql.SearchQuery:
    """What is asked and where, as the FTS5 expressions and SQL conditions of one search (pure).

    ``accept`` holds the kind (``kind_rules.KIND_RULES``), the qualifiers and the institutions left out; the
    tiers rank within it (the business type says so: 100; the name shows the persona: 60; neither: 20); the
    zones are inside the place, then nearby.
    """
    kind, signals, rest, base = _kind_expression(want)
    accept = _with_qualifiers(kind, want)
    zones, centre = _zones(area)
    if accept is None:
        return sql.SearchQuery(None, (), zones, centre)
    # The type's signal implies the kind: its tiers need not repeat the (costly) words of the name groups.
    implied = signals[0][1] if signals and signals[0][0] == CATEGORY_POINTS else None
    raw = sql.tiers(signals=signals, accept=kind, rest=rest, base=base, implied=implied)
    found = tuple(sql.Tier(t.points, _with_qualifiers(t.match, want) or t.match) for t in raw)
    return sql.SearchQuery(accept, found, zones, centre)


def _names(terms: Iterable[str]) -> str | None:
    match = sql.term_query(terms)
    return f"name : ({match})" if match else None


_KindExpression = tuple[str, list[tuple[int, str]], int | None, int]
"""(accept, ranking signals, points of the businesses showing none of them, points every business accepted has)."""


def _kind_expression(want: Wanted) -> _KindExpression:
    """The kind asked for as what a search accepts and how it ranks what it accepts."""
    persona = _names(want.terms)
    if not want.categories:
        if persona is None:
            raise InputError("A directory search needs categories or search terms.")
        by_type = f"source_type : ({sql.term_query(want.terms)})"
        return f"({persona}) OR ({by_type})", [(NAME_POINTS, persona), (TYPE_POINTS, by_type)], None, 0
    accept, by_type = _category_expressions(want.categories)
    return _ranked(accept, by_type, persona, terms_required=want.terms_required)


def _category_expressions(categories: Sequence[str]) -> tuple[str, str]:
    """(the businesses of any of the categories, those of them whose business type alone says so)."""
    accepted: list[str] = []
    by_type: list[str] = []
    for category in categories:
        accepts, typed = _rule_expressions(category)
        accepted += accepts
        by_type += typed
    return _any(accepted), _any(by_type)


def _rule_expressions(category: str) -> tuple[list[str], list[str]]:
    """What one category's kind rule accepts, and which of that its business type alone says."""
    rule = KIND_RULES.get(category)
    if rule is None:
        own = f"tags : ({sql.tag(sql.CATEGORY, category)})"
        return [own], [own]
    accepted: list[str] = []
    by_type: list[str] = []
    types = sql.any_tag(sql.tag(sql.SOURCE_TYPE, t) for t in rule.types)
    if types:
        unless = sql.any_tag(sql.tag(sql.CATEGORY, c) for c in rule.unless)
        authoritative = f"({types}) NOT ({unless})" if unless else types
        accepted.append(authoritative)
        by_type.append(authoritative)
    for named in rule.names:
        in_types = sql.any_tag(sql.tag(sql.SOURCE_TYPE, t) for t in named.types)
        shown = [e for e in (_names(named.terms),) if e]
        unless = _names(named.unless)
        if rule.trusted:
            own = f"tags : ({sql.tag(sql.CATEGORY, category)})"
            shown.append(own)
            trusted = f"({in_types}) AND ({own})"
            by_type.append(f"({trusted}) NOT ({unless})" if unless else trusted)
        group = f"({in_types}) AND ({' OR '.join(f'({e})' for e in shown)})"
        accepted.append(f"({group}) NOT ({unless})" if unless else group)
    return accepted, by_type


def _any(expressions: Iterable[str]) -> str:
    return " OR ".join(f"({e})" for e in dict.fromkeys(expressions))


def _ranked(accept: str, by_type: str, persona: str | None, *, terms_required: bool) -> _KindExpression:
    """The tiers of a kind with categories: the business type says so (100), the name shows the persona (60)."""
    # When the type alone decides (dentists, shops), every business accepted shows that signal: no tier of
    # businesses without it to read.
    typed = by_type == accept
    if terms_required and persona:
        # Every business accepted shows the persona's name.
        if typed:
            return f"({accept}) AND ({persona})", [], CATEGORY_POINTS + NAME_POINTS, 0
        if not by_type:  # a kind only names decide (distilleries)
            return f"({accept}) AND ({persona})", [], NAME_POINTS, 0
        by_type_named = f"({by_type}) AND ({persona})"
        return f"({accept}) AND ({persona})", [(CATEGORY_POINTS, by_type_named)], NAME_POINTS, NAME_POINTS
    if typed:
        return accept, [(NAME_POINTS, persona)] if persona else [], CATEGORY_POINTS, CATEGORY_POINTS
    signals = [(CATEGORY_POINTS, by_type)] if by_type else []
    signals += [(NAME_POINTS, persona)] if persona else []
    return accept, signals, REST_POINTS, 0


def _with_qualifiers(accept: str, want: Wanted) -> str | None:
    """``accept`` narrowed to businesses showing every qualifier (and no excluded category); None when the
    directory cannot show one of them at all (it records no tag for it, and names do not say it)."""
    for qualifier in want.qualifiers:
        shown = [
            e
            for e in (
                _names(qualifier.name_terms),
                sql.any_tag(sql.tag(sql.SOURCE_TYPE, t) for t in qualifier.source_types),
            )
            if e
        ]
        chains = _names(qualifier.chains)
        if not shown and not chains:
            return None
        if shown:
            accept = f"({accept}) AND ({' OR '.join(f'({e})' for e in shown)})"
        if chains:
            accept = f"({accept}) NOT ({chains})"
    other_trade = _names(want.unless)
    if other_trade:
        accept = f"({accept}) NOT ({other_trade})"
    excluded = sql.any_tag(sql.tag(sql.CATEGORY, c) for c in want.excluded)
    return f"({accept}) NOT ({excluded})" if excluded else accept


def _zones(area: Area) -> tuple[tuple[sql.Zone, ...], sql.Circle | None]:
    """Inside the place (its boundary tags, or its grid cells and radius), then nearby (the grid cells within
    reach, not inside); and the centre distances are measured from."""
    boundary = _boundary_tags(area)
    if area.radius_km is None and boundary is None:
        raise InputError(f"The place {area.name!r} names no area to search.")
    centre = None
    if area.radius_km is not None and (area.lat is None or area.lon is None):
        raise InputError(f"The place {area.name!r} has no coordinates to search around.")
    if area.lat is not None and area.lon is not None and (area.radius_km or area.nearby_km):
        scale = area.radius_km or (area.nearby_km or 0.0) / NEARBY_FACTOR
        centre = sql.Circle(area.lat, area.lon, scale)
    inside_sql, inside_params = _inside_sql(area)
    zones = [sql.Zone("inside", _inside_place(area, boundary), *_inside_where(area))]
    if centre is not None and area.radius_km is None and boundary is not None:
        # A city that is its own council: its centre (the town's own radius) first, then the rest of the
        # council, so that a name's signal never puts the far edge of Leeds before its middle.
        cells = sql.cells_covering(lat=centre.lat, lon=centre.lon, radius_km=centre.radius_km)
        core = f"({sql.any_tag(cells)}) AND ({boundary})" if cells else boundary
        near_centre: dict[str, object] = {"rc2": centre.radius_km * centre.radius_km}
        zones = [
            sql.Zone("inside", core, "{d2} <= :rc2", near_centre),
            sql.Zone("inside", boundary, "{d2} IS NULL OR {d2} > :rc2", near_centre),
        ]
    if centre is not None and area.nearby_km is not None:
        cells = sql.cells_covering(lat=centre.lat, lon=centre.lon, radius_km=area.nearby_km)
        near = {"rn2": area.nearby_km * area.nearby_km}
        where = f"{{d2}} <= :rn2 AND NOT ({inside_sql})"
        zones.append(sql.Zone("nearby", sql.any_tag(cells) if cells else None, where, near | inside_params))
    return tuple(zones), centre


def _boundary_tags(area: Area) -> str | None:
    tags = [
        *(sql.tag(sql.COUNCIL, key) for key in sorted(area.councils)),
        *(sql.tag(sql.COUNTY, name) for name in sorted(area.counties)),
        *(sql.tag(sql.REGION, name) for name in sorted(area.regions)),
        *(sql.tag(sql.OUTWARD, code) for code in sorted(area.districts)),
    ]
    return sql.any_tag(tag for tag in tags if len(tag) > 2)


def _inside_place(area: Area, boundary: str | None) -> str | None:
    if area.radius_km is None or area.lat is None or area.lon is None:
        return boundary
    cells = sql.cells_covering(lat=area.lat, lon=area.lon, radius_km=area.radius_km)
    circle = sql.any_tag(cells) if cells else None
    if circle and boundary:
        return f"({circle}) AND ({boundary})"
    return circle or boundary


def _inside_where(area: Area) -> tuple[str, dict[str, object]]:
    """The exact distance test of a place with a radius (the grid cells only come near it)."""
    if area.radius_km is None:
        return "", {}
    return "{d2} <= :ri2", {"ri2": area.radius_km * area.radius_km}


def _inside_sql(area: Area) -> tuple[str, dict[str, object]]:
    """Inside as an SQL condition on a row (for the nearby zone to leave out)."""
    parts: list[str] = []
    params: dict[str, object] = {}
    if area.councils or area.districts:
        boundary = []
        if area.councils:
            councils, council_params = sql.in_list("b.council", "c", sorted(area.councils))
            boundary.append(councils)
            params |= council_params
        if area.districts:
            districts, district_params = sql.in_list("b.outward", "d", sorted(area.districts))
            boundary.append(districts)
            params |= district_params
        parts.append(" OR ".join(boundary))
    if area.radius_km is not None:
        parts.append("{d2} <= :ri2")
        params["ri2"] = area.radius_km * area.radius_km
    return " AND ".join(f"({p})" for p in parts) or "0", params
