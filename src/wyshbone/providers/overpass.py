"""OpenStreetMap through an Overpass API endpoint: persona → OSM tags, qualifiers → more tags (``cuisine``,
``diet:vegan``, ``craft``) or name patterns, region → ``around`` circle, elements → leads with their ``match``.

Overpass is keyless and shared: its usage policy asks for one request at a time per client, and backing off on
429/504. Building the query and reading elements are pure functions; ``search_overpass`` does the I/O.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from wyshbone.config import Settings
from wyshbone.domain.areas import Where, circle_area
from wyshbone.domain.catalog import ProviderInfo
from wyshbone.domain.gazetteer import distance_km
from wyshbone.domain.matching import Wanted, match_tagged, wanted
from wyshbone.domain.models import Lead, RegionMatch
from wyshbone.domain.personas import categories_for, persona_key, search_terms, singularize
from wyshbone.domain.qualifiers import Qualifier
from wyshbone.errors import PermanentToolError, RetryableToolError
from wyshbone.providers.http import StatusMeaning, raise_for_status, transport_error

__all__ = [
    "OSM",
    "OVERPASS",
    "OsmFilter",
    "build_query",
    "lead_from_element",
    "osm_filters",
    "overpass_info",
    "qualifier_conditions",
    "search_circle",
    "search_overpass",
]

OVERPASS = "overpass"
"""The provider's name, as the planner shows it."""
SERVICE = "OpenStreetMap"
"""The name a person knows it by, in messages (Overpass is the server that searches OpenStreetMap)."""
OSM = "osm"
"""The source leads carry (``osm:node/123``)."""
QUERY_TIMEOUT_S = 25
DEFAULT_RADIUS_KM = 5.0
MAX_RADIUS_KM = 50.0
"""Wider circles make slow, heavy queries that the public servers time out or refuse."""


@dataclass(frozen=True, slots=True)
class OsmFilter:
    """One tag condition: ``key`` equal to one of ``values``."""

    key: str
    values: tuple[str, ...]

    def ql(self) -> str:
        if len(self.values) == 1:
            return f'["{self.key}"="{self.values[0]}"]'
        return f'["{self.key}"~"^({"|".join(self.values)})$"]'


def _tags(key: str, *values: str) -> tuple[OsmFilter, ...]:
    return (OsmFilter(key, values),)


# persona (as persona_key spells it) → the OSM tags that mark such a business.
_PERSONA_TAGS: Mapping[str, tuple[OsmFilter, ...]] = {
    "cafe": _tags("amenity", "cafe"),
    "coffee shop": _tags("amenity", "cafe"),
    "coffee house": _tags("amenity", "cafe"),
    "tea room": _tags("amenity", "cafe"),
    "pub": _tags("amenity", "pub"),
    "bar": _tags("amenity", "bar"),
    "wine bar": _tags("amenity", "bar"),
    "cocktail bar": _tags("amenity", "bar"),
    "nightclub": _tags("amenity", "nightclub"),
    "brewery": _tags("craft", "brewery"),
    "microbrewery": _tags("craft", "brewery"),
    "taproom": (*_tags("craft", "brewery"), *_tags("amenity", "pub", "bar")),
    "distillery": _tags("craft", "distillery"),
    "winery": _tags("craft", "winery"),
    "cidery": _tags("craft", "cider"),
    "dentist": (*_tags("amenity", "dentist"), *_tags("healthcare", "dentist")),
    "orthodontist": _tags("healthcare:speciality", "orthodontics"),
    "restaurant": _tags("amenity", "restaurant"),
    "takeaway": _tags("amenity", "fast_food"),
    "fast food": _tags("amenity", "fast_food"),
    "ice cream parlour": _tags("amenity", "ice_cream"),
    "hotel": _tags("tourism", "hotel"),
    "guest house": _tags("tourism", "guest_house"),
    "florist": _tags("shop", "florist"),
    "bakery": _tags("shop", "bakery"),
    "butcher": _tags("shop", "butcher"),
    "deli": _tags("shop", "deli"),
    "delicatessen": _tags("shop", "deli"),
    "greengrocer": _tags("shop", "greengrocer"),
    "off licence": _tags("shop", "alcohol", "wine"),
    "wine shop": _tags("shop", "wine"),
    "farm shop": _tags("shop", "farm"),
    "supermarket": _tags("shop", "supermarket"),
    "convenience store": _tags("shop", "convenience"),
    "hairdresser": _tags("shop", "hairdresser"),
    "barber": _tags("shop", "hairdresser"),
    "pharmacy": _tags("amenity", "pharmacy"),
    "gym": _tags("leisure", "fitness_centre"),
}

