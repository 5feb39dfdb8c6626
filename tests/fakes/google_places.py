"""A fake Google Places API (New) on 127.0.0.1: ``POST /v1/places:searchText`` with the real field mask rules,
paging, error envelopes and status codes, driven by scripted faults and recording every request.

"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import RecordedRequest, ServedFake, busiest

SEARCH_TEXT_PATH = "/v1/places:searchText"
PROJECT = "123456789012"


class Fault(StrEnum):
    """What the fake answers instead of a page, once per scripted request."""

    QUOTA_PER_MINUTE = "quota_per_minute"
    """429 RESOURCE_EXHAUSTED, ErrorInfo quota_limit SearchTextRequestsPerMinutePerProject."""
    QUOTA_PER_DAY = "quota_per_day"
    """429 RESOURCE_EXHAUSTED, ErrorInfo quota_limit SearchTextRequestsPerDayPerProject."""
    PERMISSION_DENIED = "permission_denied"
    """403 PERMISSION_DENIED: Places API (New) not enabled for the key's project."""
    INTERNAL = "internal"
    """500 INTERNAL."""
    UNAVAILABLE = "unavailable"
    """503 UNAVAILABLE."""
    BAD_GATEWAY_HTML = "bad_gateway_html"
    """502 with Google's front end's HTML page, not the JSON envelope."""
    MALFORMED = "malformed"
    """200 with a cut-off JSON body."""
    WRONG_SHAPE = "wrong_shape"
    """200 with JSON that is not the API's shape (``places`` an object): an API change, or a proxy's own JSON."""
    KEY_IN_MESSAGE = "key_in_message"
    """400 API_KEY_INVALID whose message quotes the key back (scrubbing must catch it)."""


def sample_places(
    count: int, *, city: str = "Manchester", lat: float = 53.4808, lon: float = -2.2426
) -> list[dict[str, Any]]:
    """``count`` coffee shops as the API returns them with ``*``: some without website or phone, every
    tenth permanently closed, every seventh without a rating (Google leaves out empty fields)."""
    places: list[dict[str, Any]] = []
    for i in range(1, count + 1):
        place: dict[str, Any] = {
            "name": f"places/ChIJfake{i:04d}",
            "id": f"ChIJfake{i:04d}",
            "displayName": {"text": f"Bean Counter {i}", "languageCode": "en"},
            "formattedAddress": f"{i} Market St, {city} M1 {i % 9 + 1}AA, UK",
            "location": {"latitude": lat + i * 0.001, "longitude": lon - i * 0.001},
            "types": ["coffee_shop", "cafe", "food", "point_of_interest", "store", "establishment"],
            "businessStatus": "CLOSED_PERMANENTLY" if i % 10 == 0 else "OPERATIONAL",
        }
        if i % 3 != 0:
            place["websiteUri"] = f"https://bean-counter-{i}.example/"
        if i % 4 != 0:
            place["nationalPhoneNumber"] = f"0161 496 {i:04d}"
        if i % 7 != 0:
            place["rating"] = 4.0 + (i % 10) / 10
            place["userRatingCount"] = 10 * i
        places.append(place)
    return places


def restaurant_places(*, lat: float = 53.4808, lon: float = -2.2426) -> list[dict[str, Any]]:
    """Places around Manchester of several cuisines and kinds, as the API returns them with ``*``: an Italian
    place typed so, a pizza place, one Italian only by its name, a tandoori house, one 14.5 km out, a chain with
    a closed branch, and a gym."""

    def place(n: int, name: str, types: list[str], dlat: float, **extra: Any) -> dict[str, Any]:
        return {
            "name": f"places/ChIJrest{n:04d}",
            "id": f"ChIJrest{n:04d}",
            "displayName": {"text": name, "languageCode": "en"},
            "formattedAddress": f"{n} Deansgate, Manchester M3 {n}AA, UK",
            "location": {"latitude": lat + dlat, "longitude": lon},
            "types": [*types, "point_of_interest", "establishment"],
            "businessStatus": "OPERATIONAL",
            "primaryType": types[0],
            **extra,
        }

    return [
        place(
            1,
            "Da Mario",
            ["italian_restaurant", "restaurant", "food"],
            0.002,
            rating=4.6,
            userRatingCount=812,
        ),
        place(2, "Slice", ["pizza_restaurant", "restaurant", "food"], 0.004),
        place(3, "Trattoria Verde", ["restaurant", "food"], 0.006),
        place(4, "Haweli Tandoori", ["indian_restaurant", "restaurant", "food"], 0.008),
        place(5, "Luigi's Pizzeria", ["restaurant", "food"], 0.13),
        place(
            6,
            "Pizza Express",
            ["pizza_restaurant", "restaurant", "food"],
            0.01,
            businessStatus="CLOSED_PERMANENTLY",
        ),
        # A gym is typed as Google types one: no "food" (only eating and drinking places carry it).
        place(7, "The Foundry", ["gym", "health", "sports_activity_location"], 0.012),
    ]


