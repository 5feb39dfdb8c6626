"""Does a business match what a goal asks for — its kind, its qualifiers, its place — and why. Pure.

The source's own category decides the kind (an FSA business type, an NHS practice, an Open Brewery DB type, OSM
tags, Google Places types; ``domain.kind_rules``); a business's name only complements it within compatible
categories. A qualifier is kept only when a tag, a type or the name shows it (``domain.qualifier_evidence``). The
place says inside or nearby (``domain.areas``). Each decision comes with its reasons in plain words; a business
that fails one is refused (None).

The local directory builds its SQL from the same tables (``KIND_RULES``, the qualifiers), so what it counts
before approval and what it returns are what these functions accept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from wyshbone.domain.areas import Area, Where, match_place
from wyshbone.domain.kind_rules import KIND_RULES, KindRule, category_label
from wyshbone.domain.models import LeadMatch
from wyshbone.domain.names import find_term, name_contains
from wyshbone.domain.personas import persona_key, pluralize, search_terms, singularize
from wyshbone.domain.qualifier_evidence import Evidence, match_qualifiers, qualifier_reach
from wyshbone.domain.qualifiers import QUALIFIERS, Qualifier

__all__ = [
    "Business",
    "Wanted",
    "match_business",
    "match_tagged",
    "match_typed",
    "qualifier_reach",  # re-exported: tools.lead_search imports it from here
    "wanted",
]

Kind = Literal["category", "name", "category+name"]


@dataclass(frozen=True, slots=True)
class Wanted:
    """What a search asks for, read once: the kind (persona and categories) and the qualifiers."""

    persona: str
    """Singular, as the goal says it ("coffee shop"); may be empty when only categories are given."""
    categories: tuple[str, ...]
    """Directory categories of the persona (empty: the directory does not hold this kind)."""
    terms: tuple[str, ...]
    """Words in a name that show the persona ("coffee", "cafe"); they rank a business higher."""
    terms_required: bool
    """The name must show the persona: it has no category ("gym") or is narrower than its category
    ("pizzeria", "farm shop")."""
    qualifiers: tuple[Qualifier, ...] = ()
    """Every one must be shown by a tag, a type or the name."""
    unverifiable: tuple[Qualifier, ...] = ()
    """Asked for, but no source records them ("family-run"): not filtered on, and the plan says so."""
    unless: tuple[str, ...] = ()
    """Words that show a name is another trade's than the persona's ("Harpers Farm Supplies")."""

    @property
    def excluded(self) -> tuple[str, ...]:
        """Categories left out unless asked for (schools, care homes and hospitals are not leads)."""
        return () if "institution" in self.categories else ("institution",)

    def asked(self, count: int = 2) -> str:
        """The kind as a person says it: "Italian restaurants", "vegan café"."""
        words = [q.label for q in (*self.qualifiers, *self.unverifiable)]
        kind = pluralize(self.persona, count) if self.persona else category_label(self.categories[0])
        return " ".join([*words, kind])


def wanted(
    *,
    persona: str,
    categories: Sequence[str],
    terms: Sequence[str] | None = None,
    qualifiers: Sequence[str] = (),
) -> Wanted:
    """What ``persona`` (with its directory ``categories`` and name ``terms``, by default its search terms) and
    the ``qualifiers`` (keys of ``domain.qualifiers``; an unknown word is looked for in names) ask of a business."""
    persona = singularize(persona.strip()) if persona.strip() else ""
    cats = tuple(dict.fromkeys(c for c in categories if c))
    found = tuple(dict.fromkeys(terms if terms is not None else search_terms(persona) if persona else ()))
    required = not cats or (bool(persona) and bool(found) and not _generic(persona, cats))
    known = [QUALIFIERS.get(key) or Qualifier(key, key, (key,), name_terms=(key,)) for key in qualifiers]
    # A word that names the kind cannot also show a qualifier: "brewery" says brewery, not craft.
    known = [
        replace(q, name_terms=tuple(t for t in q.name_terms if t not in found))
        for q in {q.key: q for q in known}.values()
    ]
    return Wanted(
        persona=persona,
        categories=cats,
        terms=found,
        terms_required=required,
        qualifiers=tuple(q for q in known if q.verifiable),
        unverifiable=tuple(q for q in known if not q.verifiable),
        unless=_PERSONA_UNLESS.get(persona_key(persona), ()) if required else (),
    )


_PERSONA_UNLESS: Mapping[str, tuple[str, ...]] = {
    "farm shop": (
        "supplies", "supply", "leisure", "holiday", "caravan", "camping", "machinery", "feeds", "vets",
        "equipment",
    ),
}  # fmt: skip
"""Personas whose words other trades share: a name that also says one of these is that trade's."""


