"""Google Places API (New) Text Search as it is written and read, pure: the searchText body, a place as a lead,
and Google's error envelope (``{"error": {code, message, status, details[ErrorInfo]}}``), read here once, with
what each error means for a retry."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from wyshbone.domain.gazetteer import distance_km
from wyshbone.domain.models import Lead, RegionMatch
from wyshbone.errors import PermanentToolError, RetryableToolError, ToolError
from wyshbone.providers.http import StatusMeaning

__all__ = [
    "GOOGLE_PLACES",
    "MAX_RESULTS",
    "PAGE_SIZE",
    "SEARCH_TEXT_PATH",
    "SERVICE",
    "STATUS_MEANINGS",
    "GoogleApiError",
    "lead_from_place",
    "parse_error",
    "places_of",
    "quota_window",
    "search_body",
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
STATUS_MEANINGS = {
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
        fallback = STATUS_MEANINGS.get(status) or StatusMeaning(False, "", f"{SERVICE} refused the search")
        explanation, setting = fallback.explanation, fallback.setting
    return PermanentToolError(f"{GOOGLE_PLACES}: {what}: {said}", explanation=explanation, setting=setting)


def _scrub(text: str, secret: str) -> str:
    text = " ".join(text.split())[:300]
    return text.replace(secret, "[key]") if secret else text


def places_of(page: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The ``places[]`` of a searchText answer (an answer without any has none)."""
    places = page.get("places", [])
    if not isinstance(places, list):
        raise PermanentToolError(
            f"{GOOGLE_PLACES}: unexpected response: 'places' is not a list",
            explanation=f"{SERVICE} answered in a form Wyshbone does not understand (please report it)",
        )
    return [place for place in places if isinstance(place, Mapping)]