# Directory categories (personas.categories_for) that name one kind of OSM feature; the broad ones
# ("shop", "institution", "food_producer") do not, and fall through to a name search.
_CATEGORY_TAGS: Mapping[str, tuple[OsmFilter, ...]] = {
    "cafe": _PERSONA_TAGS["cafe"],
    "pub_bar": _tags("amenity", "pub", "bar"),
    "restaurant": _PERSONA_TAGS["restaurant"],
    "takeaway": _PERSONA_TAGS["takeaway"],
    "hotel": _tags("tourism", "hotel", "guest_house"),
    "brewery": _PERSONA_TAGS["brewery"],
    "distillery": _PERSONA_TAGS["distillery"],
    "winery_cidery": _tags("craft", "winery", "cider"),
    "off_licence": _PERSONA_TAGS["off licence"],
    "supermarket": _tags("shop", "supermarket", "convenience"),
    "dentist": _PERSONA_TAGS["dentist"],
}

# Words that would match half the names in town ("... Shop", "... Services") when searched alone.
_GENERIC_WORDS = frozenset(("shop", "store", "business", "company", "service", "services", "ltd", "limited"))
_SPLIT = re.compile(r"\s*(?:,|&|\band\b|\bor\b|/)\s*")
_SAFE_TERM = re.compile(r"[^a-z0-9 ]+")


def osm_filters(persona: str) -> tuple[tuple[OsmFilter, ...], tuple[str, ...]]:
    """(tag filters, name terms) for a persona: "pubs and bars" → amenity=pub, amenity=bar;
    an unknown "vintage clothing" → no tags and the name terms ("vintage", "clothing")."""
    filters, terms, _ = _persona_filters(persona)
    return filters, terms


def _persona_filters(persona: str) -> tuple[tuple[OsmFilter, ...], tuple[str, ...], bool]:
    """``osm_filters`` and whether its tags mark the persona itself (shop=florist), not only its category."""
    key = persona_key(singularize(persona))
    parts = [key] if key in _PERSONA_TAGS else [part for part in _SPLIT.split(key) if part]
    filters: list[OsmFilter] = []
    unmatched: list[str] = []
    specific = True
    for part in parts:
        found = _tail_lookup(part)
        if not found:
            specific = False
            found = tuple(f for category in categories_for(part) for f in _CATEGORY_TAGS.get(category, ()))
        if found:
            filters.extend(f for f in found if f not in filters)
        else:
            unmatched.append(part)
    terms: list[str] = []
    for part in unmatched:
        for term in search_terms(part):
            safe = _SAFE_TERM.sub("", persona_key(term)).strip()
            if safe and safe not in terms:
                terms.append(safe)
    named = [term for term in terms if term not in _GENERIC_WORDS]
    return tuple(filters), tuple(named or terms), specific and bool(filters)


def _tail_lookup(part: str) -> tuple[OsmFilter, ...]:
    """The entry for the longest known tail ("craft beer pub" → pub)."""
    words = part.split()
    for start in range(len(words)):
        found = _PERSONA_TAGS.get(" ".join(words[start:]))
        if found:
            return found
    return ()


def search_circle(region: RegionMatch) -> tuple[float, float, float]:
    """(lat, lon, radius in metres) to search around; regions without coordinates cannot be searched.

    RegionMatch carries no bounding box, so larger regions (counties, councils) use their centre and radius
    when the gazetteer gives them.
    """
    if region.lat is None or region.lon is None:
        raise PermanentToolError(
            f"{OVERPASS}: Overpass needs coordinates, and {region.name} ({region.kind.value}) has none",
            explanation=f"{SERVICE} searches around a point on the map, and Wyshbone knows none for {region.name}",
        )
    radius_km = min(region.radius_km or DEFAULT_RADIUS_KM, MAX_RADIUS_KM)
    return region.lat, region.lon, round(radius_km * 1000.0)


def build_query(
    *,
    filters: Sequence[OsmFilter],
    terms: Sequence[str],
    region: RegionMatch,
    limit: int,
    qualifiers: Sequence[Qualifier] = (),
) -> str:
    """Overpass QL: named nodes/ways/relations with any of the tags (or a name matching a term) in the circle,
    each also showing every qualifier (one of its tags, or a name pattern; see ``qualifier_conditions``)."""
    lat, lon, radius_m = search_circle(region)
    around = f"(around:{radius_m:.0f},{lat:.6f},{lon:.6f})"
    conditions = [f'{f.ql()}["name"]' for f in filters]
    if terms:
        conditions.append(f'["name"~"{"|".join(terms)}",i]')
    if not conditions:
        raise PermanentToolError(
            f"{OVERPASS}: nothing to search for (the persona has no words)",
            explanation="there is nothing to search for: the kind of business has no words in it",
        )
    alternatives = [qualifier_conditions(q) for q in qualifiers]
    combined = [base + "".join(chosen) for base in conditions for chosen in itertools.product(*alternatives)]
    statements = "\n".join(f"  nwr{condition}{around};" for condition in dict.fromkeys(combined))
    return f"[out:json][timeout:{QUERY_TIMEOUT_S}];\n(\n{statements}\n);\nout center tags {max(limit, 1)};"


