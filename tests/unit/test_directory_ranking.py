"""The directory's pure parts: FTS5 tiers and terms, kind and place expressions, tags and grid cells, scores and
dedupe.

No database here: these are the decisions the search's SQL is built from.
"""

from __future__ import annotations

import math

import pytest

from wyshbone.domain.areas import area_for
from wyshbone.domain.matching import wanted
from wyshbone.domain.models import Lead, RegionKind, RegionMatch
from wyshbone.providers import _directory_sql as sql
from wyshbone.providers.directory_query import build_query
from wyshbone.providers.local_directory import dedupe, haversine_km, score


def test_tiers_rank_combinations_of_signals_within_what_is_asked() -> None:
    tiers = sql.tiers(signals=[(100, "A"), (60, "B")], accept="K", rest=20)

    # Positive expressions only (FTS5 intersects quickly, subtracts a large set slowly): a business shows in
    # every tier whose signals it has, and the search keeps it where it ranks best.
    assert tiers == (
        sql.Tier(160, "(K) AND (A) AND (B)"),
        sql.Tier(100, "(K) AND (A)"),
        sql.Tier(60, "(K) AND (B)"),
        sql.Tier(20, "(K)"),
    )


def test_tiers_with_a_signal_implying_what_is_asked_do_not_repeat_it() -> None:
    # "A" (the business type) implies "K" (the kind, with its costly name groups): its tiers skip "K".
    tiers = sql.tiers(signals=[(100, "A"), (60, "B")], accept="K", rest=20, implied="A")

    assert [t.match for t in tiers] == ["(A) AND (B)", "(A)", "(K) AND (B)", "(K)"]


def test_tiers_without_a_rest_tier() -> None:
    assert sql.tiers(signals=[(60, "B")], accept="K") == (sql.Tier(60, "(K) AND (B)"),)


@pytest.mark.parametrize(
    ("terms", "expected"),
    [
        # one word each, repeats dropped
        (["coffee", "cafe", "coffee"], '("coffee") OR ("cafe")'),
        # several words must all be in the name; punctuation separates words
        (["tea room", "fish-bar"], '("tea" AND "room") OR ("fish" AND "bar")'),
        # quotes cannot break out of an FTS5 string; case folds
        (['Say "Hi"'], '("say" AND "hi")'),
        # nothing searchable
        (["", " & "], None),
    ],
)
def test_term_query(terms: list[str], expected: str | None) -> None:
    assert sql.term_query(terms) == expected


def test_row_tags_names_every_field_and_three_grid_cells() -> None:
    tags = sql.row_tags("pub_bar", "leeds", None, "Yorkshire and The Humber", "LS6", 53.8, -1.55)

    assert tags == "capubbar laleeds rgyorkshireandthehumber pcls6 ga2876n2230 gb719n557 gc179n139"


def test_row_tags_without_coordinates_has_no_cells() -> None:
    assert sql.row_tags("cafe", "st albans", "Hertfordshire", "East of England", None, None, None) == (
        "cacafe lastalbans cohertfordshire rgeastofengland"
    )


def test_row_tags_names_the_business_type_and_a_twin() -> None:
    tags = sql.row_tags("cafe", "cardiff", None, "Wales", None, None, None, "Restaurant/Cafe/Canteen", 1)

    assert tags == "cacafe lacardiff rgwales strestaurantcafecanteen xtwin"


@pytest.mark.parametrize(
    ("radius_km", "prefix"),
    [
        (1.0, "ga"),  # a neighbourhood: the finest cells
        (6.0, "ga"),  # a town
        (25.0, "gb"),  # a county-sized area
        (120.0, "gc"),  # a region
    ],
)
def test_cells_covering_contains_every_point_of_the_circle(radius_km: float, prefix: str) -> None:
    lat, lon = 53.48095, -2.23743
    cells = sql.cells_covering(lat=lat, lon=lon, radius_km=radius_km)
    assert cells is not None
    level = [p for p, _, _ in sql.GRID_LEVELS].index(prefix)

    # points on the circle's edge, every 10°, each in one of the cells
    for bearing in range(0, 360, 10):
        dlat = radius_km * math.cos(math.radians(bearing)) / sql.KM_PER_DEGREE
        dlon = radius_km * math.sin(math.radians(bearing)) / (sql.KM_PER_DEGREE * math.cos(math.radians(lat)))
        cell = sql.row_tags(None, None, None, None, None, lat + dlat, lon + dlon).split()[level]
        assert cell in cells, (bearing, cell)
    assert {c[:2] for c in cells} == {prefix}
    assert len(cells) <= sql.MAX_CELLS


