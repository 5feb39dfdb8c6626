"""Does a business match what a goal asks for — its kind, its qualifiers, its place — and why. Pure.

The source's own category decides the kind (an FSA business type, an NHS practice, an Open Brewery DB type, OSM
tags, Google Places types); a business's name only complements it within compatible categories, so a café
called "Brew Coffee Company" is no brewery while a manufacturer called "Bristol Beer Factory" is. A qualifier
("Italian", "vegan", "independent") is kept only when a tag, a type or the name shows it. The place says inside
or nearby. Each decision comes with its reasons in plain words; a business that fails one is refused (None).

The local directory builds its SQL from the same tables (``KIND_RULES``, the qualifiers), so what it counts
before approval and what it returns are what these functions accept.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from wyshbone.domain.gazetteer import distance_km
from wyshbone.domain.models import LeadMatch, RegionKind, RegionMatch
from wyshbone.domain.personas import persona_key, pluralize, search_terms, singularize
from wyshbone.domain.qualifiers import QUALIFIERS, Qualifier

__all__ = [
    "KIND_RULES",
    "Area",
    "Business",
    "KindRule",
    "Named",
    "Wanted",
    "Where",
    "area_for",
    "category_label",
    "circle_area",
    "find_term",
    "flat_d2",
    "match_business",
    "match_place",
    "match_qualifiers",
    "match_tagged",
    "match_typed",
    "name_words",
    "plain",
    "qualifier_reach",
    "wanted",
]

Kind = Literal["category", "name", "category+name"]
Evidence = Literal["tag", "type", "name"]

# ------------------------------------------------------------------------------------------ words in names


@functools.lru_cache(maxsize=65536)
def _folded(text: str) -> str:
    """Lower case, accents dropped: how the directory's FTS5 index (unicode61, remove_diacritics) reads text."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


_WORD = re.compile(r"[^\W_]+")


def name_words(text: str) -> frozenset[str]:
    """The words of a name as the directory's index holds them: "Café Nero's" → {"cafe", "nero", "s"}."""
    return frozenset(_WORD.findall(_folded(text)))


@functools.lru_cache(maxsize=4096)
def _term_words(term: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_WORD.findall(_folded(term))))


def find_term(name: str, terms: Iterable[str]) -> str | None:
    """The first term all of whose words are in ``name`` (as the index matches it), spelled as the name spells
    it: ``find_term("Luigi's PIZZERIA", ["pizzeria"])`` → "PIZZERIA"; None when no term is there."""
    words = name_words(name)
    for term in terms:
        wanted_words = _term_words(term)
        if wanted_words and all(w in words for w in wanted_words):
            return _as_spelled(name, wanted_words)
    return None


def _as_spelled(name: str, words: Sequence[str]) -> str:
    spelled = {_folded(w): w for w in reversed(_WORD.findall(name))}
    return " ".join(spelled.get(w, w) for w in words)


def plain(value: str) -> str:
    """Lowercase ASCII letters and digits only: "Yorkshire and The Humber" → "yorkshireandthehumber"."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", ascii_text.lower())


# ------------------------------------------------------------------------------------------ kinds

# The open data's business types (``source_type``): the FSA's, the NHS's and Open Brewery DB's.
RESTAURANT_CAFE = "Restaurant/Cafe/Canteen"
TAKEAWAY = "Takeaway/sandwich shop"
PUB_BAR = "Pub/bar/nightclub"
HOTEL = "Hotel/bed & breakfast/guest house"
OTHER_CATERING = "Other catering premises"
MOBILE = "Mobile caterer"
RETAIL = "Retailers - other"
SUPERMARKET = "Retailers - supermarkets/hypermarkets"
MAKER = "Manufacturers/packers"
FARM = "Farmers/growers"
DISTRIBUTOR = "Distributors/Transporters"
IMPORTER = "Importers/Exporters"
CARE = "Hospitals/Childcare/Caring Premises"
SCHOOL = "School/college/university"
DENTAL = ("General Dental Practice (D)", "General Dental Practice (P)")
MAKERS = (MAKER, FARM, DISTRIBUTOR, IMPORTER)
BREWERY_TYPES = tuple(
    f"brewery:{t}"
    for t in ("micro", "nano", "regional", "brewpub", "large", "contract", "proprietor", "taproom")
)
"""Open Brewery DB's types of working breweries ("closed" and "planning" are not)."""


