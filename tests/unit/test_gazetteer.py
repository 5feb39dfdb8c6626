"""The gazetteer: pure lookups on a hand-built value, then the real one loaded from the open data."""

from __future__ import annotations

import csv
import time
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fakes.places import MANCHESTER_MATCH, SW1_MATCH, SW1A, SW1P, YORKSHIRE
from wyshbone.domain.curated_places import CEREMONIAL_COUNTIES, EXTRA_COUNCIL_SPELLINGS, council_keys
from wyshbone.domain.gazetteer import Gazetteer, Place, WorldCity, place_key, town_radius_km
from wyshbone.domain.models import RegionKind, RegionMatch
from wyshbone.geodata import GAZETTEER_FILES, MissingOpenDataError, OpenDataFormatError, load_gazetteer

K = RegionKind

LEEDS = Place(
    name="Leeds",
    kind=K.TOWN,
    lat=53.79648,
    lon=-1.54785,
    population=536280,
    county="West Yorkshire",
    region="Yorkshire and The Humber",
    local_authority="Leeds",
    aliases=("Lids",),
)
LEEDS_COUNCIL = Place(
    name="Leeds", kind=K.LOCAL_AUTHORITY, region="Yorkshire and The Humber", field_values=("Leeds",)
)
WALES_VILLAGE = Place(
    name="Wales", kind=K.TOWN, lat=53.34, lon=-1.28, population=5956, region="Yorkshire and The Humber"
)
WALES = Place(name="Wales", kind=K.REGION, region="Wales", nation="Wales", field_values=("Wales",))
NEWPORT_WALES = Place(
    name="Newport",
    kind=K.TOWN,
    lat=51.58774,
    lon=-2.99835,
    population=161506,
    county="Newport",
    region="Wales",
)
NEWPORT_IOW = Place(
    name="Newport",
    kind=K.TOWN,
    lat=50.7,
    lon=-1.29,
    population=24884,
    county="Isle of Wight",
    region="South East",
)
KENT = Place(
    name="Kent",
    kind=K.COUNTY,
    lat=51.2,
    lon=0.7,
    radius_km=53.0,
    county="Kent",
    region="South East",
    field_values=("Kent", "Maidstone", "Medway"),
)
EDEN_HAMLET = Place(name="Eden", kind=K.TOWN, lat=54.6, lon=-2.6, population=600)
EDEN_COUNCIL = Place(name="Eden", kind=K.LOCAL_AUTHORITY, county="Cumbria", field_values=("Eden",))
COTSWOLDS = Place(
    name="the Cotswolds", kind=K.AREA, lat=51.83, lon=-1.83, radius_km=25.0, aliases=("Cotswold Hills",)
)
LS6 = Place(
    name="LS6",
    kind=K.POSTCODE_DISTRICT,
    lat=53.8185,
    lon=-1.56626,
    radius_km=2.0,
    local_authority="Leeds",
    field_values=("LS6",),
)
E1 = Place(
    name="E1", kind=K.POSTCODE_DISTRICT, lat=51.5163, lon=-0.06037, radius_km=2.0, field_values=("E1",)
)
E1W = Place(
    name="E1W", kind=K.POSTCODE_DISTRICT, lat=51.5123, lon=-0.05926, radius_km=2.0, field_values=("E1W",)
)
SWANSEA = Place(name="Swansea", kind=K.TOWN, lat=51.62, lon=-3.94, population=300352, region="Wales")
SWANAGE = Place(name="Swanage", kind=K.TOWN, lat=50.61, lon=-1.96, population=10454, region="South West")
PARIS = WorldCity(name="Paris", country="FR", lat=48.85341, lon=2.3488, population=2138551, admin1="11")
PARIS_TX = WorldCity(name="Paris", country="US", lat=33.66094, lon=-95.55551, population=24171, admin1="TX")
NYC = WorldCity(
    name="New York City",
    country="US",
    lat=40.71427,
    lon=-74.00597,
    population=8804190,
    admin1="NY",
    aliases=("New York",),
)


def tiny_gazetteer() -> Gazetteer:
    return Gazetteer(
        places=(
            LEEDS,
            LEEDS_COUNCIL,
            WALES_VILLAGE,
            WALES,
            NEWPORT_IOW,
            NEWPORT_WALES,
            YORKSHIRE,
            KENT,
            EDEN_HAMLET,
            EDEN_COUNCIL,
            COTSWOLDS,
            LS6,
            SW1A,
            SW1P,
            E1,
            E1W,
            SWANSEA,
            SWANAGE,
        ),
        world_cities=(PARIS_TX, PARIS, NYC),
        countries={"UK": "GB", "USA": "US"},
        country_names={"GB": "United Kingdom", "FR": "France", "US": "United States"},
        subdivisions={"Texas": ("US", "TX"), "TX": ("US", "TX")},
    )