@dataclass
class FakeGooglePlaces(ServedFake):
    """The fake service's state: its key, its places, scripted faults, and what it received."""

    api_key: str = field(default_factory=lambda: "AIzaFAKE" + secrets.token_urlsafe(24))
    places: list[dict[str, Any]] = field(default_factory=lambda: sample_places(45))
    faults: deque[Fault] = field(default_factory=deque)
    """Consumed one per request, before any other check."""
    delay: float = 0.0
    """Seconds to wait before answering (slow responses)."""
    retry_after: str | None = None
    """``Retry-After`` sent with 429/503 answers (Google itself rarely sends one)."""
    quota: int | None = None
    """Requests admitted per rolling ``quota_seconds`` (the project's per-minute quota); one more is answered
    429 RESOURCE_EXHAUSTED (``SearchTextRequestsPerMinutePerProject``), as Google does. None: no quota."""
    quota_seconds: float = 60.0
    """The quota's window: a minute, as Google's; shorter in tests, so a quota's worth takes seconds."""
    admitted: list[float] = field(default_factory=list)
    """When each request the quota let through arrived (``time.monotonic()``)."""
    refused: int = 0
    """Requests answered 429 because the quota was used up."""
    requests: list[RecordedRequest] = field(default_factory=list)
    base_url: str = ""
    """Set while ``running()``: what WYSHBONE_GOOGLE_PLACES_BASE_URL would be."""
    _tokens: dict[str, tuple[str, int]] = field(default_factory=dict)

    def fail_next(self, fault: Fault, times: int = 1) -> None:
        self.faults.extend([fault] * times)

    def max_in_window(self, seconds: float) -> int:
        """The most requests that arrived within any ``seconds``-long stretch."""
        return busiest([r.at for r in self.requests], seconds)

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route(SEARCH_TEXT_PATH, self._search_text, methods=["POST"])])

    async def _search_text(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.requests.append(RecordedRequest.of(request, body))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.faults:
            return self._fault(self.faults.popleft())
        return self._answer(request, body)

    def _answer(self, request: Request, body: Any) -> Response:
        key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
        if key != self.api_key:
            return _error(
                400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", "API_KEY_INVALID"
            )
        mask = request.headers.get("x-goog-fieldmask") or request.query_params.get("fields")
        if not mask:
            return _error(400, "INVALID_ARGUMENT", _NO_MASK_MESSAGE)
        if not self._within_quota():
            self.refused += 1
            headers = {"Retry-After": self.retry_after} if self.retry_after else None
            return _quota_error("minute", "min", str(self.quota), headers)
        if not isinstance(body, dict) or not str(body.get("textQuery") or "").strip():
            return _error(400, "INVALID_ARGUMENT", "Empty text_query.")
        page_size = int(body.get("pageSize") or 20)
        if page_size < 0:
            return _error(400, "INVALID_ARGUMENT", "page_size must be non-negative.")
        radius = ((body.get("locationBias") or {}).get("circle") or {}).get("radius", 0)
        if not 0 <= float(radius) <= 50_000:
            return _error(
                400, "INVALID_ARGUMENT", "Invalid radius. Must be between 0.0 and 50000.0, inclusive."
            )
        query = str(body["textQuery"])
        offset = 0
        if body.get("pageToken"):
            known = self._tokens.get(str(body["pageToken"]))
            if known is None or known[0] != query:
                return _error(
                    400,
                    "INVALID_ARGUMENT",
                    "Invalid page token, or the request does not match the one that produced it.",
                )
            offset = known[1]
        # The API returns at most 60 places for a query, 20 a page (larger sizes are treated as 20).
        matches = self.places[:60]
        page = matches[offset : offset + min(page_size or 20, 20)]
        fields = {part.strip() for part in mask.split(",")}
        answer: dict[str, Any] = {}
        if page:
            answer["places"] = [_masked(place, fields) for place in page]
        end = offset + len(page)
        if end < len(matches) and ("nextPageToken" in fields or "*" in fields):
            token = secrets.token_urlsafe(32)
            self._tokens[token] = (query, end)
            answer["nextPageToken"] = token
        return JSONResponse(answer, media_type="application/json; charset=UTF-8")

    def _within_quota(self) -> bool:
        """Counts this request against the rolling window's quota when there is room; False when there is none."""
        if self.quota is None:
            return True
        now = time.monotonic()
        if sum(1 for at in self.admitted if now - at < self.quota_seconds) >= self.quota:
            return False
        self.admitted.append(now)
        return True

    def _fault(self, fault: Fault) -> Response:
        headers = {"Retry-After": self.retry_after} if self.retry_after else None
        if fault is Fault.QUOTA_PER_MINUTE:
            return _quota_error("minute", "min", "600", headers)
        if fault is Fault.QUOTA_PER_DAY:
            return _quota_error("day", "d", "1000", headers)
        if fault is Fault.PERMISSION_DENIED:
            return _error(
                403,
                "PERMISSION_DENIED",
                f"Places API (New) has not been used in project {PROJECT} before or it is disabled. Enable it by "
                f"visiting https://console.developers.google.com/apis/api/places.googleapis.com/overview?project={PROJECT} "
                "then retry.",
                "SERVICE_DISABLED",
                {"service": "places.googleapis.com", "consumer": f"projects/{PROJECT}"},
            )
        if fault is Fault.INTERNAL:
            return _error(500, "INTERNAL", "Internal error encountered.")
        if fault is Fault.UNAVAILABLE:
            return _error(503, "UNAVAILABLE", "The service is currently unavailable.", headers=headers)
        if fault is Fault.BAD_GATEWAY_HTML:
            return Response(_BAD_GATEWAY_PAGE, status_code=502, media_type="text/html; charset=UTF-8")
        if fault is Fault.MALFORMED:
            return Response('{"places": [{"id": "ChIJcut', media_type="application/json; charset=UTF-8")
        if fault is Fault.WRONG_SHAPE:
            return JSONResponse({"places": {"id": "ChIJodd"}}, media_type="application/json; charset=UTF-8")
        return _error(
            400,
            "INVALID_ARGUMENT",
            f"API key not valid: {self.api_key}. Please pass a valid API key.",
            "API_KEY_INVALID",
        )


def _masked(place: Mapping[str, Any], fields: set[str]) -> dict[str, Any]:
    if "*" in fields or "places" in fields:
        return dict(place)
    wanted = {f.removeprefix("places.").split(".", 1)[0] for f in fields if f.startswith("places.")}
    return {key: value for key, value in place.items() if key in wanted}


def _error(
    code: int,
    status: str,
    message: str,
    reason: str | None = None,
    metadata: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    more_details: tuple[dict[str, Any], ...] = (),
) -> JSONResponse:
    """Google's envelope; the ErrorInfo detail comes first, as Google sends it."""
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if reason is not None:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": dict(metadata or {"service": "places.googleapis.com"}),
            },
            *more_details,
        ]
    return JSONResponse(
        {"error": error}, status_code=code, headers=headers, media_type="application/json; charset=UTF-8"
    )


