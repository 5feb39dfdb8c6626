"""The directory's pure parts: FTS5 tiers and terms, place tags and grid cells, scores and dedupe.

No database here: these are the decisions the search's SQL is built from.
"""

from __future__ import annotations

import math

import pytest

from wyshbone.domain.models import Lead, RegionKind, RegionMatch
from wyshbone.providers import _directory_sql as sql
from wyshbone.providers.local_directory import build_query, dedupe, haversine_km, score


def test_tiers_split_signals_into_disjoint_levels_best_first() -> None:
    tiers = sql.tiers(signals=[(100, "A"), (60, "B")], place="P", excluded="X")

    assert tiers == (
        sql.Tier(160, "(((A) AND (B)) AND (P)) NOT (X)"),
        sql.Tier(100, "((((A)) AND (P)) NOT (B)) NOT (X)"),
        sql.Tier(60, "((((B)) AND (P)) NOT (A)) NOT (X)"),
    )


def test_tiers_without_place_or_exclusion() -> None:
    assert sql.tiers(signals=[(60, "B")], place=None, excluded=None) == (sql.Tier(60, "(B)"),)


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
    tags = sql.row_tags("pub_bar", "Leeds", None, "Yorkshire and The Humber", "LS6", 53.8, -1.55)

    assert tags == "capubbar laleeds rgyorkshireandthehumber pcls6 ga2876n2230 gb719n557 gc179n139"


def test_row_tags_without_coordinates_has_no_cells() -> None:
    assert sql.row_tags("cafe", "St. Albans", "Hertfordshire", "East of England", None, None, None) == (
        "cacafe lastalbans cohertfordshire rgeastofengland"
    )


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


@pytest.mark.parametrize(
    ("categories", "terms", "expected_points"),
    [
        # categories and terms: both, either
        (["cafe"], ["coffee"], [160, 100, 60]),
        # free text only: the name, and the publisher's type as a weaker signal
        ([], ["coffee"], [90, 60, 30]),
        # categories only
        (["cafe", "restaurant"], [], [100]),
    ],
)
def test_build_query_tiers(categories: list[str], terms: list[str], expected_points: list[int]) -> None:
    query = build_query(categories=categories, terms=terms, region=_region(RegionKind.REGION, "North West"))

    assert [tier.points for tier in query.tiers] == expected_points
    assert all("(tags : (rgnorthwest))" in tier.match for tier in query.tiers)
    assert query.circle is None


@pytest.mark.parametrize(
    ("categories", "excluded"),
    [
        (["cafe"], True),  # institutions are not leads unless asked for
        (["cafe", "institution"], False),  # asked for
    ],
)
def test_build_query_excludes_institutions_unless_asked(categories: list[str], excluded: bool) -> None:
    query = build_query(categories=categories, terms=[], region=_region(RegionKind.COUNTY, "Kent"))

    assert all(t.match.endswith("NOT (tags : (cainstitution))") == excluded for t in query.tiers)


@pytest.mark.parametrize(
    ("kind", "value", "place"),
    [
        (RegionKind.COUNTY, "Kent", "tags : (cokent OR lakent)"),  # county or council field
        (RegionKind.LOCAL_AUTHORITY, "Leeds", "tags : (coleeds OR laleeds)"),  # the same two fields
        (RegionKind.POSTCODE_DISTRICT, "LS6", "tags : (pcls6)"),  # the whole outward code, never a prefix
    ],
)
def test_build_query_field_regions(kind: RegionKind, value: str, place: str) -> None:
    query = build_query(categories=["pub_bar"], terms=[], region=_region(kind, value))

    assert query.tiers == (
        sql.Tier(100, f"(((tags : (capubbar))) AND ({place})) NOT (tags : (cainstitution))"),
    )


def test_build_query_town_uses_circle_and_default_radius() -> None:
    region = RegionMatch(name="Testford", kind=RegionKind.TOWN, country="GB", lat=53.0, lon=-2.0)

    query = build_query(categories=["cafe"], terms=[], region=region)

    assert query.circle == sql.Circle(53.0, -2.0, 5.0)