@pytest.fixture(scope="module")
def tiny() -> Gazetteer:
    return tiny_gazetteer()


# --- pure ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Manchester", "manchester"),  # case
        ("the Cotswolds", "cotswolds"),  # a leading "the" is not part of the name
        ("Stoke-on-Trent", "stoke on trent"),  # hyphens are spaces
        ("St. Albans", "st albans"),  # full stops go
        ("Saint Ives", "st ives"),  # "Saint" and "St" are one spelling
        ("King's Lynn", "kings lynn"),  # apostrophes go
        ("Bogotá", "bogota"),  # accents fold
        ("Brighton & Hove", "brighton and hove"),  # "&" is "and"
        ("  Leeds!  ", "leeds"),  # punctuation and spaces around
        ("the", ""),  # nothing left: no key
    ],
)
def test_place_key_normalises(name: str, expected: str) -> None:
    assert place_key(name) == expected


@pytest.mark.parametrize(
    ("population", "expected"),
    [
        (8_961_989, 10.0),  # a metropolis
        (568_996, 6.0),  # a big city (Manchester)
        (156_135, 4.0),  # a city (York)
        (47_785, 3.0),  # a town (Durham)
        (5_956, 2.0),  # a village
        (None, 2.0),  # size unknown: treated as small
    ],
)
def test_town_radius_km_grows_with_population(population: int | None, expected: float) -> None:
    assert town_radius_km(population) == expected


@pytest.mark.parametrize(
    ("name", "within", "expected"),
    [
        ("Leeds", None, LEEDS),  # the city wins over its council of the same name
        ("LEEDS", None, LEEDS),  # case does not matter
        ("Lids", None, LEEDS),  # an alternate name
        ("Wales", None, WALES),  # a region wins over a village of the same name
        ("Eden", None, EDEN_COUNCIL),  # a hamlet loses to the council of the same name
        ("Newport", None, NEWPORT_WALES),  # two towns: the bigger one
        ("Newport", "Isle of Wight", NEWPORT_IOW),  # ... unless a county says which
        ("Newport", "Wales", NEWPORT_WALES),  # ... or a nation
        ("Newport", "Scotland", None),  # no Newport there
        ("Cotswolds", None, COTSWOLDS),  # an area without its "the"
        ("the Cotswolds", None, COTSWOLDS),  # ... and with it
        ("Kent", None, KENT),  # a county
        ("Narnia", None, None),  # unknown
        ("", None, None),  # nothing asked
    ],
)
def test_gazetteer_find_place_prefers_the_likeliest(
    tiny: Gazetteer, name: str, within: str | None, expected: Place | None
) -> None:
    assert tiny.find_place(name, within=within) == expected


def test_gazetteer_find_place_within_a_region_name(tiny: Gazetteer) -> None:
    # "Leeds, Yorkshire": Yorkshire names the region "Yorkshire and The Humber" that Leeds is in.
    assert tiny.find_place("Leeds", within="Yorkshire") == LEEDS


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("LS6", LS6),  # a district
        ("ls6", LS6),  # any case
        ("LS6 2AB", LS6),  # a full postcode: its district
        ("ls62ab", LS6),  # ... written without the space
        ("LS6 2", LS6),  # a sector: its district
        ("ZZ9", None),  # the right shape, but no such district
        ("Leeds", None),  # not a postcode at all
        ("SW1A", SW1A),  # a sub-district
        ("SW1A 1AA", SW1A),  # ... and a postcode in it
        ("E1", replace(E1, field_values=("E1", "E1W"))),  # a district with a sub-district split off: both
    ],
)
def test_gazetteer_find_postcode_district(tiny: Gazetteer, code: str, expected: Place | None) -> None:
    assert tiny.find_postcode_district(code) == expected


def test_gazetteer_postcode_district_of_sub_districts_only(tiny: Gazetteer) -> None:
    # SW1 has no row of its own: it is all of SW1A…SW1Y, centred among them and reaching past the farthest.
    sw1 = tiny.find_postcode_district("sw1")
    assert (sw1.to_region_match() if sw1 else None) == SW1_MATCH