@dataclass(frozen=True, slots=True)
class Named:
    """Businesses of some types that are of a category when their name says so."""

    types: tuple[str, ...]
    """The compatible business types."""
    terms: tuple[str, ...]
    """Words (or phrases) of which the name must show one."""
    unless: tuple[str, ...] = ()
    """Words that show the name is another trade's ("Premier Inn" is no pub, "The Brewery Tap" no brewery)."""


@dataclass(frozen=True, slots=True)
class KindRule:
    """When a business of the open data is of one directory category."""

    category: str
    singular: str
    plural: str
    types: tuple[str, ...] = ()
    """Business types that make it this kind by themselves: kind "category"."""
    unless: tuple[str, ...] = ()
    """Directory categories that take a business of ``types`` out (a Restaurant/Cafe/Canteen the publisher
    read as a café is no restaurant)."""
    names: tuple[Named, ...] = ()
    """A business of a compatible type whose name says so is this kind (kind "name"). Types not listed here or
    in ``types`` never are, whatever the name says."""
    trusted: bool = False
    """The open data's own category (which its publisher read from names, within the compatible types) counts
    as the name showing it: cafés and off-licences."""
    generic: tuple[str, ...] = ()
    """Personas meaning the whole category; any other persona of it ("pizzeria", "farm shop") must also be
    shown by the name."""


_BREWING = ("brewing", "brew co", "brewco", "microbrewery", "beer factory")
"""Words that make a business of a compatible type a brewery, whatever else its name says."""
_BREWERY = ("brewery", "breweries")
"""Words that make a shop, bar or caterer a brewery unless its name is a pub's carrying a brewery's name."""
_NOT_BREWING = ("coffee", "tea", "kombucha")
"""A coffee roaster or tea maker "brewing" is no brewery ("Brew Coffee Company")."""
_A_PUB = (
    "tap", "old brewery", "public house", "inn", "arms", "tavern", "hotel", "ale house", "bar", "club",
    "university", "students", "union", "fayre",
)  # fmt: skip
"""Names of pubs and bars that only carry a brewery's name: "The Brewery Tap", "The Old Brewery", "The Brewhouse
Club" (a university bar), "Brewers Fayre" (a chain of pub restaurants)."""
_DISTIL = ("distillery", "distilleries", "distillers", "distilling", "distiller")
_WINE = ("winery", "vineyard", "vineyards", "wine estate", "cider", "ciders", "cidery", "perry", "meadery")
_CAFE = (
    "cafe", "caffe", "coffee", "espresso", "tea room", "tea rooms", "tearoom", "tearooms", "tea shop",
    "tea house", "teahouse", "patisserie", "bakery", "brunch", "costa", "starbucks", "nero", "pret",
)  # fmt: skip
_PUB = ("pub", "inn", "tavern", "arms", "alehouse", "ale house", "freehouse", "free house")
_RESTAURANT = ("restaurant", "bistro", "brasserie", "ristorante", "trattoria", "osteria", "steakhouse")
_OFF_LICENCE = ("off licence", "off license", "wines", "wine", "booze", "liquor", "bottle shop", "beer shop")

