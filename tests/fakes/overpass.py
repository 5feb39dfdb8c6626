"""A fake Overpass API on 127.0.0.1: ``/api/interpreter`` runs the subset of Overpass QL Wyshbone sends
(``nwr[tag conditions](around:r,lat,lon)`` unions, ``out center tags N``) over a small set of OSM elements,
with the real JSON envelope, the real HTML error pages and status codes, scripted faults and a request log.

Tag conditions as Overpass reads them: ``["k"]`` (has the key), ``[!"k"]`` (has not), ``["k"="v"]``,
``["k"!="v"]``, ``["k"~"regex"]`` and ``["k"!~"regex"]``, each regex optionally ``,i`` (case-insensitive).
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import RecordedRequest, ServedFake

INTERPRETER_PATH = "/api/interpreter"


class Fault(StrEnum):
    """What the fake answers instead of running the query, once per scripted request."""

    RATE_LIMITED = "rate_limited"
    """429: the dispatcher has no slot for this address."""
    GATEWAY_TIMEOUT = "gateway_timeout"
    """504: the server is too busy."""
    QUERY_TIMED_OUT = "query_timed_out"
    """200 with a ``remark`` saying the query ran out of time (and no elements)."""
    MALFORMED = "malformed"
    """200 with a cut-off JSON body."""


def manchester_elements() -> list[dict[str, Any]]:
    """Elements around Manchester (53.4808, -2.2426) as Overpass returns them with ``out center tags``."""
    return [
        {
            "type": "node",
            "id": 1001,
            "lat": 53.4820,
            "lon": -2.2400,
            "tags": {
                "amenity": "cafe",
                "name": "Ancoats Coffee Co.",
                "addr:housenumber": "9",
                "addr:street": "Royal Mills",
                "addr:city": "Manchester",
                "addr:postcode": "M4 5BD",
                "website": "https://ancoats.coffee/",
                "phone": "+44 161 000 0001",
                "email": "hello@ancoats.coffee",
                "cuisine": "coffee_shop",
            },
        },
        {
            "type": "way",
            "id": 2002,
            "center": {"lat": 53.4790, "lon": -2.2450},
            "nodes": [1, 2, 3],
            "tags": {
                "amenity": "cafe",
                "name": "Federal Café",
                "contact:website": "https://federalcafe.example/",
                "contact:phone": "+44 161 000 0002;+44 161 000 0003",
                "contact:email": "info@federalcafe.example",
            },
        },
        {"type": "node", "id": 1003, "lat": 53.4850, "lon": -2.2300, "tags": {"amenity": "cafe"}},  # no name
        {
            "type": "node",
            "id": 1004,
            "lat": 53.9600,
            "lon": -1.0800,  # York: outside any Manchester circle
            "tags": {"amenity": "cafe", "name": "Bettys"},
        },
        {"type": "way", "id": 2005, "center": {"lat": 53.4830, "lon": -2.2370}, "tags": {"amenity": "pub", "name": "The Marble Arch"}},
        {"type": "node", "id": 1006, "lat": 53.4810, "lon": -2.2430, "tags": {"amenity": "bar", "name": "Cloudwater Tap"}},
        {"type": "relation", "id": 3007, "center": {"lat": 53.4760, "lon": -2.2300}, "tags": {"craft": "brewery", "name": "Track Brewing"}},
        {"type": "node", "id": 1008, "lat": 53.4700, "lon": -2.2500, "tags": {"healthcare": "dentist", "name": "Smile Dental"}},
        {"type": "node", "id": 1009, "lat": 53.4805, "lon": -2.2420, "tags": {"shop": "florist", "name": "Petals & Stems"}},
        {"type": "node", "id": 1010, "lat": 53.4800, "lon": -2.2410, "tags": {"shop": "clothes", "name": "Vintage Threads"}},
    ]  # fmt: skip


def qualified_elements() -> list[dict[str, Any]]:
    """Restaurants, cafés and breweries around Manchester whose tags say more (``cuisine`` lists, ``diet:*``,
    ``brand``, ``craft``), as Overpass returns them with ``out center tags``."""
    return [
        {"type": "node", "id": 4001, "lat": 53.4815, "lon": -2.2410, "tags": {"amenity": "restaurant", "name": "Da Mario", "cuisine": "italian;pizza"}},
        {"type": "node", "id": 4002, "lat": 53.4825, "lon": -2.2400, "tags": {"amenity": "restaurant", "name": "Trattoria Verde"}},
        {"type": "node", "id": 4003, "lat": 53.4830, "lon": -2.2390, "tags": {"amenity": "restaurant", "name": "Haweli", "cuisine": "indian"}},
        {"type": "way", "id": 5004, "center": {"lat": 53.4790, "lon": -2.2450}, "tags": {"amenity": "restaurant", "name": "Pizza Express", "cuisine": "pizza;italian", "brand": "Pizza Express"}},
        {"type": "node", "id": 4005, "lat": 53.4840, "lon": -2.2380, "tags": {"amenity": "cafe", "name": "Green Bean", "diet:vegan": "only"}},
        {"type": "node", "id": 4006, "lat": 53.4845, "lon": -2.2370, "tags": {"amenity": "cafe", "name": "Vegan Vibes"}},
        {"type": "node", "id": 4007, "lat": 53.4850, "lon": -2.2360, "tags": {"amenity": "cafe", "name": "Plain Cafe", "diet:vegan": "no"}},
        {"type": "node", "id": 4008, "lat": 53.4760, "lon": -2.2300, "tags": {"craft": "brewery", "name": "Track", "microbrewery": "yes"}},
    ]  # fmt: skip


@dataclass
class FakeOverpass(ServedFake):
    """The fake service's state: its data, scripted faults, a delay, and what it received."""

    elements: list[dict[str, Any]] = field(default_factory=manchester_elements)
    faults: deque[Fault] = field(default_factory=deque)
    delay: float = 0.0
    retry_after: str | None = None
    """``Retry-After`` sent with 429/504 answers."""
    requests: list[RecordedRequest] = field(default_factory=list)
    max_in_flight: int = 0
    """The most requests it was answering at once (the usage policy allows one per client)."""
    base_url: str = ""
    _in_flight: int = 0

    @property
    def url(self) -> str:
        """The interpreter endpoint: what WYSHBONE_OVERPASS_URL would be."""
        return self.base_url + INTERPRETER_PATH

    def fail_next(self, fault: Fault, times: int = 1) -> None:
        self.faults.extend([fault] * times)

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route(INTERPRETER_PATH, self._interpreter, methods=["GET", "POST"])])

    async def _interpreter(self, request: Request) -> Response:
        # The body is form-encoded (``data=<query>``); parsed by hand so the fake needs no multipart package.
        if request.method == "POST":
            query = "".join(parse_qs((await request.body()).decode("utf-8", "replace")).get("data", []))
        else:
            query = request.query_params.get("data", "")
        self.requests.append(RecordedRequest.of(request, query))
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.faults:
                return self._fault(self.faults.popleft())
            return self._run(query)
        finally:
            self._in_flight -= 1

    def _run(self, query: str) -> Response:
        parsed = _parse(query)
        if parsed is None:
            return _html_error(400, f"line 1: parse error: the fake cannot read this query: {query[:80]!r}")
        statements, limit = parsed
        found = [e for e in self.elements if any(_matches(e, s) for s in statements)]
        # Overpass sorts its output by type, then id; ``out ... N`` cuts it after N elements.
        found.sort(key=lambda e: (("node", "way", "relation").index(e["type"]), e["id"]))
        return JSONResponse(_envelope(found[:limit]))

    def _fault(self, fault: Fault) -> Response:
        headers = {"Retry-After": self.retry_after} if self.retry_after else None
        if fault is Fault.RATE_LIMITED:
            return _html_error(
                429,
                "runtime error: open64: 0 Success /osm3s_osm_base Dispatcher_Client::request_read_and_idx::"
                "rate_limited. Please check /api/status for the quota of your IP address.",
                headers,
            )
        if fault is Fault.GATEWAY_TIMEOUT:
            return _html_error(
                504,
                "runtime error: open64: 0 Success /osm3s_osm_base Dispatcher_Client::request_read_and_idx::"
                "timeout. The server is probably too busy to handle your request.",
                headers,
            )
        if fault is Fault.QUERY_TIMED_OUT:
            body = _envelope([])
            body["remark"] = 'runtime error: Query timed out in "query" at line 3 after 26 seconds.'
            return JSONResponse(body)
        return Response(
            '{"version": 0.6, "elements": [{"type": "node", "id": 1', media_type="application/json"
        )