@pytest.mark.parametrize(
    ("letters", "expected"),
    [
        ("LS", ("the LS postcode area", ("LS6",))),
        ("sw", ("the SW postcode area", ("SW1A", "SW1P"))),  # any case; sub-districts once each
        ("E", ("the E postcode area", ("E1", "E1W"))),
        ("ZZ", None),  # no such area
    ],
)
def test_gazetteer_find_postcode_area(
    tiny: Gazetteer, letters: str, expected: tuple[str, tuple[str, ...]] | None
) -> None:
    area = tiny.find_postcode_area(letters)
    assert ((area.name, area.field_values) if area else None) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Leds", (LEEDS,)),  # one letter missing: clearly Leeds (the city before its council)
        ("Kentt", (KENT,)),  # one too many
        ("Cotswolds Hils", (COTSWOLDS,)),  # a name of several words
        ("Swansae", (SWANSEA, SWANAGE)),  # two equally close: both, the likelier first
        ("Narnia", ()),  # nothing close
        ("Leeds", ()),  # spelt right: not a typo
        ("Lid", ()),  # too short to guess from
    ],
)
def test_gazetteer_closest_places_to_a_misspelling(
    tiny: Gazetteer, name: str, expected: tuple[Place, ...]
) -> None:
    assert tiny.closest_places(name) == expected


@pytest.mark.parametrize(
    ("name", "country", "subdivision", "expected"),
    [
        ("Paris", None, None, PARIS),  # the most populous Paris
        ("paris", "FR", None, PARIS),  # in a country
        ("Paris", "US", None, PARIS_TX),  # the other one
        ("Paris", "US", "TX", PARIS_TX),  # in a state
        ("Paris", "ES", None, None),  # no Paris in Spain here
        ("New York", None, None, NYC),  # an alternate name
        ("Atlantis", None, None, None),  # unknown
    ],
)
def test_gazetteer_find_world_city(
    tiny: Gazetteer, name: str, country: str | None, subdivision: str | None, expected: WorldCity | None
) -> None:
    assert tiny.find_world_city(name, country=country, subdivision=subdivision) == expected


@pytest.mark.parametrize(
    ("name", "codes", "expected"),
    [
        ("France", True, "FR"),  # an official name
        ("united states", True, "US"),  # any case
        ("USA", True, "US"),  # an alias
        ("UK", True, "GB"),  # ... for GB too
        ("fr", True, "FR"),  # a code
        ("fr", False, None),  # ... not when codes are not wanted ("in" is not India)
        ("Narnia", True, None),  # unknown
    ],
)
def test_gazetteer_find_country(tiny: Gazetteer, name: str, codes: bool, expected: str | None) -> None:
    assert tiny.find_country(name, codes=codes) == expected


def test_gazetteer_find_subdivision(tiny: Gazetteer) -> None:
    assert (tiny.find_subdivision("texas"), tiny.find_subdivision("Ontario")) == (("US", "TX"), None)


@pytest.mark.parametrize(
    ("source", "radius_km", "expected"),
    [
        # a town: radius from its size
        (
            LEEDS,
            None,
            RegionMatch(
                name="Leeds",
                kind=K.TOWN,
                country="GB",
                lat=53.79648,
                lon=-1.54785,
                radius_km=6.0,
                population=536280,
                county="West Yorkshire",
                region="Yorkshire and The Humber",
                local_authority="Leeds",
            ),
        ),
        # a county: field-matched, its values as the directory spells them
        (
            KENT,
            None,
            RegionMatch(
                name="Kent",
                kind=K.COUNTY,
                country="GB",
                lat=51.2,
                lon=0.7,
                radius_km=53.0,
                county="Kent",
                region="South East",
                field_values=("Kent", "Maidstone", "Medway"),
            ),
        ),
        # a postcode district: one field value, also given as field_value
        (
            LS6,
            3.0,
            RegionMatch(
                name="LS6",
                kind=K.POSTCODE_DISTRICT,
                country="GB",
                lat=53.8185,
                lon=-1.56626,
                radius_km=3.0,
                local_authority="Leeds",
                field_value="LS6",
                field_values=("LS6",),
            ),
        ),
        # a world city: its own country, a 10 km radius
        (
            PARIS,
            None,
            RegionMatch(
                name="Paris",
                kind=K.WORLD_CITY,
                country="FR",
                lat=48.85341,
                lon=2.3488,
                radius_km=10.0,
                population=2138551,
            ),
        ),
    ],
)
def test_gazetteer_entries_become_region_matches(
    source: Place | WorldCity, radius_km: float | None, expected: RegionMatch
) -> None:
    assert source.to_region_match(radius_km=radius_km) == expected


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("Caerdydd - Cardiff", ("cardiff", "caerdydd")),  # bilingual: the English name is the main key
        ("City of Bristol", ("bristol",)),  # "City of" goes
        ("Leicester City", ("leicester",)),  # ... and so does a trailing "City"
        ("Edinburgh (City of)", ("edinburgh",)),  # brackets go
        ("Hull City", ("kingston upon hull",)),  # a known short name
        ("City of London Corporation", ("city of london",)),  # the City keeps its "City"
        ("Stockton On Tees", ("stockton on tees",)),  # hyphens and case as any other spelling
    ],
)
def test_council_keys_group_spellings(spelling: str, expected: tuple[str, ...]) -> None:
    assert council_keys(spelling) == expected


