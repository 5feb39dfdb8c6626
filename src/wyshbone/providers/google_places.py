"""Google Places API (New) Text Search: persona + qualifiers + region → leads, following ``nextPageToken`` to the
60 cap; each lead's ``match`` read from its ``types`` (``italian_restaurant``, ``vegan_restaurant``) and name.

The field mask decides the price tier, so the mask and the price the planner shows live side by side here;
Google's error envelope (``{"error": {code, message, status, details[ErrorInfo]}}``) is read here, once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from wyshbone.config import Settings
from wyshbone.domain.gazetteer import distance_km
from wyshbone.domain.matching import Wanted, Where, circle_area, match_typed, wanted
from wyshbone.domain.models import Lead, RegionMatch
from wyshbone.domain.personas import categories_for, persona_key, singularize
from wyshbone.domain.planner import ProviderInfo
from wyshbone.errors import PermanentToolError, RetryableToolError, ToolError
from wyshbone.providers.http import StatusMeaning, raise_for_status, retry_after_seconds, transport_error

__all__ = [
    "FIELD_MASK",
    "GOOGLE_PLACES",
    "MAX_RESULTS",
    "PAGE_SIZE",
    "SEARCH_TEXT_PATH",
    "GoogleApiError",
    "google_places_info",
    "kind_types",
    "lead_from_place",
    "parse_error",
    "quota_window",
    "search_body",
    "search_places",
    "sku_for_mask",
    "tool_error",
]

GOOGLE_PLACES = "google_places"
SERVICE = "Google Places"
"""The name a person knows it by, in messages."""
KEY_SETTING = "WYSHBONE_GOOGLE_PLACES_API_KEY"
SEARCH_TEXT_PATH = "/v1/places:searchText"
PAGE_SIZE = 20
"""Text Search returns at most 20 places per page."""
MAX_RESULTS = 60
"""…and at most 60 places per query, over three pages."""
MAX_BIAS_RADIUS_M = 50_000.0
"""``locationBias.circle.radius`` must lie in [0, 50,000] metres."""
DEFAULT_BIAS_RADIUS_KM = 10.0

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


# --- requests and places (pure) ---------------------------------------------------------------------------


def search_body(
    *,
    persona: str,
    region: RegionMatch,
    page_size: int,
    page_token: str | None,
    qualifiers: Sequence[str] = (),
) -> dict[str, Any]:
    """The searchText body; a follow-up page repeats everything but ``pageToken``/``pageSize``, as Google asks.

    Qualifiers go into ``textQuery`` ("Italian restaurant in Birmingham"): ``includedType`` takes one type and
    would drop the places of its siblings (an Italian place typed ``pizza_restaurant``, a vegan ``cafe``), so
    the types are checked on each place instead (``match``).
    """
    words = " ".join([*qualifiers, persona]).strip()
    body: dict[str, Any] = {
        "textQuery": f"{words} in {region.name}",
        "pageSize": max(1, min(page_size, PAGE_SIZE)),
    }
    if len(region.country) == 2:
        body["regionCode"] = region.country.upper()
    if region.lat is not None and region.lon is not None:
        radius_m = (region.radius_km or DEFAULT_BIAS_RADIUS_KM) * 1000.0
        body["locationBias"] = {
            "circle": {
                "center": {"latitude": region.lat, "longitude": region.lon},
                "radius": min(max(radius_m, 0.0), MAX_BIAS_RADIUS_M),
            }
        }
    if page_token:
        body["pageToken"] = page_token
    return body


_UK_POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})\b")


def _uk_postcode(address: str | None) -> str | None:
    """The UK postcode inside a formatted address ("…, Manchester M4 5BD, UK" → "M4 5BD"), so leads from
    Google and from other sources can be recognised as the same business."""
    found = _UK_POSTCODE.findall(address or "")
    return f"{found[-1][0]} {found[-1][1]}" if found else None


def lead_from_place(place: Mapping[str, Any], region: RegionMatch | None = None) -> Lead | None:
    """One ``places[]`` entry as a lead; None for a permanently closed place or one without id or name.

    Google leaves out every field that is empty, so nothing here may be assumed present.
    """
    place_id = place.get("id")
    display = place.get("displayName")
    name = display.get("text") if isinstance(display, Mapping) else None
    if not isinstance(place_id, str) or not place_id or not isinstance(name, str) or not name.strip():
        return None
    if place.get("businessStatus") == "CLOSED_PERMANENTLY":
        return None
    location = place.get("location")
    lat = _number(location.get("latitude")) if isinstance(location, Mapping) else None
    lon = _number(location.get("longitude")) if isinstance(location, Mapping) else None
    types = place.get("types")
    fields: dict[str, Any] = {
        "name": name.strip(),
        "address": _text(place.get("formattedAddress")),
        "lat": lat if lon is not None else None,
        "lon": lon if lat is not None else None,
        "website": _text(place.get("websiteUri")),
        "phone": _text(place.get("nationalPhoneNumber")),
        "category": _text(types[0]) if isinstance(types, list) and types else None,
        "postcode": _uk_postcode(_text(place.get("formattedAddress"))),
    }
    filled = {key: value for key, value in fields.items() if value is not None}
    return Lead(
        source=GOOGLE_PLACES,
        source_id=f"{GOOGLE_PLACES}:{place_id}",
        distance_km=_distance(region, lat, lon),
        provenance=dict.fromkeys(filled, GOOGLE_PLACES),
        **filled,
    )


def _distance(region: RegionMatch | None, lat: float | None, lon: float | None) -> float | None:
    if region is None or region.lat is None or region.lon is None or lat is None or lon is None:
        return None
    return round(distance_km(region.lat, region.lon, lat, lon), 3)


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# --- errors (pure) ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GoogleApiError:
    """Google's error envelope, read."""

    code: int
    status: str
    """The canonical code name: ``RESOURCE_EXHAUSTED``, ``PERMISSION_DENIED``, ``INVALID_ARGUMENT``..."""
    message: str
    reason: str | None = None
    """``ErrorInfo.reason``: ``RATE_LIMIT_EXCEEDED``, ``API_KEY_INVALID``, ``SERVICE_DISABLED``..."""
    metadata: Mapping[str, str] = field(default_factory=dict)
    """``ErrorInfo.metadata``: for quotas ``quota_limit`` ("…PerMinutePerProject"), ``quota_limit_value``..."""


