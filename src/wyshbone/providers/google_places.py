"""Google Places API (New) Text Search: persona + qualifiers + region → leads, following ``nextPageToken`` to the
60 cap; each lead's ``match`` read from its ``types`` (``italian_restaurant``, ``vegan_restaurant``) and name.

The field mask decides the price tier, so the mask and the price the planner shows live side by side here; the
request body, the places and Google's error envelope are read in ``_google_places_api``, pure.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from pyrate_limiter import Rate

from wyshbone.config import Settings
from wyshbone.domain.areas import Where, circle_area
from wyshbone.domain.catalog import ProviderInfo
from wyshbone.domain.matching import Wanted, match_typed, wanted
from wyshbone.domain.models import Lead, RegionMatch
from wyshbone.domain.personas import categories_for, persona_key, singularize
from wyshbone.errors import RetryableToolError
from wyshbone.providers._google_places_api import (
    GOOGLE_PLACES,
    MAX_RESULTS,
    PAGE_SIZE,
    SEARCH_TEXT_PATH,
    SERVICE,
    STATUS_MEANINGS,
    GoogleApiError,
    lead_from_place,
    parse_error,
    places_of,
    quota_window,
    search_body,
    tool_error,
)
from wyshbone.providers.http import raise_for_status, retry_after_seconds, transport_error
from wyshbone.providers.limits import Limiter, limiter_for, smoothed

# The request and answer names are re-exported: callers import them from here.
__all__ = [
    "FIELD_MASK",
    "GOOGLE_PLACES",
    "MAX_RESULTS",
    "PAGE_SIZE",
    "SEARCH_TEXT_PATH",
    "SERVICE",
    "GoogleApiError",
    "google_places_info",
    "kind_types",
    "lead_from_place",
    "parse_error",
    "places_limiter",
    "places_rates",
    "quota_window",
    "search_body",
    "search_places",
    "sku_for_mask",
    "tool_error",
]

# Every field is billed at the tier of the most expensive field in the mask (Text Search SKUs, list prices
# per 1,000 requests): Essentials IDs Only (places.id, nextPageToken: no charge), Pro (displayName,
# formattedAddress, location, types, businessStatus: $32), Enterprise (websiteUri, nationalPhoneNumber,
# rating, userRatingCount: $35), Enterprise + Atmosphere (reviews, serves*: $40). Website and phone are
# what a lead needs, so this mask is Text Search Enterprise: $35 / 1,000 requests = $0.035 a request.
FIELD_MASK = ",".join(
    (
        "places.id",
        "places.displayName",
        "places.formattedAddress",
        "places.location",
        "places.types",
        "places.websiteUri",
        "places.nationalPhoneNumber",
        "places.rating",
        "places.userRatingCount",
        "places.businessStatus",
        "nextPageToken",
    )
)


@dataclass(frozen=True, slots=True)
class _Sku:
    name: str
    """Google's SKU name."""
    usd_per_request: float
    """List price per request (the per-1,000 price / 1,000)."""
    fields: frozenset[str] = field(default_factory=frozenset)
    """Fields (without the ``places.`` prefix) that put a request in this SKU."""


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Cheapest first: a mask costs what its most expensive field's SKU costs.
_SKUS = (
    _Sku("Text Search Essentials (IDs Only)", 0.0, _names("id name attributions nextPageToken")),
    _Sku(
        "Text Search Pro",
        0.032,
        _names(
            """accessibilityOptions addressComponents adrFormatAddress businessStatus containingPlaces
            displayName formattedAddress googleMapsLinks googleMapsUri iconBackgroundColor iconMaskBaseUri
            location photos plusCode postalAddress primaryType primaryTypeDisplayName pureServiceAreaBusiness
            shortFormattedAddress subDestinations types utcOffsetMinutes viewport"""
        ),
    ),
    _Sku(
        "Text Search Enterprise",
        0.035,
        _names(
            """currentOpeningHours currentSecondaryOpeningHours internationalPhoneNumber nationalPhoneNumber
            priceLevel priceRange rating regularOpeningHours regularSecondaryOpeningHours userRatingCount
            websiteUri"""
        ),
    ),
)
_ATMOSPHERE = _Sku("Text Search Enterprise + Atmosphere", 0.040)
"""Any field not listed above (reviews, servesCoffee, outdoorSeating...) is in the Atmosphere tier."""