_RULES: tuple[KindRule, ...] = (
    KindRule(
        "pub_bar",
        "pub",
        "pubs",
        types=(PUB_BAR, "brewery:brewpub", "brewery:taproom"),
        names=(
            Named(
                (RESTAURANT_CAFE, HOTEL, OTHER_CATERING),
                _PUB,
                ("premier inn", "holiday inn", "jurys inn", "days inn", "travelodge"),
            ),
        ),
        generic=("pub", "bar", "inn", "tavern", "public house", "free house", "freehouse", "alehouse"),
    ),
    KindRule(
        "restaurant",
        "restaurant",
        "restaurants",
        types=(RESTAURANT_CAFE,),
        unless=("cafe",),
        names=(Named((PUB_BAR, HOTEL, OTHER_CATERING), _RESTAURANT),),
        generic=("restaurant", "eatery"),
    ),
    KindRule(
        "takeaway",
        "takeaway",
        "takeaways",
        types=(TAKEAWAY,),
        unless=("cafe",),
        names=(
            Named(
                (RESTAURANT_CAFE, MOBILE), ("takeaway", "take away", "takeout", "fish bar", "chippy", "kebab")
            ),
        ),
        generic=("takeaway", "take away", "takeout", "fast food"),
    ),
    KindRule(
        "cafe",
        "café",
        "cafés",
        names=(Named((RESTAURANT_CAFE, TAKEAWAY, OTHER_CATERING, MOBILE), _CAFE),),
        trusted=True,
        generic=(
            "cafe",
            "coffee shop",
            "coffee house",
            "coffeehouse",
            "coffee bar",
            "espresso bar",
            "coffee",
        ),
    ),
    KindRule(
        "hotel",
        "hotel",
        "hotels",
        types=(HOTEL,),
        names=(Named((PUB_BAR,), ("hotel", "guest house", "guesthouse", "bed and breakfast")),),
        generic=("hotel",),
    ),
    KindRule(
        "brewery",
        "brewery",
        "breweries",
        types=BREWERY_TYPES,
        names=(
            Named(MAKERS, (*_BREWING, *_BREWERY, "brewers", "brewer", "ales", "beer", "beers"), _NOT_BREWING),
            Named((RETAIL,), (*_BREWING, *_BREWERY), _NOT_BREWING),
            Named(
                (PUB_BAR, OTHER_CATERING), (*_BREWING, "brewery tap room", "brewery taproom"), _NOT_BREWING
            ),
            Named((PUB_BAR, OTHER_CATERING), _BREWERY, (*_NOT_BREWING, *_A_PUB)),
        ),
        generic=("brewery", "microbrewery", "micro brewery", "craft brewery", "brewer"),
    ),
    KindRule(
        "distillery",
        "distillery",
        "distilleries",
        names=(
            # a producer of spirits; a dealer in them (a distributor, an auction house) is not a distillery
            Named((MAKER,), (*_DISTIL, "gin", "whisky", "whiskey", "spirits", "rum", "vodka")),
            Named((*MAKERS, RETAIL, PUB_BAR, OTHER_CATERING), _DISTIL, ("gin bar", "auction", "auctions")),
        ),
        generic=("distillery", "distiller", "gin distillery"),
    ),
    KindRule(
        "winery_cidery",
        "winery or cidery",
        "wineries and cideries",
        types=("brewery:cidery",),
        names=(Named(MAKERS, (*_WINE, "wine", "wines")), Named((RETAIL, PUB_BAR, OTHER_CATERING), _WINE)),
        generic=(
            "winery",
            "vineyard",
            "cidery",
            "cider maker",
            "cider producer",
            "wine producer",
            "meadery",
        ),
    ),
    KindRule(
        "off_licence",
        "off-licence",
        "off-licences",
        names=(Named((RETAIL,), _OFF_LICENCE),),
        trusted=True,
        generic=("off licence", "off license", "offie", "liquor store"),
    ),
    KindRule("shop", "shop", "shops", types=(RETAIL,), generic=("shop",)),
    KindRule(
        "supermarket",
        "supermarket",
        "supermarkets",
        types=(SUPERMARKET,),
        names=(Named((RETAIL,), ("supermarket", "superstore", "hypermarket")),),
        generic=("supermarket", "hypermarket"),
    ),
    KindRule(
        "dentist",
        "dentist",
        "dentists",
        types=DENTAL,
        generic=("dentist", "dental practice", "dental surgery", "dental clinic"),
    ),
    KindRule(
        "food_producer",
        "food producer",
        "food producers",
        types=MAKERS,
        generic=("food producer", "food manufacturer", "producer", "manufacturer"),
    ),
    KindRule(
        "mobile_caterer", "mobile caterer", "mobile caterers", types=(MOBILE,), generic=("mobile caterer",)
    ),
    KindRule(
        "other_catering",
        "caterer",
        "caterers",
        types=(OTHER_CATERING,),
        generic=("caterer", "catering company", "event caterer"),
    ),
    KindRule(
        "institution",
        "school, hospital or care home",
        "schools, hospitals and care homes",
        types=(CARE, SCHOOL),
    ),
)

KIND_RULES: Mapping[str, KindRule] = {rule.category: rule for rule in _RULES}
"""Directory category → when a business of the open data is of it."""