_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


def parse_error(body: object) -> GoogleApiError | None:
    """The envelope ``{"error": {code, message, status, details: [ErrorInfo, ...]}}``; None if it is not one."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return None
    reason, metadata = None, {}
    details = error.get("details")
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, Mapping) and detail.get("@type") == _ERROR_INFO:
            reason = detail.get("reason") if isinstance(detail.get("reason"), str) else None
            raw = detail.get("metadata")
            metadata = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
            break
    code = error.get("code")
    return GoogleApiError(
        code=code if isinstance(code, int) else 0,
        status=str(error.get("status") or ""),
        message=str(error.get("message") or ""),
        reason=reason,
        metadata=metadata,
    )


def quota_window(error: GoogleApiError) -> Literal["minute", "day"] | None:
    """Which quota a ``RESOURCE_EXHAUSTED`` hit: ``quota_limit`` names it ("SearchTextRequestsPerDayPerProject").

    Falls back to the message ("… limit 'Requests per day' …") when the ErrorInfo detail is absent.
    """
    limit = (error.metadata.get("quota_limit") or "").lower()
    unit = (error.metadata.get("quota_unit") or "").lower()  # "1/d/{project}", "1/min/{project}"
    message = error.message.lower()
    if "perday" in limit or "/d/" in unit or "per day" in message:
        return "day"
    if "perminute" in limit or "persecond" in limit or "/min/" in unit or "per minute" in message:
        return "minute"
    return None


# Meanings for bodies that are not Google's envelope (a proxy's HTML page, an empty 5xx).
_MEANINGS = {
    400: StatusMeaning(
        False,
        "HTTP 400 INVALID_ARGUMENT: the request was refused as invalid",
        f"{SERVICE} refused Wyshbone's search as invalid (a fault in Wyshbone: please report it)",
    ),
    403: StatusMeaning(
        False,
        "HTTP 403 PERMISSION_DENIED: the key may not call Places API (New)",
        f"{SERVICE} does not allow this API key to search",
        KEY_SETTING,
    ),
    404: StatusMeaning(
        False,
        "HTTP 404: no such endpoint (check WYSHBONE_GOOGLE_PLACES_BASE_URL)",
        f"{SERVICE} is not at the address Wyshbone is set to use",
        "WYSHBONE_GOOGLE_PLACES_BASE_URL",
    ),
}

# ErrorInfo reasons that say more than the status does, in plain words (with the setting to check).
_REASONS: Mapping[str, tuple[str, str | None]] = {
    "API_KEY_INVALID": (f"{SERVICE} refused the API key: it is not a valid key", KEY_SETTING),
    "API_KEY_EXPIRED": (f"{SERVICE} refused the API key: it has expired", KEY_SETTING),
    "SERVICE_DISABLED": (
        "Places API (New) is not switched on for the API key's Google Cloud project "
        "(switch it on in the Google Cloud console)",
        None,
    ),
    "BILLING_DISABLED": ("billing is not switched on for the API key's Google Cloud project", None),
}


def tool_error(
    status: int, error: GoogleApiError, *, retry_after: float | None, secret: str = ""
) -> ToolError:
    """What an unsuccessful searchText response means for a retry; every message is scrubbed of ``secret``."""
    what = f"HTTP {status} {error.status or 'error'}" + (f" ({error.reason})" if error.reason else "")
    said = _scrub(error.message, secret)
    if status == 429 or error.status == "RESOURCE_EXHAUSTED":
        window = quota_window(error)
        limit = _scrub(error.metadata.get("quota_limit", ""), secret)
        named = f" {limit}" if limit else ""
        if window == "day":
            # The daily quota renews at midnight Pacific time: no retry within a run can pass.
            return PermanentToolError(
                f"{GOOGLE_PLACES}: {what}: daily quota{named} used up: {said}",
                explanation=f"{SERVICE}' daily allowance of searches is used up; it renews at midnight "
                "Pacific time, or can be raised in the Google Cloud console",
            )
        per = "per-minute " if window == "minute" else ""
        return RetryableToolError(
            f"{GOOGLE_PLACES}: {what}: rate limited{named}: {said}",
            retry_after=retry_after,
            explanation=f"{SERVICE}' {per}limit on searches was reached",
        )
    if status >= 500:
        return RetryableToolError(
            f"{GOOGLE_PLACES}: {what}: {said}",
            retry_after=retry_after,
            explanation=f"{SERVICE} had a problem on its side",
        )
    explanation, setting = _REASONS.get(error.reason or "", (None, None))
    if explanation is None:
        fallback = _MEANINGS.get(status) or StatusMeaning(False, "", f"{SERVICE} refused the search")
        explanation, setting = fallback.explanation, fallback.setting
    return PermanentToolError(f"{GOOGLE_PLACES}: {what}: {said}", explanation=explanation, setting=setting)


def _scrub(text: str, secret: str) -> str:
    text = " ".join(text.split())[:300]
    return text.replace(secret, "[key]") if secret else text


# --- I/O --------------------------------------------------------------------------------------------------


async def search_places(
    *,
    client: httpx.AsyncClient,
    api_key: str,
    base_url: str,
    persona: str,
    region: RegionMatch,
    limit: int,
    qualifiers: Sequence[str] = (),
    categories: Sequence[str] | None = None,
) -> list[Lead]:
    """Text Search for "<qualifiers> <persona> in <region>", biased to the region's circle, up to
    ``min(limit, 60)`` leads, inside the place first; each with its ``match`` (a place whose types and name do
    not bear out the kind and every qualifier, or that lies beyond nearby, is left out)."""
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
        page = await _post(
            client=client, api_key=api_key, url=base_url.rstrip("/") + SEARCH_TEXT_PATH, body=body
        )
        for place in _places(page):
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
        raise_for_status(GOOGLE_PLACES, response, _MEANINGS, service=SERVICE)
    if not isinstance(payload, dict):
        # A cut-off or garbled body from a healthy service is usually a proxy or network hiccup.
        raise RetryableToolError(
            f"{GOOGLE_PLACES}: HTTP {response.status_code} with a body that is not JSON",
            explanation=f"{SERVICE} sent an answer that could not be read (cut off or garbled)",
        )
    return payload


def _places(page: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    places = page.get("places", [])
    if not isinstance(places, list):
        raise PermanentToolError(
            f"{GOOGLE_PLACES}: unexpected response: 'places' is not a list",
            explanation=f"{SERVICE} answered in a form Wyshbone does not understand (please report it)",
        )
    return [place for place in places if isinstance(place, Mapping)]
