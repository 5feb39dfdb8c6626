"""The gazetteer: GB places (towns, counties, regions, councils, areas, postcode districts) and world cities.

A pure in-memory value with its lookup indexes built once, at construction; ``wyshbone.geodata`` fills it from files.
Besides exact names it answers postcode sectors, districts split into sub-districts ("SW1" is SW1A…SW1Y), postcode
areas ("LS"), and a misspelt name's closest places (through rapidfuzz, imported on first use).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from wyshbone.domain.models import RegionKind, RegionMatch

__all__ = [
    "Gazetteer",
    "Place",
    "WorldCity",
    "distance_km",
    "place_key",
    "town_radius_km",
]

WORLD_CITY_RADIUS_KM = 10.0
POSTCODE_DISTRICT_RADIUS_KM = 2.0

# A village this small loses to a council or county of the same name ("Eden" the district, not the hamlet).
_SMALL_TOWN = 10_000

# Lower sorts first: a region or county name wins over a same-named town, a town over a council.
_KIND_RANK = {
    RegionKind.REGION: 0,
    RegionKind.COUNTY: 1,
    RegionKind.TOWN: 2,
    RegionKind.AREA: 3,
    RegionKind.LOCAL_AUTHORITY: 4,
    RegionKind.POSTCODE_DISTRICT: 5,
}

_POSTCODE_DISTRICT = re.compile(r"^[a-z]{1,2}\d[a-z\d]?$")
_FULL_POSTCODE = re.compile(r"^([a-z]{1,2}\d[a-z\d]?)(\d[a-z]{2})$")
_POSTCODE_SECTOR = re.compile(r"^([a-z]{1,2}\d[a-z\d]?) (\d)$")
# London's busiest districts are split into sub-districts (SW1A, W1B, EC1A, E1W): a letter after one digit.
_SUB_DISTRICT = re.compile(r"^([a-z]{1,2}\d)[a-z]$")
_POSTCODE_AREA = re.compile(r"^([a-z]{1,2})\d")

# Shorter than this, a misspelling could be anything ("Hul": Hull, Hale, Hyde...): no guess is made.
_TYPO_MIN_CHARS = 4
_VOWELS = frozenset("aeiouy")
_KEY_TABLE = str.maketrans(
    {"&": " and ", "'": None, "’": None, "`": None, ".": None} | dict.fromkeys('-/_,;:!?()"', " ")
)


def place_key(name: str) -> str:
    """The lookup key of a place name: case, accents, punctuation, "the" and "Saint" spelling ignored."""
    if not name.isascii():
        # Fold accents ("Bogotá" → "bogota"); letters with no ASCII form drop out.
        name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    words = name.lower().translate(_KEY_TABLE).split()
    if words and words[0] == "the":
        del words[0]
    if "saint" in words:
        words = ["st" if word == "saint" else word for word in words]
    return " ".join(words)


def town_radius_km(population: int | None) -> float:
    """Default search radius around a town's centre, by its size (unknown size counts as small)."""
    people = population or 0
    if people >= 1_000_000:
        return 10.0
    if people >= 200_000:
        return 6.0
    if people >= 50_000:
        return 4.0
    if people >= 10_000:
        return 3.0
    return 2.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