def category_label(category: str, *, plural: bool = True) -> str:
    """How a person says a directory category: "pub_bar" → "pubs"."""
    rule = KIND_RULES.get(category)
    if rule is None:
        return category.replace("_", " ")
    return rule.plural if plural else rule.singular


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


def _named(term: str | None) -> str:
    return f"name contains '{term}'"


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
        return _KindFound(kind, (source, *([_named(persona_term)] if persona_term else [])))
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
            return _KindFound("category+name", (source, _named(persona_term)))
        return _KindFound("category", (source,))
    for named in rule.names:
        if source_type not in named.types or find_term(listing.name, named.unless):
            continue
        # Only the rule's own words: a persona's looser ones ("brew") would let a café called "Brew Coffee
        # Company", filed as a maker of coffee, pass as a brewery.
        term = find_term(listing.name, named.terms)
        if term is not None:
            return _KindFound("name", (source, _named(term)))
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
            return _KindFound("category+name", (reason, _named(persona_term)))
        return _KindFound("category", (reason,))
    if persona_term:
        return _KindFound("name", (_named(persona_term),))
    return None


# ------------------------------------------------------------------------------------------ qualifiers


def match_qualifiers(
    want: Wanted,
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
    for qualifier in want.qualifiers:
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
        return "name", _named(term)
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


# ------------------------------------------------------------------------------------------ place


@dataclass(frozen=True, slots=True)
class Area:
    """Where a business counts as inside the asked place, and how far beyond it one counts as nearby."""

    name: str
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    """Inside only within this distance of the centre; None: no distance test (a council's or county's area)."""
    councils: frozenset[str] = frozenset()
    """Inside only in one of these councils (keys, as ``geodata.council_keys`` makes them) or ``counties``."""
    counties: frozenset[str] = frozenset()
    """County names (as ``plain`` spells them) whose businesses are inside."""
    regions: frozenset[str] = frozenset()
    """Region names (as ``plain`` spells them) whose businesses are inside."""
    districts: frozenset[str] = frozenset()
    """Postcode districts ("LS6") whose businesses are inside."""
    nearby_km: float | None = None
    """Outside, but within this distance of the centre: nearby. None: nothing outside is kept."""

    @property
    def bounded(self) -> bool:
        """Whether inside is decided by a boundary (council, county, region, district) at all."""
        return bool(self.councils or self.counties or self.regions or self.districts)


NEARBY_FACTOR = 2.0
"""Nearby reaches this many times the place's radius from its centre."""

DEFAULT_RADIUS_KM = 5.0
"""Radius around a town, area or city whose ``RegionMatch`` carries none."""


def area_for(region: RegionMatch, *, councils: Iterable[str] = (), own_council: bool = False) -> Area:
    """The ``Area`` of a place the gazetteer resolved.

    A town or city that is its own council (``own_council``: Liverpool, Cardiff, York) is inside that council's
    area, wherever in it (Bootle, in Sefton, is not in Liverpool); a town within a larger council (Inverness in
    Highland, Harrogate in North Yorkshire) is its radius within its council; counties, regions and postcode
    districts are their boundary; named areas (the Cotswolds) and cities abroad their circle. ``councils`` are
    the keys of the town's council, or of every council a county or council area names. Nearby reaches
    ``NEARBY_FACTOR`` times the radius for towns and postcode districts; around a county or region nothing is.
    """
    lat, lon = region.lat, region.lon
    radius = region.radius_km or DEFAULT_RADIUS_KM
    keys = frozenset(councils)
    values = region.field_values or ((region.field_value,) if region.field_value else ())
    if region.kind is RegionKind.TOWN:
        near = radius * NEARBY_FACTOR
        if keys and own_council:
            return Area(region.name, lat, lon, None, keys, nearby_km=near)
        return Area(region.name, lat, lon, radius, keys, nearby_km=near)
    if region.kind is RegionKind.POSTCODE_DISTRICT:
        districts = frozenset(v.upper().replace(" ", "") for v in values or (region.name,))
        return Area(region.name, lat, lon, districts=districts, nearby_km=radius * NEARBY_FACTOR)
    if region.kind is RegionKind.REGION:
        return Area(region.name, lat, lon, regions=frozenset(plain(v) for v in values or (region.name,)))
    if region.kind in (RegionKind.COUNTY, RegionKind.LOCAL_AUTHORITY):
        return Area(region.name, lat, lon, councils=keys, counties=frozenset(plain(v) for v in values))
    if region.kind is RegionKind.WORLD_CITY:
        return Area(region.name, lat, lon, radius, nearby_km=radius * NEARBY_FACTOR)
    return Area(region.name, lat, lon, radius)


def circle_area(region: RegionMatch) -> Area:
    """The place as a circle only, for sources that know a business's point but not its council (online
    providers): its radius (a county's or region's footprint for those), nearby as ``area_for`` says."""
    radius = region.radius_km or DEFAULT_RADIUS_KM
    near = None if region.kind in _BOUNDED else radius * NEARBY_FACTOR
    return Area(region.name, region.lat, region.lon, radius, nearby_km=near)


_BOUNDED = (RegionKind.COUNTY, RegionKind.REGION, RegionKind.LOCAL_AUTHORITY, RegionKind.AREA)


@dataclass(frozen=True, slots=True)
class Where:
    """Where a business is, as far as its source says."""

    lat: float | None = None
    lon: float | None = None
    council: str | None = None
    """Its council's key (``geodata.council_keys``)."""
    council_name: str | None = None
    """Its council as a person reads it ("Sefton")."""
    county: str | None = None
    region: str | None = None
    district: str | None = None
    """Its postcode district ("LS6")."""


KM_PER_DEGREE = 111.195


def flat_d2(lat0: float, lon0: float, lat: float, lon: float) -> float:
    """Squared distance in km² on a flat map around (lat0, lon0): the directory's SQL computes the same
    expression in the same order, so a business on the edge of a circle falls on the same side in both."""
    kx = KM_PER_DEGREE * math.cos(math.radians(lat0))
    dy, dx = (lat - lat0) * KM_PER_DEGREE, (lon - lon0) * kx
    return dy * dy + dx * dx


def within(area_lat: float, area_lon: float, lat: float, lon: float, radius_km: float) -> bool:
    return flat_d2(area_lat, area_lon, lat, lon) <= radius_km * radius_km


def match_place(area: Area, where: Where) -> tuple[Literal["inside", "nearby"], str] | None:
    """Inside or nearby, with the reason ("in Sandwell, 6.1 km from Birmingham centre"); None when neither."""
    centre = (area.lat, area.lon) if area.lat is not None and area.lon is not None else None
    point = (where.lat, where.lon) if where.lat is not None and where.lon is not None else None
    distance = distance_km(*centre, *point) if centre and point else None

    def reaches(radius: float) -> bool:
        return centre is not None and point is not None and within(*centre, *point, radius)

    if _in_boundary(area, where) and (area.radius_km is None or reaches(area.radius_km)):
        return "inside", _inside_reason(area, where, distance)
    if area.nearby_km is not None and distance is not None and reaches(area.nearby_km):
        town = f"{distance:.1f} km from {area.name} centre"
        beyond = f"{town}, beyond the {area.radius_km:g} km taken as {area.name}" if area.radius_km else town
        if where.council_name and where.council not in area.councils:
            return "nearby", f"in {where.council_name}, {town}"
        return "nearby", f"{beyond}, in {where.council_name}" if where.council_name else beyond
    return None


def _in_boundary(area: Area, where: Where) -> bool:
    if not area.bounded:
        return True
    return (
        (where.council is not None and where.council in area.councils)
        or (where.county is not None and plain(where.county) in area.counties)
        or (where.region is not None and plain(where.region) in area.regions)
        or (where.district is not None and where.district.upper() in area.districts)
    )


def _inside_reason(area: Area, where: Where, distance: float | None) -> str:
    if area.radius_km is not None and distance is not None:
        town = f"{distance:.1f} km from {area.name} centre"
        return f"{town}, in {where.council_name}" if where.council_name else town
    if area.councils and where.council_name and not (area.counties or area.regions or area.districts):
        return f"in {where.council_name}" + (
            f", {distance:.1f} km from the centre" if distance is not None else ""
        )
    return f"in {area.name}"


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
    qualifiers = match_qualifiers(want, name=listing.name, source_type=listing.source_type)
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
    qualifiers = match_qualifiers(want, name=name, tags=tags)
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
    qualifiers = match_qualifiers(want, name=name, types=types, places=True)
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