def _generic(persona: str, categories: Sequence[str]) -> bool:
    """Whether the persona means its whole category ("coffee shop", "pubs and bars", "craft beer pub") rather
    than a narrower kind of it ("pizzeria", "farm shop")."""
    generic = {g for c in categories if (rule := KIND_RULES.get(c)) for g in rule.generic}
    whole = persona_key(persona)
    if whole in generic:
        return True
    parts = [p for p in re.split(r"\s*(?:,|&|\band\b|\bor\b|/)\s*", whole) if p]
    return bool(parts) and all(_generic_part(part, generic) for part in parts)


def _generic_part(part: str, generic: set[str]) -> bool:
    """A generic persona, or words before one that name nothing narrower ("craft beer pub" is a pub; "farm
    shop" has words of its own, so is not a shop)."""
    if part in generic:
        return True
    words = part.split()
    for start in range(1, len(words)):
        tail = " ".join(words[start:])
        if tail in generic:
            return search_terms(part) == search_terms(tail)
    return False


@dataclass(frozen=True, slots=True)
class _KindFound:
    kind: Kind
    reasons: tuple[str, ...]


def _source_reason(source: str, source_type: str | None) -> str:
    if source == "fsa_fhrs":
        return f"FSA type {source_type}"
    if source == "nhs_ods_dental":
        return "NHS dental practice"
    if source == "openbrewerydb":
        return f"Open Brewery DB type {(source_type or '').removeprefix('brewery:')}"
    if source == "open_pubs":
        return "listed by Open Pubs"
    return f"{source} type {source_type}" if source_type else f"listed by {source}"


def _directory_kind(want: Wanted, listing: Business) -> _KindFound | None:
    """The kind of a business of the open data, decided by its type (and its name within compatible types)."""
    persona_term = find_term(listing.name, want.terms)
    source = _source_reason(listing.source, listing.source_type)
    if not want.categories:
        by_type = bool(want.terms) and find_term(listing.source_type or "", want.terms) is not None
        if persona_term is None and not by_type:
            return None
        if listing.category in want.excluded:
            return None
        kind: Kind = "category+name" if persona_term and by_type else "name" if persona_term else "category"
        return _KindFound(kind, (source, *([name_contains(persona_term)] if persona_term else [])))
    if want.terms_required and persona_term is None:
        return None
    if find_term(listing.name, want.unless):
        return None
    best: _KindFound | None = None
    for category in want.categories:
        found = _by_rule(KIND_RULES.get(category), category, listing, persona_term, source)
        if found is not None and (best is None or _KIND_RANK[found.kind] > _KIND_RANK[best.kind]):
            best = found
    return best


_KIND_RANK: Mapping[str, int] = {"name": 0, "category": 1, "category+name": 2}