@dataclass(frozen=True, slots=True)
class _Statement:
    conditions: tuple[tuple[bool, str, str | None, str | None, bool], ...]
    """(negated key, key, operator "=" | "!=" | "~" | "!~" | None, value, case-insensitive)."""
    lat: float
    lon: float
    radius_m: float


_STATEMENT = re.compile(r"nwr((?:\[[^\]]*\])+)\(around:([\d.]+),(-?[\d.]+),(-?[\d.]+)\);")
_CONDITION = re.compile(r'\[(!?)"([^"]+)"(?:(!?=|!?~)"([^"]*)"(,i)?)?\]')
_OUT = re.compile(r"out center tags (\d+);\s*$")


def _parse(query: str) -> tuple[list[_Statement], int] | None:
    if not query.startswith("[out:json]"):
        return None
    out = _OUT.search(query)
    statements = [
        _Statement(
            tuple(
                (bool(no), k, op or None, v, bool(i))
                for no, k, op, v, i in _CONDITION.findall(match.group(1))
            ),
            float(match.group(3)),
            float(match.group(4)),
            float(match.group(2)),
        )
        for match in _STATEMENT.finditer(query)
    ]
    return (statements, int(out.group(1))) if out and statements else None


def _matches(element: Mapping[str, Any], statement: _Statement) -> bool:
    tags = element.get("tags", {})
    for absent, key, op, value, insensitive in statement.conditions:
        actual = tags.get(key)
        if absent:
            if actual is not None:
                return False
            continue
        if op in ("!=", "!~"):
            # Overpass: an element without the key passes a negated condition.
            found = actual is not None and _holds(op[1:], actual, value, insensitive)
            if found:
                return False
            continue
        if actual is None or (op is not None and not _holds(op, actual, value, insensitive)):
            return False
    point = element if element["type"] == "node" else element["center"]
    return _metres(statement.lat, statement.lon, point["lat"], point["lon"]) <= statement.radius_m


def _holds(op: str, actual: str, value: str | None, insensitive: bool) -> bool:
    if op == "=":
        return actual == value
    return re.search(value or "", actual, re.IGNORECASE if insensitive else 0) is not None


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def _envelope(elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "version": 0.6,
        "generator": "Overpass API 0.7.62.1 084b4234",
        "osm3s": {
            "timestamp_osm_base": "2025-01-01T00:00:00Z",
            "copyright": "The data included in this document is from www.openstreetmap.org. "
            "The data is made available under ODbL.",
        },
        "elements": elements,
    }


def _html_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    page = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en"><head>\n'
        '  <meta http-equiv="content-type" content="text/html; charset=utf-8" lang="en"/>\n'
        "  <title>OSM3S Response</title>\n</head>\n<body>\n\n"
        "<p>The data included in this document is from www.openstreetmap.org. "
        "The data is made available under ODbL.</p>\n"
        f'<p><strong style="color:#FF0000">Error</strong>: {message} </p>\n\n</body>\n</html>\n'
    )
    return Response(page, status_code=status, headers=headers, media_type="text/html; charset=utf-8")
