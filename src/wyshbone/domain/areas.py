"""Where a business counts as inside the asked place, and how far beyond it as nearby: the ``Area`` of a place,
``Where`` a business is, and the decision between them with its reason ("in Sandwell, 6.1 km from Birmingham
centre"). The directory's SQL measures distance with ``flat_d2``'s expression, so both agree on the edge."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from wyshbone.domain.gazetteer import distance_km
from wyshbone.domain.models import RegionKind, RegionMatch
from wyshbone.domain.names import plain

__all__ = [
    "DEFAULT_RADIUS_KM",
    "KM_PER_DEGREE",
    "NEARBY_FACTOR",
    "Area",
    "Where",
    "area_for",
    "circle_area",
    "flat_d2",
    "match_place",
    "within",
]


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
