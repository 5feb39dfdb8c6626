"""How a business shows a qualifier asked for ("Italian", "vegan", "independent"): an OpenStreetMap tag, a Google
Places type, an open-data business type or its name; and which qualifiers a source can show at all."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from wyshbone.domain.names import find_term, name_contains
from wyshbone.domain.qualifiers import Qualifier

__all__ = ["Evidence", "match_qualifiers", "qualifier_reach"]

Evidence = Literal["tag", "type", "name"]


def match_qualifiers(
    qualifiers: Iterable[Qualifier],
    *,
    name: str,
    tags: Mapping[str, str] | None = None,
    types: Sequence[str] = (),
    source_type: str | None = None,
    places: bool = False,
) -> tuple[dict[str, Evidence], list[str]] | None:
    """How each qualifier asked for is shown — by an OSM tag (``tags``), a Google Places type (``types`` when
    ``places``), an open-data business type (``source_type``) or the name — with the reasons; None when one is
    not shown (or, for "independent", the name is a chain's)."""
    shown: dict[str, Evidence] = {}
    reasons: list[str] = []
    for qualifier in qualifiers:
        found = _qualifier_shown(qualifier, name, tags or {}, types if places else (), source_type)
        if found is None:
            return None
        shown[qualifier.key], reason = found
        reasons.append(reason)
    return shown, reasons


def _qualifier_shown(
    q: Qualifier, name: str, tags: Mapping[str, str], types: Sequence[str], source_type: str | None
) -> tuple[Evidence, str] | None:
    if q.chains:
        chain = find_term(name, q.chains)
        if chain is not None or "brand" in tags:
            return None
        if not (q.osm or q.places_types or q.name_terms or q.source_types):
            return "name", "not a chain's name"
    for key, value in q.osm:
        if _tag_has(tags.get(key), value):
            return "tag", f"OSM {key}={tags[key]}"
    for place_type in q.places_types:
        if place_type in types:
            return "type", f"Google Places type {place_type}"
    if source_type and source_type in q.source_types:
        return "type", f"Open Brewery DB type {source_type.removeprefix('brewery:')}"
    term = find_term(name, q.name_terms)
    if term is not None:
        return "name", name_contains(term)
    return None


def qualifier_reach(
    qualifiers: Iterable[Qualifier], *, tags: bool = False, types: bool = False, source_types: bool = False
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(shown by names only, not shown at all): the qualifiers a source with OSM ``tags``, Google Places
    ``types`` or the open data's ``source_types`` can show only by a business's name, or cannot show."""
    name_only: list[str] = []
    never: list[str] = []
    for q in qualifiers:
        if (tags and q.osm) or (types and q.places_types) or (source_types and q.source_types):
            continue
        (name_only if q.name_terms or q.chains else never).append(q.key)
    return tuple(name_only), tuple(never)


def _tag_has(actual: str | None, value: str) -> bool:
    """An OSM tag holds ``value``, alone or in a ";"-separated list ("italian;pizza")."""
    return actual is not None and value in (v.strip() for v in actual.split(";"))