def sku_for_mask(mask: str) -> tuple[str, float]:
    """The SKU a field mask bills at and its price per request: ``sku_for_mask(FIELD_MASK)`` → Enterprise."""
    rank = 0
    for path in filter(None, (part.strip() for part in mask.split(","))):
        name = path.removeprefix("places.").split(".", 1)[0]
        found = next((i for i, sku in enumerate(_SKUS) if name in sku.fields), None)
        if found is None:
            return _ATMOSPHERE.name, _ATMOSPHERE.usd_per_request
        rank = max(rank, found)
    return _SKUS[rank].name, _SKUS[rank].usd_per_request


def google_places_info(settings: Settings) -> ProviderInfo:
    """What the planner shows: configured iff a key is set, priced by the mask ``search_places`` sends."""
    configured = settings.google_places_api_key is not None and bool(
        settings.google_places_api_key.get_secret_value()
    )
    return ProviderInfo(
        GOOGLE_PLACES,
        configured=configured,
        reason=None if configured else "set WYSHBONE_GOOGLE_PLACES_API_KEY",
        unit_price_usd=sku_for_mask(FIELD_MASK)[1],
        page_size=PAGE_SIZE,
        max_results=MAX_RESULTS,
        label=SERVICE,
    )


# --- the per-minute quota ------------------------------------------------------------------------------


def places_rates(per_minute: int, *, minute: float = 60.0) -> list[Rate]:
    """Google's per-minute quota of Text Search requests as the rates kept before each request (``minute`` is
    shorter in tests, so a quota's worth of requests takes seconds)."""
    return smoothed(per_minute, minute)


def places_limiter(per_minute: int, postgres_url: str | None = None) -> Limiter:
    """The limiter every Text Search request of this process waits on: one per process, kept in a Postgres table
    shared by every process on that database when given its URL (queue mode), so together they keep the
    project's quota and Google answers no 429."""
    return _places_limiter(per_minute, postgres_url)  # one cache key whether the URL is passed or left out


@functools.cache
def _places_limiter(per_minute: int, postgres_url: str | None) -> Limiter:
    return limiter_for(GOOGLE_PLACES, places_rates(per_minute), postgres_url=postgres_url)


# --- kinds: which place types mark the asked kind (pure) ---------------------------------------------------

_CATEGORY_TYPES: Mapping[str, tuple[str, ...]] = {
    "cafe": ("cafe", "coffee_shop", "tea_house", "cat_cafe", "dog_cafe"),
    "pub_bar": ("pub", "bar", "wine_bar", "bar_and_grill", "night_club", "brewpub"),
    "restaurant": ("restaurant", "steak_house", "diner", "bistro", "bar_and_grill", "food_court"),
    "takeaway": ("meal_takeaway", "fast_food_restaurant", "sandwich_shop", "meal_delivery"),
    "hotel": (
        "hotel",
        "lodging",
        "bed_and_breakfast",
        "guest_house",
        "motel",
        "hostel",
        "inn",
        "resort_hotel",
    ),
    "brewery": ("brewery", "brewpub"),
    "distillery": ("distillery",),
    "winery_cidery": ("winery", "vineyard"),
    "off_licence": ("liquor_store",),
    "shop": ("store", "grocery_store", "convenience_store", "butcher_shop", "deli", "bakery", "food_store"),
    "supermarket": ("supermarket", "grocery_store", "hypermarket"),
    "dentist": ("dentist", "dental_clinic"),
    "other_catering": ("catering_service",),
    "institution": ("school", "primary_school", "secondary_school", "university", "hospital"),
}
"""Directory categories → the Places (New) types that mark them; any ``*_restaurant`` type is a restaurant."""

_PERSONA_TYPES: Mapping[str, tuple[str, ...]] = {
    "coffee shop": ("coffee_shop", "cafe"),
    "tea room": ("tea_house",),
    "wine bar": ("wine_bar",),
    "nightclub": ("night_club",),
    "pizzeria": ("pizza_restaurant",),
    "steakhouse": ("steak_house",),
    "curry house": ("indian_restaurant",),
    "sandwich shop": ("sandwich_shop",),
    "bakery": ("bakery",),
    "butcher": ("butcher_shop",),
    "deli": ("deli",),
    "ice cream parlour": ("ice_cream_shop",),
    "gym": ("gym", "fitness_center"),
    "estate agent": ("real_estate_agency",),
    "nail salon": ("nail_salon",),
    "hairdresser": ("hair_salon", "hair_care", "beauty_salon"),
    "barber": ("barber_shop", "hair_care"),
    "florist": ("florist",),
    "pharmacy": ("pharmacy", "drugstore"),
}
"""Personas the types mark by themselves (not only their category)."""