def test_load_gazetteer_names_the_missing_files(tmp_path: Path) -> None:
    with pytest.raises(MissingOpenDataError) as caught:
        load_gazetteer(tmp_path)
    assert str(tmp_path / "gb_places.csv") in str(caught.value)


def test_load_gazetteer_refuses_files_of_another_shape(tmp_path: Path) -> None:
    for name in GAZETTEER_FILES:
        (tmp_path / name).write_text("something,else\n1,2\n", encoding="utf-8")
    with pytest.raises(OpenDataFormatError) as caught:
        load_gazetteer(tmp_path)
    assert str(tmp_path) in str(caught.value)


# --- the real gazetteer --------------------------------------------------------------------------------

YORKSHIRE_MATCH = RegionMatch(
    name="Yorkshire",
    kind=K.REGION,
    country="GB",
    lat=53.92229,
    lon=-1.0811,
    radius_km=104.0,
    region="Yorkshire and The Humber",
    field_value="Yorkshire and The Humber",
    field_values=("Yorkshire and The Humber",),
)
KENT_MATCH = RegionMatch(
    name="Kent",
    kind=K.COUNTY,
    country="GB",
    lat=51.20999,
    lon=0.68993,
    radius_km=53.0,
    county="Kent",
    region="South East",
    field_values=(
        "Ashford", "Canterbury", "Canterbury City", "Dartford", "Dover", "Folkestone and Hythe", "Gravesham",
        "Kent", "Maidstone", "Medway", "Sevenoaks", "Shepway", "Swale", "Thanet", "Tonbridge and Malling",
        "Tunbridge Wells",
    ),
)  # fmt: skip
COTSWOLDS_MATCH = RegionMatch(
    name="the Cotswolds",
    kind=K.AREA,
    country="GB",
    lat=51.83,
    lon=-1.83,
    radius_km=25.0,
    county="Gloucestershire",
    region="South West",
)


@pytest.mark.data
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Manchester", MANCHESTER_MATCH),  # a city, by distance from its centre
        ("manchester", MANCHESTER_MATCH),  # any case
        ("Yorkshire", YORKSHIRE_MATCH),  # all of Yorkshire: the directory's region
        ("Kent", KENT_MATCH),  # a ceremonial county: its councils, every spelling, and Medway
        ("the Cotswolds", COTSWOLDS_MATCH),  # an area with no council: by radius
    ],
)
def test_real_gazetteer_headline_places(gazetteer: Gazetteer, name: str, expected: RegionMatch) -> None:
    place = gazetteer.find_place(name)
    assert place is not None and place.to_region_match() == expected