@dataclass(frozen=True, slots=True)
class Place:
    """A named GB place of any kind, with what a search needs to use it."""

    name: str
    """As the gazetteer spells it ("Newcastle upon Tyne", "Yorkshire", "LS6")."""
    kind: RegionKind
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    """Default search radius; for towns derived from the population when not given."""
    population: int | None = None
    county: str | None = None
    """Ceremonial county (or the unitary authority when it is its own county)."""
    region: str | None = None
    """Region of England, or the nation, as the directory's ``region`` field spells it."""
    local_authority: str | None = None
    """The council, as the directory's ``local_authority`` field spells it."""
    nation: str | None = None
    field_values: tuple[str, ...] = ()
    """For field-matched kinds (county, council, region, postcode district): the exact directory values."""
    aliases: tuple[str, ...] = ()
    """Other names the place answers to (alternate spellings, "Greater London", Welsh names)."""

    def lookup_keys(self) -> set[str]:
        return {key for key in map(place_key, (self.name, *self.aliases)) if key}

    def rank(self) -> tuple[int, int]:
        rank = _KIND_RANK[self.kind]
        if self.kind is RegionKind.TOWN and (self.population or 0) < _SMALL_TOWN:
            rank = _KIND_RANK[RegionKind.LOCAL_AUTHORITY] + 1
        return rank, -(self.population or 0)

    def to_region_match(self, *, radius_km: float | None = None) -> RegionMatch:
        radius = radius_km if radius_km is not None else self.radius_km
        if radius is None and self.kind is RegionKind.TOWN:
            radius = town_radius_km(self.population)
        return RegionMatch(
            name=self.name,
            kind=self.kind,
            country="GB",
            lat=self.lat,
            lon=self.lon,
            radius_km=radius,
            population=self.population,
            county=self.county,
            region=self.region,
            local_authority=self.local_authority,
            field_value=self.field_values[0] if len(self.field_values) == 1 else None,
            field_values=self.field_values,
        )


@dataclass(frozen=True, slots=True)
class WorldCity:
    """A city anywhere (GeoNames), for goals outside GB: online providers only."""

    name: str
    country: str
    """ISO 3166-1 alpha-2."""
    lat: float
    lon: float
    population: int = 0
    admin1: str = ""
    """First-level division code (a US state's two letters, for "Paris, TX")."""
    aliases: tuple[str, ...] = ()

    def to_region_match(self, *, radius_km: float | None = None) -> RegionMatch:
        return RegionMatch(
            name=self.name,
            kind=RegionKind.WORLD_CITY,
            country=self.country,
            lat=self.lat,
            lon=self.lon,
            radius_km=radius_km if radius_km is not None else WORLD_CITY_RADIUS_KM,
            population=self.population or None,
        )