def test_cells_covering_gives_up_on_a_circle_wider_than_britain() -> None:
    assert sql.cells_covering(lat=53.0, lon=-2.0, radius_km=800.0) is None


@pytest.mark.parametrize(
    ("relevance", "distance_km", "radius_km", "expected"),
    [
        (165, 0.0, 6.0, 1.69),  # category + name + postcode, at the centre
        (165, 6.0, 6.0, 1.65),  # the same at the edge
        (165, 3.0, 6.0, 1.67),  # half way
        (105, None, None, 1.05),  # no distance (county, region, district)
        (60, 9.0, 6.0, 0.6),  # beyond the radius adds nothing (never negative)
    ],
)
def test_score(relevance: int, distance_km: float | None, radius_km: float | None, expected: float) -> None:
    assert score(relevance, distance_km=distance_km, radius_km=radius_km) == expected


def test_score_closeness_never_crosses_a_relevance_level() -> None:
    nearest_of_lower_level = score(100, distance_km=0.0, radius_km=5.0)
    farthest_of_higher_level = score(105, distance_km=5.0, radius_km=5.0)

    assert nearest_of_lower_level < farthest_of_higher_level


def test_haversine_km_manchester_to_leeds() -> None:
    # 35.1 km north and 45.5 km east, by hand on a flat map
    assert round(haversine_km(53.48095, -2.23743, 53.79648, -1.54785), 1) == 57.4


def _lead(source_id: str, name: str, postcode: str | None) -> Lead:
    return Lead(name=name, source="test", source_id=source_id, postcode=postcode)


def test_dedupe_keeps_the_first_of_each_business() -> None:
    leads = [
        _lead("t:1", "Test Crown & Anchor", "M1 1AA"),
        _lead("t:2", "test crown and anchor", "m11aa"),  # same name and postcode, spelled differently
        _lead("t:1", "Test Crown Renamed", "M1 1AA"),  # same id
        _lead("t:3", "Test Crown & Anchor", "M1 1AB"),  # another postcode: another business
        _lead("t:4", "Test Costa", None),  # no postcode: never merged by name
        _lead("t:5", "Test Costa", None),
    ]

    assert [lead.source_id for lead in dedupe(leads)] == ["t:1", "t:3", "t:4", "t:5"]


def _region(kind: RegionKind, value: str) -> RegionMatch:
    return RegionMatch(name=value, kind=kind, country="GB", field_value=value)


def _query(
    categories: list[str], terms: list[str], region: RegionMatch, *, councils: tuple[str, ...] = ()
) -> sql.SearchQuery:
    want = wanted(persona="", categories=categories, terms=terms)
    return build_query(want, area_for(region, councils=councils))


@pytest.mark.parametrize(
    ("categories", "terms", "expected_points"),
    [
        # categories and terms: the type says so, the name says so, both, or only a compatible type's name
        (["cafe"], ["coffee"], [160, 100, 60, 20]),
        # free text only: the name, and the publisher's type as a weaker signal
        ([], ["coffee"], [90, 60, 30]),
        # categories only
        (["cafe", "restaurant"], [], [100, 20]),
        # a kind its type alone decides: every business accepted has the type's points
        (["dentist"], ["dental"], [160, 100]),
    ],
)
def test_build_query_tiers(categories: list[str], terms: list[str], expected_points: list[int]) -> None:
    query = _query(categories, terms, _region(RegionKind.REGION, "North West"))

    assert [tier.points for tier in query.tiers] == expected_points
    assert query.zones == (sql.Zone("inside", "tags : (rgnorthwest)"),)
    assert query.centre is None


def test_build_query_kind_is_the_business_type_or_a_name_within_compatible_types() -> None:
    query = _query(["brewery"], [], _region(RegionKind.REGION, "North West"))

    assert query.accept is not None
    # Open Brewery DB's types make a brewery by themselves ...
    assert "tags : (stbrewerymicro OR stbrewerynano" in query.accept
    # ... a maker is one when its name says so, a pub only with the stricter words ...
    assert "(tags : (stmanufacturerspackers OR stfarmersgrowers OR stdistributorstransporters" in query.accept
    assert '("beer" AND "factory")' in query.accept
    # ... and a café never: its type is not among them.
    assert "strestaurantcafecanteen" not in query.accept