def _by_rule(
    rule: KindRule | None, category: str, listing: Business, persona_term: str | None, source: str
) -> _KindFound | None:
    if rule is None:  # a category the rules do not know: the open data's own category decides
        return _KindFound("category", (source,)) if listing.category == category else None
    source_type = listing.source_type or ""
    if source_type in rule.types and listing.category not in rule.unless:
        if persona_term:
            return _KindFound("category+name", (source, name_contains(persona_term)))
        return _KindFound("category", (source,))
    for named in rule.names:
        if source_type not in named.types or find_term(listing.name, named.unless):
            continue
        # Only the rule's own words: a persona's looser ones ("brew") would let a café called "Brew Coffee
        # Company", filed as a maker of coffee, pass as a brewery.
        term = find_term(listing.name, named.terms)
        if term is not None:
            return _KindFound("name", (source, name_contains(term)))
        if rule.trusted and listing.category == category:
            return _KindFound("name", (source, f"its name reads as a {rule.singular}'s in the open data"))
    return None


def _typed_kind(
    want: Wanted, *, name: str, shown: Sequence[str], specific: bool, what: str
) -> _KindFound | None:
    """The kind of an online business: ``shown`` are the tags or types of its source that mark the asked kind
    (picked out by the provider; ``specific`` when they mark the persona itself, not only its category); else
    its name must show the persona."""
    persona_term = find_term(name, want.terms)
    if want.terms_required and persona_term is None and not (shown and specific):
        return None
    if find_term(name, want.unless):
        return None
    if shown:
        reason = f"{what} {', '.join(shown)}"
        if persona_term:
            return _KindFound("category+name", (reason, name_contains(persona_term)))
        return _KindFound("category", (reason,))
    if persona_term:
        return _KindFound("name", (name_contains(persona_term),))
    return None


# ------------------------------------------------------------------------------------------ whole matches


@dataclass(frozen=True, slots=True)
class Business:
    """A business of the open data, as matching needs it."""

    name: str
    source: str
    source_type: str | None = None
    category: str | None = None
    where: Where = field(default_factory=Where)


def match_business(want: Wanted, area: Area, listing: Business) -> LeadMatch | None:
    """How a business of the open data answers the goal; None when it is not the asked kind, does not show a
    qualifier, or is neither inside nor nearby."""
    kind = _directory_kind(want, listing)
    if kind is None:
        return None
    qualifiers = match_qualifiers(want.qualifiers, name=listing.name, source_type=listing.source_type)
    return _whole(kind, qualifiers, match_place(area, listing.where))


def match_tagged(
    want: Wanted,
    area: Area,
    *,
    name: str,
    tags: Mapping[str, str],
    kind_tags: Sequence[tuple[str, str]],
    specific: bool,
    where: Where,
) -> LeadMatch | None:
    """How an OpenStreetMap feature answers the goal: ``kind_tags`` are its tags that mark the asked kind
    (``specific``: the persona itself, as shop=florist does, not only its category)."""
    shown = [f"{key}={value}" for key, value in kind_tags]
    kind = _typed_kind(want, name=name, shown=shown, specific=specific, what="OSM")
    if kind is None:
        return None
    qualifiers = match_qualifiers(want.qualifiers, name=name, tags=tags)
    return _whole(kind, qualifiers, match_place(area, where))


def match_typed(
    want: Wanted,
    area: Area,
    *,
    name: str,
    types: Sequence[str],
    kind_types: Sequence[str],
    specific: bool,
    where: Where,
) -> LeadMatch | None:
    """How a Google Places result answers the goal: ``kind_types`` are its types that mark the asked kind
    (``specific``: the persona itself, as ``gym`` does, not only its category)."""
    kind = _typed_kind(want, name=name, shown=kind_types, specific=specific, what="Google Places type")
    if kind is None:
        return None
    qualifiers = match_qualifiers(want.qualifiers, name=name, types=types, places=True)
    return _whole(kind, qualifiers, match_place(area, where))


def _whole(
    kind: _KindFound,
    qualifiers: tuple[dict[str, Evidence], list[str]] | None,
    place: tuple[Literal["inside", "nearby"], str] | None,
) -> LeadMatch | None:
    if qualifiers is None or place is None:
        return None
    shown, why = qualifiers
    reasons = list(dict.fromkeys((*kind.reasons, *why, place[1])))
    return LeadMatch(area=place[0], kind=kind.kind, qualifiers=shown, reasons=reasons)