def _quota_error(window: str, unit: str, value: str, headers: Mapping[str, str] | None) -> JSONResponse:
    """What Google sends when a quota runs out: ErrorInfo names the limit, a Help detail links to raising it."""
    limit = f"SearchTextRequestsPer{window.capitalize()}PerProject"
    return _error(
        429,
        "RESOURCE_EXHAUSTED",
        f"Quota exceeded for quota metric 'SearchText requests' and limit 'SearchText requests per {window}' of "
        f"service 'places.googleapis.com' for consumer 'project_number:{PROJECT}'.",
        "RATE_LIMIT_EXCEEDED",
        {
            "quota_location": "global",
            "quota_metric": "places.googleapis.com/search_text_requests",
            "consumer": f"projects/{PROJECT}",
            "service": "places.googleapis.com",
            "quota_limit_value": value,
            "quota_limit": limit,
            "quota_unit": f"1/{unit}/{{project}}",
        },
        headers,
        (
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [
                    {
                        "description": "Request a higher quota limit.",
                        "url": "https://cloud.google.com/docs/quotas/help/request_increase",
                    }
                ],
            },
        ),
    )


_NO_MASK_MESSAGE = (
    "FieldMask is a required parameter. See https://cloud.google.com/apis/docs/system-parameters on how to "
    "provide it. As an example, you can set the header 'X-Goog-FieldMask' to value 'places.displayName', "
    "'places.id' to ask for the display name and the place ID of a place. You can also set the value to '*' "
    "in manual testing to get all the available response fields."
)

_BAD_GATEWAY_PAGE = (
    "<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Error 502 (Server Error)!!1</title>"
    "<p><b>502.</b> <ins>That’s an error.</ins><p>The server encountered a temporary error and could not "
    "complete your request.<p>Please try again in 30 seconds. <ins>That’s all we know.</ins>"
)