@pytest.mark.data
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Newcastle", ("Newcastle upon Tyne", K.TOWN)),  # the big one, not the Newcastle in County Down
        ("Newcastle upon Tyne", ("Newcastle upon Tyne", K.TOWN)),  # its full name
        ("Hull", ("Kingston upon Hull", K.TOWN)),  # its everyday name
        ("London", ("London", K.REGION)),  # London is the directory's region, not a 10 km circle
        ("Greater London", ("London", K.REGION)),  # ... under either name
        ("Wales", ("Wales", K.REGION)),  # the nation, not the village near Rotherham
        ("North Wales", ("North Wales", K.LOCAL_AUTHORITY)),  # its six councils
        ("Greater Manchester", ("Greater Manchester", K.COUNTY)),  # a metropolitan county
        ("West Midlands", ("West Midlands", K.REGION)),  # the region wins over the county
        ("Durham", ("Durham", K.TOWN)),  # the city ...
        ("County Durham", ("County Durham", K.COUNTY)),  # ... and the county
        ("Calderdale", ("Calderdale", K.LOCAL_AUTHORITY)),  # a council with no town of its name
        (
            "Western Isles",
            ("Comhairle nan Eilean Siar (Western Isles)", K.LOCAL_AUTHORITY),
        ),  # its English name
        ("Stoke on Trent", ("Stoke-on-Trent", K.TOWN)),  # without its hyphens
        ("Lake District", ("the Lake District", K.AREA)),  # a national park
    ],
)
def test_real_gazetteer_resolves_names(
    gazetteer: Gazetteer, name: str, expected: tuple[str, RegionKind]
) -> None:
    place = gazetteer.find_place(name)
    assert place is not None and (place.name, place.kind) == expected


@pytest.mark.data
def test_real_gazetteer_postcode_districts_and_world(gazetteer: Gazetteer) -> None:
    district = gazetteer.find_postcode_district("ls6")
    madrid = gazetteer.find_world_city("madrid", country=gazetteer.find_country("spain"))
    new_york = gazetteer.find_world_city("New York")
    assert (
        (district.name, district.local_authority, district.county) if district else None,
        (madrid.name, madrid.country) if madrid else None,
        (new_york.name, new_york.country) if new_york else None,
    ) == (("LS6", "Leeds", "West Yorkshire"), ("Madrid", "ES"), ("New York City", "US"))


@pytest.mark.data
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("SW1", ("SW1A", "SW1E", "SW1H", "SW1P", "SW1V", "SW1W", "SW1X", "SW1Y")),  # sub-districts only
        ("W1", ("W1A", "W1B", "W1C", "W1D", "W1F", "W1G", "W1H", "W1J", "W1K", "W1S", "W1T", "W1U", "W1W")),
        ("EC1", ("EC1A", "EC1M", "EC1N", "EC1P", "EC1R", "EC1V", "EC1Y")),
        ("N1", ("N1", "N1C", "N1P")),  # its own row, and the sub-districts split off it
        ("M1", ("M1",)),
        ("EH1", ("EH1",)),
        ("B15", ("B15",)),
    ],
)
def test_real_gazetteer_postcode_districts_carry_their_sub_districts(
    gazetteer: Gazetteer, code: str, expected: tuple[str, ...]
) -> None:
    district = gazetteer.find_postcode_district(code)
    assert (district.field_values if district else None) == expected


@pytest.mark.data
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Manchster", ["Manchester"]),
        ("Edinbrugh", ["Edinburgh"]),
        ("Brimingham", ["Birmingham"]),  # several spellings of one city are one candidate
        ("Brigton", ["Brighton"]),  # a letter missing beats a letter changed (Brixton)
        ("Swansae", ["Swansea", "Swanage"]),
        ("Shefield", ["Sheffield", "Shenfield"]),
        ("Narnia", []),
        ("bulk", []),  # not "BLK", an abbreviation among Blackpool's other names
    ],
)
def test_real_gazetteer_closest_places(gazetteer: Gazetteer, name: str, expected: list[str]) -> None:
    assert [place.name for place in gazetteer.closest_places(name)] == expected


@pytest.mark.data
def test_real_gazetteer_county_values_are_directory_spellings(gazetteer: Gazetteer, data_dir: Path) -> None:
    # Every council a county lists must be a spelling the directory uses (local_authority_region.csv holds
    # the directory's council names), or the county's own name: anything else is a typo that matches nothing.
    with (data_dir / "local_authority_region.csv").open(newline="", encoding="utf-8") as handle:
        spellings = {row["local_authority"] for row in csv.DictReader(handle)} | set(EXTRA_COUNCIL_SPELLINGS)
    strays = {
        (place.name, value)
        for place in gazetteer.places
        if place.kind in (K.COUNTY, K.LOCAL_AUTHORITY)
        for value in place.field_values
        if value not in spellings and value not in CEREMONIAL_COUNTIES
    }
    assert strays == set()


@pytest.mark.data
def test_load_gazetteer_is_cached_and_quick(data_dir: Path) -> None:
    load_gazetteer.cache_clear()
    started = time.perf_counter()
    fresh = load_gazetteer(data_dir)
    elapsed = time.perf_counter() - started
    assert (load_gazetteer(data_dir) is fresh, elapsed < 2.0) == (True, True)