_REGEX_UNSAFE = re.compile(r"[^a-z0-9 -]+")


def qualifier_conditions(qualifier: Qualifier) -> tuple[str, ...]:
    """The ways an element can show a qualifier, as Overpass QL conditions (any one will do): each OSM key's
    values (``cuisine`` may list several: "italian;pizza"), or a name pattern; "independent" is no ``brand``
    tag. A qualifier nothing shows gives the empty condition (matching then refuses every element)."""
    found: list[str] = []
    values: dict[str, list[str]] = {}
    for key, value in qualifier.osm:
        values.setdefault(key, []).append(value)
    for key, options in values.items():
        listed = "|".join(options)
        listed_in = f'["{key}"~"(^|;) *({listed}) *(;|$)"]'
        found.append(listed_in if key == "cuisine" else f'["{key}"~"^({listed})$"]')
    names = [safe for term in qualifier.name_terms if (safe := _REGEX_UNSAFE.sub("", term.lower()).strip())]
    if names:
        found.append(f'["name"~"{"|".join(dict.fromkeys(names))}",i]')
    if qualifier.chains:
        # Chains carry a brand tag in OSM; their names are checked word by word when the elements are read.
        found = [f'[!"brand"]{condition}' for condition in found] or ['[!"brand"]']
    return tuple(found) or ("",)


def lead_from_element(element: Mapping[str, Any], region: RegionMatch | None = None) -> Lead | None:
    """One Overpass element as a lead (None without a name); ways and relations carry their ``center``."""
    tags = element.get("tags")
    kind, osm_id = element.get("type"), element.get("id")
    if (
        not isinstance(tags, Mapping)
        or kind not in ("node", "way", "relation")
        or not isinstance(osm_id, int)
    ):
        return None
    name = _tag(tags, "name")
    if name is None:
        return None
    lat, lon = _point(element if kind == "node" else element.get("center"))
    fields: dict[str, Any] = {
        "name": name,
        "address": _address(tags),
        "postcode": _tag(tags, "addr:postcode"),
        "post_town": _tag(tags, "addr:city"),
        "lat": lat,
        "lon": lon,
        "website": _tag(tags, "website") or _tag(tags, "contact:website"),
        "phone": _tag(tags, "phone") or _tag(tags, "contact:phone"),
        "category": next((v for k in _CATEGORY_KEYS if (v := _tag(tags, k)) is not None), None),
    }
    filled = {key: value for key, value in fields.items() if value is not None}
    email = _tag(tags, "email") or _tag(tags, "contact:email")
    if email is not None:
        filled["emails"] = [{"value": email, "source": OSM, "verification": "unverified"}]
    return Lead(
        source=OSM,
        source_id=f"{OSM}:{kind}/{osm_id}",
        distance_km=_distance(region, lat, lon),
        provenance=dict.fromkeys(filled, OSM),
        **filled,
    )


_CATEGORY_KEYS = ("amenity", "shop", "craft", "tourism", "healthcare", "leisure")


def _tag(tags: Mapping[str, Any], key: str) -> str | None:
    value = tags.get(key)
    if not isinstance(value, str) or not value.strip():
        return None
    # Several values are separated by ";" in OSM; the first is the main one.
    return value.split(";")[0].strip() or None


def _address(tags: Mapping[str, Any]) -> str | None:
    street = " ".join(filter(None, (_tag(tags, "addr:housenumber"), _tag(tags, "addr:street"))))
    parts = [street, _tag(tags, "addr:city"), _tag(tags, "addr:postcode")]
    return ", ".join(part for part in parts if part) or None


def _point(point: object) -> tuple[float | None, float | None]:
    if not isinstance(point, Mapping):
        return None, None
    lat, lon = _float(point.get("lat")), _float(point.get("lon"))
    return (lat, lon) if lat is not None and lon is not None else (None, None)


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _distance(region: RegionMatch | None, lat: float | None, lon: float | None) -> float | None:
    if region is None or region.lat is None or region.lon is None or lat is None or lon is None:
        return None
    return round(distance_km(region.lat, region.lon, lat, lon), 3)