@pytest.mark.parametrize(
    ("categories", "excluded"),
    [
        (["cafe"], True),  # institutions are not leads unless asked for
        (["cafe", "institution"], False),  # asked for
    ],
)
def test_build_query_excludes_institutions_unless_asked(categories: list[str], excluded: bool) -> None:
    query = _query(categories, [], _region(RegionKind.COUNTY, "Kent"))

    assert query.accept is not None
    assert query.accept.endswith("NOT (tags : (cainstitution))") == excluded


@pytest.mark.parametrize(
    ("kind", "value", "councils", "place"),
    [
        # county: the county field, or the key of any council it names
        (RegionKind.COUNTY, "Kent", ("kent",), "tags : (lakent OR cokent)"),
        # a council: its key (every spelling of it is one tag) or the county field
        (RegionKind.LOCAL_AUTHORITY, "Leeds", ("leeds",), "tags : (laleeds OR coleeds)"),
        # the whole outward code, never a prefix
        (RegionKind.POSTCODE_DISTRICT, "LS6", (), "tags : (pcls6)"),
    ],
)
def test_build_query_field_regions(
    kind: RegionKind, value: str, councils: tuple[str, ...], place: str
) -> None:
    query = _query(["pub_bar"], [], _region(kind, value), councils=councils)

    assert query.zones == (sql.Zone("inside", place),)


def test_build_query_qualifier_the_directory_cannot_show_finds_nothing() -> None:
    want = wanted(persona="pub", categories=["pub_bar"], qualifiers=["dog_friendly"])

    query = build_query(want, area_for(_region(RegionKind.REGION, "Wales")))

    assert (query.accept, query.tiers) == (None, ())


def test_build_query_qualifier_by_name_and_independent_by_no_chain_name() -> None:
    want = wanted(persona="cafe", categories=["cafe"], qualifiers=["vegan", "independent"])

    query = build_query(want, area_for(_region(RegionKind.REGION, "Wales")))

    assert query.accept is not None
    assert 'AND ((name : (("vegan") OR ("plant" AND "based"))))' in query.accept
    assert 'NOT (name : (("costa") OR ("starbucks")' in query.accept


def test_build_query_town_in_a_larger_council_is_its_radius_within_the_council_then_nearby() -> None:
    region = RegionMatch(name="Testford", kind=RegionKind.TOWN, country="GB", lat=53.0, lon=-2.0)

    query = _query(["cafe"], [], region, councils=("testshire",))

    inside, nearby = query.zones
    # inside: the town's cells and council, then within the default 5 km of the centre
    assert inside.place is not None and inside.place.endswith("AND (tags : (latestshire))")
    assert (inside.where, inside.params) == ("{d2} <= :ri2", {"ri2": 25.0})
    # nearby: up to twice as far, and not inside (another council, or beyond the radius)
    assert nearby.where == "{d2} <= :rn2 AND NOT ((coalesce(b.council, '') IN (:c0)) AND ({d2} <= :ri2))"
    assert nearby.params == {"rn2": 100.0, "c0": "testshire", "ri2": 25.0}
    assert query.centre == sql.Circle(53.0, -2.0, 5.0)


def test_build_query_town_that_is_its_own_council_is_the_council() -> None:
    region = RegionMatch(name="Testford", kind=RegionKind.TOWN, country="GB", lat=53.0, lon=-2.0, radius_km=4)
    want = wanted(persona="", categories=["cafe"], terms=[])

    query = build_query(want, area_for(region, councils=("testford",), own_council=True))

    centre, rest, nearby = query.zones
    # all of the council is inside: the town's own 4 km first, then the rest of it
    assert centre.place is not None and centre.place.endswith("AND (tags : (latestford))")
    assert (centre.area, centre.where, centre.params) == ("inside", "{d2} <= :rc2", {"rc2": 16.0})
    assert (rest.area, rest.place, rest.where) == (
        "inside",
        "tags : (latestford)",
        "{d2} IS NULL OR {d2} > :rc2",
    )
    assert nearby.where == "{d2} <= :rn2 AND NOT ((coalesce(b.council, '') IN (:c0)))"
    assert query.centre == sql.Circle(53.0, -2.0, 4.0)