@dataclass(frozen=True, eq=False)
class Gazetteer:
    """Every place a goal may name, with lookup indexes built once when the value is made."""

    places: tuple[Place, ...] = ()
    world_cities: tuple[WorldCity, ...] = ()
    countries: Mapping[str, str] = field(default_factory=dict)
    """Other names of countries → ISO alpha-2 ("uk" → "GB", "holland" → "NL"); official names come from
    ``country_names``."""
    country_names: Mapping[str, str] = field(default_factory=dict)
    """ISO alpha-2 → English name ("ES" → "Spain")."""
    subdivisions: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """First-level division name or code → (country, admin1 code), e.g. "texas" → ("US", "TX")."""
    _gb: Mapping[str, tuple[Place, ...]] = field(init=False, repr=False)
    _spellings: tuple[str, ...] = field(init=False, repr=False)
    _districts: Mapping[str, Place] = field(init=False, repr=False)
    _areas: Mapping[str, Place] = field(init=False, repr=False)
    _world: Mapping[str, tuple[WorldCity, ...]] = field(init=False, repr=False)
    _countries: Mapping[str, str] = field(init=False, repr=False)
    _subdivisions: Mapping[str, tuple[str, str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        districts = {
            place_key(place.name).replace(" ", ""): place
            for place in self.places
            if place.kind is RegionKind.POSTCODE_DISTRICT
        }
        countries = {place_key(name): code.upper() for code, name in self.country_names.items()}
        countries.update({place_key(name): code.upper() for name, code in self.countries.items()})
        subdivisions = {place_key(name): value for name, value in self.subdivisions.items()}
        gb = _index_gb(self.places)
        object.__setattr__(self, "_gb", MappingProxyType(gb))
        object.__setattr__(self, "_spellings", tuple(key for key in gb if _spelling_worth_matching(key)))
        object.__setattr__(self, "_districts", MappingProxyType(_index_districts(districts)))
        object.__setattr__(self, "_areas", MappingProxyType(_index_areas(districts)))
        object.__setattr__(self, "_world", MappingProxyType(_index_world(self.world_cities)))
        object.__setattr__(self, "_countries", MappingProxyType(countries))
        object.__setattr__(self, "_subdivisions", MappingProxyType(subdivisions))

    # --- GB -----------------------------------------------------------------------------------------

    def find_places(self, name: str) -> tuple[Place, ...]:
        """Every GB place (not postcode district) answering to ``name``, best first."""
        key = place_key(name)
        return self._gb.get(key, ()) if key else ()

    def find_place(self, name: str, *, within: str | None = None) -> Place | None:
        """The best GB place called ``name``, optionally inside a county, region or nation called ``within``."""
        found = self.find_places(name)
        if within is None:
            return found[0] if found else None
        # "Leeds, Yorkshire": the qualifier may be a county, a region, or a name for one ("Yorkshire").
        wanted = {place_key(within)}
        for area in self.find_places(within):
            wanted.update(place_key(value) for value in (area.name, *area.field_values))
        for place in found:
            parts = (place.county, place.region, place.nation, place.local_authority)
            if wanted & {place_key(part) for part in parts if part}:
                return place
        return None

    def find_postcode_district(self, code: str) -> Place | None:
        """A postcode district ("LS6", "sw1a"), or the district of a full postcode ("LS6 2AB") or of a sector
        ("LS6 2"). A district split into sub-districts ("SW1") answers with all of them in ``field_values``."""
        spaced = " ".join(code.lower().split())
        compact = spaced.replace(" ", "")
        if _POSTCODE_DISTRICT.match(compact) and compact in self._districts:
            return self._districts[compact]
        outward = _FULL_POSTCODE.match(compact) or _POSTCODE_SECTOR.match(spaced)
        return self._districts.get(outward.group(1)) if outward else None

    def find_postcode_area(self, letters: str) -> Place | None:
        """A postcode area ("LS", "m"): every district in it, named "the LS postcode area"; None if unknown."""
        return self._areas.get(letters.strip().lower())

    def closest_places(self, name: str) -> tuple[Place, ...]:
        """The GB places whose names are spelt closest to a misspelt ``name``, best first; () when none is close.

        One place: it is clearly the closest. Several: they are equally close, and only the person can say which.
        A name of fewer than four letters, or one that already names a place, gets ().
        """
        key = place_key(name)
        if len(key) < _TYPO_MIN_CHARS or key in self._gb:
            return ()
        # Imported here: only a misspelt place pays for it, never a start-up.
        from rapidfuzz import process
        from rapidfuzz.distance import Indel

        found = process.extract(
            key, self._spellings, scorer=Indel.distance, score_cutoff=_most_slips(key), limit=None
        )
        if not found:
            return ()
        nearest = min(distance for _, distance, _ in found)
        closest: dict[str, Place] = {}
        for spelling, distance, _ in found:
            place = self._gb[spelling][0]
            if distance == nearest:
                closest.setdefault(place.name, place)
        return tuple(sorted(closest.values(), key=Place.rank))

    # --- the world ----------------------------------------------------------------------------------

    def find_country(self, name: str, *, codes: bool = True) -> str | None:
        """ISO alpha-2 of a country name or alias ("Spain", "USA"), or of a code ("fr") when ``codes``."""
        key = place_key(name)
        if not key:
            return None
        found = self._countries.get(key)
        if found is None and codes and key.upper() in self.country_names:
            return key.upper()
        return found

    def country_name(self, code: str) -> str:
        return self.country_names.get(code.upper(), code.upper())

    def find_world_city(
        self, name: str, *, country: str | None = None, subdivision: str | None = None
    ) -> WorldCity | None:
        """The city called ``name`` (by its own name before an alternate one, then the most populous),
        optionally in a country and a first-level division."""
        key = place_key(name)
        for city in self._world.get(key, ()) if key else ():
            if country is not None and city.country != country.upper():
                continue
            if subdivision is not None and city.admin1.upper() != subdivision.upper():
                continue
            return city
        return None

    def find_subdivision(self, name: str) -> tuple[str, str] | None:
        """(country, admin1 code) of a first-level division name or code ("Texas", "TX"), or None."""
        return self._subdivisions.get(place_key(name))


def _index_gb(places: tuple[Place, ...]) -> dict[str, tuple[Place, ...]]:
    """Name key → every place answering to it, best first (see ``Place.rank``)."""
    index: dict[str, list[Place]] = {}
    for place in places:
        if place.kind is not RegionKind.POSTCODE_DISTRICT:
            for key in place.lookup_keys():
                index.setdefault(key, []).append(place)
    return {
        key: tuple(sorted(found, key=Place.rank)) if len(found) > 1 else (found[0],)
        for key, found in index.items()
    }


def _most_slips(key: str) -> int:
    """How far a misspelling may be from a name, in letters left out or put in (a swap is two): one in a short
    name, two in a longer one, three in a name of several words."""
    return 1 if len(key) <= 5 else 2 if len(key) <= 11 else 3


def _spelling_worth_matching(key: str) -> bool:
    """Whether a typo may be matched to this name: not a code or an abbreviation ("blk", "mnchstr")."""
    return len(key) >= _TYPO_MIN_CHARS and not _VOWELS.isdisjoint(key)


def _index_districts(districts: Mapping[str, Place]) -> dict[str, Place]:
    """Compact code → district, each split district ("SW1", "E1") answering with its sub-districts too."""
    subs: dict[str, list[Place]] = defaultdict(list)
    for key, place in districts.items():
        if (split := _SUB_DISTRICT.match(key)) is not None:
            subs[split.group(1)].append(place)
    index = dict(districts)
    for parent, members in subs.items():
        own = districts.get(parent)
        values = _field_values((own, *members) if own is not None else members)
        index[parent] = (
            replace(own, field_values=values)
            if own is not None
            else _district_group(parent.upper(), members, values=values)
        )
    return index


def _index_areas(districts: Mapping[str, Place]) -> dict[str, Place]:
    """Area letters ("ls") → the area as one place holding every district in it."""
    members: dict[str, list[Place]] = defaultdict(list)
    for key, place in districts.items():
        if (area := _POSTCODE_AREA.match(key)) is not None:
            members[area.group(1)].append(place)
    return {
        letters: _district_group(
            f"the {letters.upper()} postcode area", found, values=_field_values(found), pad_km=0.0
        )
        for letters, found in members.items()
    }


def _field_values(places: Iterable[Place]) -> tuple[str, ...]:
    return tuple(sorted({value for place in places for value in (place.field_values or (place.name,))}))


def _district_group(
    name: str, members: list[Place], *, values: tuple[str, ...], pad_km: float = POSTCODE_DISTRICT_RADIUS_KM
) -> Place:
    """Several districts as one: centred among them, reaching the farthest, sharing what they all share."""
    located = [(p.lat, p.lon) for p in members if p.lat is not None and p.lon is not None]
    lat = lon = radius = None
    if located:
        lat = round(sum(a for a, _ in located) / len(located), 5)
        lon = round(sum(b for _, b in located) / len(located), 5)
        reach = max(distance_km(lat, lon, a, b) for a, b in located)
        radius = float(math.ceil(reach + pad_km))
    people = [p.population for p in members if p.population is not None]

    def shared(values: Iterable[str | None]) -> str | None:
        distinct = set(values)
        return distinct.pop() if len(distinct) == 1 else None

    return Place(
        name=name,
        kind=RegionKind.POSTCODE_DISTRICT,
        lat=lat,
        lon=lon,
        radius_km=radius,
        population=sum(people) if people else None,
        county=shared(p.county for p in members),
        region=shared(p.region for p in members),
        local_authority=shared(p.local_authority for p in members),
        field_values=values,
    )


def _index_world(cities: tuple[WorldCity, ...]) -> dict[str, tuple[WorldCity, ...]]:
    """Name key → cities, own names before alternate ones ("Victoria" is not Hong Kong), then by population."""
    index: dict[str, list[tuple[bool, WorldCity]]] = {}
    for city in cities:
        own = place_key(city.name)
        if own:
            index.setdefault(own, []).append((False, city))
        for key in {place_key(alias) for alias in city.aliases} - {own, ""}:
            index.setdefault(key, []).append((True, city))
    return {
        key: tuple(city for _, city in sorted(found, key=lambda item: (item[0], -item[1].population)))
        if len(found) > 1
        else (found[0][1],)
        for key, found in index.items()
    }