def overpass_info(settings: Settings) -> ProviderInfo:
    """Configured iff an endpoint is set; Overpass charges nothing."""
    configured = bool(settings.overpass_url)
    return ProviderInfo(
        OVERPASS,
        configured=configured,
        reason=None if configured else "set WYSHBONE_OVERPASS_URL",
        label=SERVICE,
    )


# --- I/O --------------------------------------------------------------------------------------------------

_MEANINGS = {
    400: StatusMeaning(
        False,
        "HTTP 400: the server rejected the query",
        f"{SERVICE}'s server could not read Wyshbone's search (a fault in Wyshbone: please report it)",
    ),
    429: StatusMeaning(
        True,
        "HTTP 429: too many requests from this address (rate limited)",
        f"{SERVICE}'s public server limits how often one computer may search, and that limit was reached",
    ),
    504: StatusMeaning(
        True,
        "HTTP 504: the server is too busy (gateway timeout)",
        f"{SERVICE}'s server is too busy right now",
    ),
}

# One request at a time per endpoint, as the usage policy asks. Locks belong to an event loop, so keep one
# per loop (tests and ``asyncio.run`` each bring their own).
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _slot(url: str) -> asyncio.Lock:
    locks = _slots.setdefault(asyncio.get_running_loop(), {})
    return locks.setdefault(url, asyncio.Lock())


async def search_overpass(
    *,
    client: httpx.AsyncClient,
    url: str,
    persona: str,
    region: RegionMatch,
    limit: int,
    qualifiers: Sequence[str] = (),
    categories: Sequence[str] | None = None,
) -> list[Lead]:
    """Named OSM features of the persona showing every qualifier within the region's circle, nearest first, at
    most ``limit``; each with its ``match`` (a feature the tags and names do not bear out is left out)."""
    if limit <= 0:
        return []
    filters, terms, specific = _persona_filters(persona)
    cats = categories_for(persona) if categories is None else categories
    want = wanted(persona=persona, categories=cats, qualifiers=qualifiers)
    query = build_query(filters=filters, terms=terms, region=region, limit=limit, qualifiers=want.qualifiers)
    async with _slot(url):
        try:
            response = await client.post(url, data={"data": query})
        except httpx.HTTPError as exc:
            raise transport_error(OVERPASS, exc, service=SERVICE) from exc
    raise_for_status(OVERPASS, response, _MEANINGS, service=SERVICE)
    elements = _elements(response)
    leads: dict[str, Lead] = {}
    for element in elements:
        lead = _matched(element, region, want, filters, specific)
        if lead is not None:
            leads.setdefault(lead.source_id, lead)
    ranked = sorted(
        leads.values(),
        key=lambda lead: (
            lead.match is None or lead.match.area != "inside",
            lead.distance_km is None,
            lead.distance_km or 0.0,
        ),
    )
    return ranked[:limit]


def _matched(
    element: Mapping[str, Any],
    region: RegionMatch,
    want: Wanted,
    filters: Sequence[OsmFilter],
    specific: bool,
) -> Lead | None:
    """The element as a lead with its match, or None (no name, or not what was asked)."""
    lead = lead_from_element(element, region)
    if lead is None:
        return None
    raw = element.get("tags")
    tags = {str(k): v for k, v in raw.items() if isinstance(v, str)} if isinstance(raw, Mapping) else {}
    kind_tags = [(f.key, tags[f.key]) for f in filters if tags.get(f.key) in f.values]
    found = match_tagged(
        want,
        circle_area(region),
        name=lead.name,
        tags=tags,
        kind_tags=list(dict.fromkeys(kind_tags)),
        specific=specific,
        where=Where(lat=lead.lat, lon=lead.lon),
    )
    return lead.model_copy(update={"match": found}) if found is not None else None


def _elements(response: httpx.Response) -> list[Mapping[str, Any]]:
    try:
        payload = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        # A healthy-status body that is not JSON: a cut-off transfer, or an HTML page from a busy server.
        raise RetryableToolError(
            f"{OVERPASS}: HTTP {response.status_code} with a body that is not JSON",
            explanation=f"{SERVICE}'s server sent an answer that could not be read (cut off or garbled)",
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("elements"), list):
        raise PermanentToolError(
            f"{OVERPASS}: unexpected response: no 'elements' list",
            explanation=f"{SERVICE}'s server answered in a form Wyshbone does not understand (please report it)",
        )
    remark = payload.get("remark")
    if isinstance(remark, str) and "runtime error" in remark:
        # "runtime error: Query timed out ..." / "... out of memory ...": the server was busy; results are partial.
        raise RetryableToolError(
            f"{OVERPASS}: {' '.join(remark.split())[:200]}",
            explanation=f"{SERVICE}'s server ran out of time for this search (it is busy)",
        )
    return [element for element in payload["elements"] if isinstance(element, Mapping)]