def kind_types(persona: str, categories: Sequence[str] = ()) -> tuple[frozenset[str], bool]:
    """(the Places types that mark the asked kind, whether they mark the persona itself): "gym" → ({gym,
    fitness_center}, True); "coffee shop" → its own and the café category's types; "pizzeria" (known to the
    directory only by its categories) → restaurant and takeaway types, False. A persona's words that are a type
    ("florist") mark it too."""
    key = persona_key(singularize(persona))
    own = _PERSONA_TYPES.get(key, ())
    words = key.replace(" ", "_")
    if not own and words:
        own = (words,)
    cats = list(categories) or categories_for(persona)
    return frozenset((*own, *(t for c in cats for t in _CATEGORY_TYPES.get(c, ())))), bool(own)


def _marks(types: Sequence[str], marking: frozenset[str], categories: Sequence[str]) -> list[str]:
    restaurants = "restaurant" in categories
    return [t for t in types if t in marking or (restaurants and t.endswith("_restaurant"))]


# --- I/O --------------------------------------------------------------------------------------------------


async def search_places(
    *,
    client: httpx.AsyncClient,
    api_key: str,
    base_url: str,
    persona: str,
    region: RegionMatch,
    limit: int,
    limiter: Limiter,
    qualifiers: Sequence[str] = (),
    categories: Sequence[str] | None = None,
) -> list[Lead]:
    """Text Search for "<qualifiers> <persona> in <region>", biased to the region's circle, up to
    ``min(limit, 60)`` leads, inside the place first; each with its ``match`` (a place whose types and name do
    not bear out the kind and every qualifier, or that lies beyond nearby, is left out). Every request (each
    page) waits on ``limiter`` first (``places_limiter``: the quota, held in total)."""
    cats = categories_for(persona) if categories is None else list(categories)
    want = wanted(persona=persona, categories=cats, qualifiers=qualifiers)
    words = [q.label for q in (*want.qualifiers, *want.unverifiable)]
    most = min(limit, MAX_RESULTS)
    leads: dict[str, Lead] = {}
    token: str | None = None
    # Three pages reach the 60 cap; closed places take slots too, so never more requests than that.
    for _ in range(-(-MAX_RESULTS // PAGE_SIZE)):
        if len(leads) >= most:
            break
        body = search_body(
            persona=persona, region=region, page_size=most - len(leads), page_token=token, qualifiers=words
        )
        await limiter.acquire()
        page = await _post(
            client=client, api_key=api_key, url=base_url.rstrip("/") + SEARCH_TEXT_PATH, body=body
        )
        for place in places_of(page):
            lead = _matched(place, region, want)
            if lead is not None and len(leads) < most:
                leads.setdefault(lead.source_id, lead)
        next_token = page.get("nextPageToken")
        token = next_token if isinstance(next_token, str) and next_token else None
        if token is None:
            break
    return sorted(leads.values(), key=lambda lead: lead.match is None or lead.match.area != "inside")


def _matched(place: Mapping[str, Any], region: RegionMatch, want: Wanted) -> Lead | None:
    """The place as a lead with its match, or None (closed, nameless, or not what was asked)."""
    lead = lead_from_place(place, region)
    if lead is None:
        return None
    raw = place.get("types")
    types = [t for t in raw if isinstance(t, str)] if isinstance(raw, list) else []
    marking, specific = kind_types(want.persona, want.categories)
    found = match_typed(
        want,
        circle_area(region),
        name=lead.name,
        types=types,
        kind_types=_marks(types, marking, want.categories),
        specific=specific,
        where=Where(lat=lead.lat, lon=lead.lon),
    )
    return lead.model_copy(update={"match": found}) if found is not None else None


async def _post(*, client: httpx.AsyncClient, api_key: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
    headers = {"X-Goog-Api-Key": api_key, "X-Goog-FieldMask": FIELD_MASK}
    try:
        response = await client.post(url, json=body, headers=headers)
    except httpx.HTTPError as exc:
        raise transport_error(GOOGLE_PLACES, exc, service=SERVICE) from exc
    try:
        payload: object = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        payload = None
    if not response.is_success:
        error = parse_error(payload)
        if error is not None:
            raise tool_error(
                response.status_code, error, retry_after=retry_after_seconds(response), secret=api_key
            )
        raise_for_status(GOOGLE_PLACES, response, STATUS_MEANINGS, service=SERVICE)
    if not isinstance(payload, dict):
        # A cut-off or garbled body from a healthy service is usually a proxy or network hiccup.
        raise RetryableToolError(
            f"{GOOGLE_PLACES}: HTTP {response.status_code} with a body that is not JSON",
            explanation=f"{SERVICE} sent an answer that could not be read (cut off or garbled)",
        )
    return payload
