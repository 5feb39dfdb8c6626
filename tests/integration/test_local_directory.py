"""The local directory against SQLite: import (idempotent, failing cleanly, council keys and coverage records),
search by every region kind, inside then nearby, and the count that says before approval what a search returns.

Most tests use a made-up directory written to tmp_path; the ``data`` tests import the real open data once.
"""

from __future__ import annotations

import csv
import gzip
import re
import sqlite3
import statistics
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.directory import LAT, LON, row, write_csv
from wyshbone.bootstrap import open_context
from wyshbone.config import Settings
from wyshbone.domain.coverage import CouncilGap
from wyshbone.domain.gazetteer import Gazetteer
from wyshbone.domain.models import Lead, LeadMatch, RegionKind, RegionMatch, SupervisorUserContext
from wyshbone.domain.personas import categories_for, search_terms
from wyshbone.errors import DirectoryNotImportedError, InputError
from wyshbone.providers.directory_import import (
    DISTRICTS_FILE,
    PHASE_DISTRICTS,
    PHASE_INDEXING,
    PHASE_READING,
    ImportReport,
    default_import_paths,
    import_directory,
)
from wyshbone.providers.local_directory import (
    DirectoryCount,
    LocalDirectory,
    directory_info,
    search_directory,
)

ROWS = [
    row("1", "Test Cafe 1", "cafe", postcode="TF1 1AA", lat=LAT, lon=LON),
    row("2", "Test Coffee Corner 2", "restaurant", postcode="TF1 1AB", lat=LAT + 0.009, lon=LON),
    row("3", "Test Tea Room 3", "cafe", postcode="TF1 1AC", lat=LAT + 0.018, lon=LON),
    row("4", "Test Tea Room 4", "cafe", postcode="TF1 1AD", lat=LAT + 0.018, lon=LON),  # next door to 3
    row("5", "TEST CAFE-1", "cafe", postcode="tf1 1aa", lat=LAT, lon=LON + 0.001),  # a duplicate of 1
    row(
        "6",
        "Test School Cafe 6",
        "institution",
        postcode="TF1 1AE",
        lat=LAT,
        lon=LON,
        source_type="School/college/university",
    ),
    row("7", "Test Arms 7", "pub_bar", postcode="TF1 1AF", lat=LAT, lon=LON, source_type="Pub/bar/nightclub"),
    row("8", "Test Mobile Cafe 8", "mobile_caterer", la="Otherby", source_type="Mobile caterer"),
    row("9", "Test Cafe 9", "cafe", postcode="TF6 2AB", lat=LAT + 0.2, lon=LON, la="Otherby"),
    row("10", "Test Cafe 10", "cafe", postcode="TF60 1AA", lat=LAT + 0.3, lon=LON, la="Otherby"),
    row("11", "Test Cafe 11", "cafe", postcode="XX1 1AA", la="Testshire", county="", region="Far Region"),
    row("12", "Test Cafe 12", "cafe", postcode="XX2 1AA", la="Elsewhere", county="", region="Far Region"),
]


# The TF9 district's centre, 11 km north of Testford's, where a publisher put its "TF9" rows.
TF9_LAT, TF9_LON = LAT + 0.1, LON

DISTRICTS = [
    ["TF1", f"{LAT:.6f}", f"{LON:.6f}"],
    ["TF9", f"{TF9_LAT:.6f}", f"{TF9_LON:.6f}"],
    ["TF99", "", ""],  # a retired district: no centre
]

OUTWARD_ONLY_ROWS = [
    # only an outward code, at the publisher's Testford-wide default: moved to TF9's centre
    row("21", "Test Airport Cafe 21", "cafe", postcode="TF9", lat=LAT, lon=LON),
    # lower case, no coordinates at all: placed at TF9's centre too
    row("22", "Test Cafe 22", "cafe", postcode="tf9"),
    # a full postcode in the same district, with or without its space: the publisher's point stays
    row("23", "Test Cafe 23", "cafe", postcode="TF9 1AA", lat=LAT + 0.097, lon=LON),
    row("24", "Test Cafe 24", "cafe", postcode="TF91AB", lat=LAT + 0.105, lon=LON),
    # an outward code the districts file does not know: left alone
    row("25", "Test Cafe 25", "cafe", postcode="ZZ9", lat=LAT, lon=LON),
    # not a postcode at all
    row("26", "Test Cafe 26", "cafe", postcode="PRIVATE", lat=LAT, lon=LON),
]


def write_districts(path: Path, rows: Sequence[list[str]] = DISTRICTS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Postcode", "Latitude", "Longitude", "Easting", "Northing", "Town/Area"])
        writer.writerows([*r, "", "", "Testford"] for r in rows)
    return path


def stored(db: Path) -> dict[str, tuple[float | None, float | None, str | None]]:
    """id → (lat, lon, geocode) of every row in the directory."""
    with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        return {
            rid: (lat, lon, geo)
            for rid, lat, lon, geo in conn.execute("SELECT id, lat, lon, geocode FROM business")
        }


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "uk_businesses.csv.gz", ROWS)


@pytest.fixture
def db(tmp_path: Path, source: Path) -> Path:
    path = tmp_path / "directory.sqlite"
    import_directory([source], path)
    return path


def town(radius_km: float = 3.0, kind: RegionKind = RegionKind.TOWN) -> RegionMatch:
    return RegionMatch(name="Testford", kind=kind, country="GB", lat=LAT, lon=LON, radius_km=radius_km)


def field_region(kind: RegionKind, *values: str) -> RegionMatch:
    return RegionMatch(name=values[0], kind=kind, country="GB", field_value=values[0], field_values=values)


def ids(leads: Sequence[Lead]) -> list[str]:
    return [lead.source_id for lead in leads]


def cafes(db: Path, region: RegionMatch, *, limit: int = 50) -> list[Lead]:
    return search_directory(
        db, categories=["cafe"], terms=["coffee", "cafe", "café"], region=region, limit=limit
    )


# ---------------------------------------------------------------------------------------------- import


def test_import_directory_reports_rows_and_is_idempotent(tmp_path: Path, source: Path) -> None:
    path = tmp_path / "directory.sqlite"
    first = import_directory([source], path)
    before = cafes(path, town())
    second = import_directory([source], path)

    assert (first.rows_read, first.rows_written, first.files) == (12, 12, (source,))
    assert (second.rows_read, second.rows_written, second.files) == (12, 12, (source,))
    assert cafes(path, town()) == before
    info = directory_info(path)
    assert info is not None
    assert (info["row_count"], info["files"]) == (12, [str(source)])


def test_import_directory_upserts_by_id_across_files(tmp_path: Path, source: Path) -> None:
    renamed = write_csv(
        tmp_path / "uk_businesses_extra.csv.gz",
        [row("3", "Test Tea Room 3 Renamed", "cafe", postcode="TF1 1AC", lat=LAT + 0.018, lon=LON)],
    )
    path = tmp_path / "directory.sqlite"

    report = import_directory([source, renamed], path)

    assert (report.rows_read, report.rows_written) == (13, 12)
    names = [lead.name for lead in cafes(path, town()) if lead.source_id == "test_src:3"]
    assert names == ["Test Tea Room 3 Renamed"]


def test_import_directory_reports_progress_ending_at_the_total(tmp_path: Path, source: Path) -> None:
    calls: list[tuple[int, int | None]] = []

    import_directory(
        [source], tmp_path / "d.sqlite", on_progress=lambda done, total: calls.append((done, total))
    )

    assert calls[-1] == (12, 12)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_import_directory_announces_each_phase_after_the_rows(tmp_path: Path, source: Path) -> None:
    events: list[tuple[object, ...]] = []
    write_districts(tmp_path / DISTRICTS_FILE)

    import_directory(
        [source],
        tmp_path / "d.sqlite",
        on_progress=lambda done, total: events.append(("rows", done, total)),
        on_phase=lambda description: events.append(("phase", description)),
    )

    assert events == [
        ("phase", PHASE_READING),
        ("rows", 12, 12),
        ("phase", PHASE_DISTRICTS),
        ("phase", PHASE_INDEXING),
    ]


def test_import_directory_without_districts_skips_their_phase(tmp_path: Path, source: Path) -> None:
    phases: list[str] = []

    import_directory([source], tmp_path / "d.sqlite", on_phase=phases.append)

    assert phases == [PHASE_READING, PHASE_INDEXING]


# ---------------------------------------------------------------------------------------------- districts


@pytest.mark.parametrize(
    "explicit",
    [
        pytest.param(False, id="beside"),  # found beside the business file under its usual name
        pytest.param(True, id="explicit"),  # given as districts=, anywhere under any name
    ],
)
def test_import_directory_places_outward_code_only_rows_at_their_district_centre(
    tmp_path: Path, explicit: bool
) -> None:
    business = write_csv(tmp_path / "uk_businesses.csv.gz", OUTWARD_ONLY_ROWS)
    districts = write_districts(tmp_path / ("elsewhere.csv" if explicit else DISTRICTS_FILE))
    db = tmp_path / "d.sqlite"

    report = import_directory([business], db, districts=districts if explicit else None)

    assert (report.rows_written, report.districts, report.rows_at_district) == (6, districts, 2)
    assert directory_info(db)["districts"] == str(districts)  # type: ignore[index]
    assert stored(db) == {
        "test_src:21": (TF9_LAT, TF9_LON, "district"),
        "test_src:22": (TF9_LAT, TF9_LON, "district"),
        "test_src:23": (LAT + 0.097, LON, "source"),
        "test_src:24": (LAT + 0.105, LON, "source"),
        "test_src:25": (LAT, LON, "source"),
        "test_src:26": (LAT, LON, "source"),
    }
    # no longer in Testford, found around TF9's centre and by its district
    assert ids(cafes(db, town(3.0))) == ["test_src:25", "test_src:26"]
    near_tf9 = RegionMatch(
        name="TF9", kind=RegionKind.TOWN, country="GB", lat=TF9_LAT, lon=TF9_LON, radius_km=1
    )
    assert ids(cafes(db, near_tf9)) == ["test_src:21", "test_src:22", "test_src:23", "test_src:24"]
    assert ids(cafes(db, field_region(RegionKind.POSTCODE_DISTRICT, "TF9"))) == [
        "test_src:21",
        "test_src:22",
        "test_src:23",
        "test_src:24",
    ]


def test_import_directory_without_districts_file_keeps_the_publishers_points(tmp_path: Path) -> None:
    business = write_csv(tmp_path / "uk_businesses.csv.gz", OUTWARD_ONLY_ROWS)
    db = tmp_path / "d.sqlite"

    report = import_directory([business], db)

    assert (report.districts, report.rows_at_district) == (None, 0)
    assert directory_info(db)["districts"] is None  # type: ignore[index]
    assert stored(db)["test_src:21"] == (LAT, LON, "source")
    assert stored(db)["test_src:22"] == (None, None, None)
    # an outward code alone is still its row's district
    assert ids(cafes(db, field_region(RegionKind.POSTCODE_DISTRICT, "tf9"))) == [
        "test_src:21",
        "test_src:22",
        "test_src:23",
        "test_src:24",
    ]


def test_import_directory_with_districts_is_idempotent(tmp_path: Path) -> None:
    business = write_csv(tmp_path / "uk_businesses.csv.gz", OUTWARD_ONLY_ROWS)
    write_districts(tmp_path / DISTRICTS_FILE)
    db = tmp_path / "d.sqlite"
    import_directory([business], db)
    first = stored(db)

    report = import_directory([business], db)

    assert (report.rows_written, report.rows_at_district) == (6, 2)
    assert stored(db) == first


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # no centre columns
        ("Postcode,Town/Area\nTF9,Testford\n", "not a postcode districts file"),
        # a centre that is not a number
        ("Postcode,Latitude,Longitude\nTF9,north,-2.0\n", r"line 2: the centre 'north', '-2.0' of TF9"),
        # not text
        (b"\xff\xfe\x00bad".decode("latin-1"), "cannot be read"),
    ],
)
def test_import_directory_bad_districts_file_leaves_the_directory_as_it_was(
    db: Path, source: Path, tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "districts.csv"
    bad.write_bytes(content.encode("latin-1"))
    before = stored(db)

    with pytest.raises(InputError, match=message):
        import_directory([source], db, districts=bad)

    assert stored(db) == before


def test_import_directory_missing_districts_file_raises_input_error(tmp_path: Path, source: Path) -> None:
    with pytest.raises(InputError, match=r"districts file not found: .*nope\.csv"):
        import_directory([source], tmp_path / "d.sqlite", districts=tmp_path / "nope.csv")

    assert directory_info(tmp_path / "d.sqlite") is None


def test_import_directory_missing_file_raises_input_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv.gz"

    with pytest.raises(InputError, match=r"not found: .*nope\.csv\.gz"):
        import_directory([missing], tmp_path / "d.sqlite")

    assert directory_info(tmp_path / "d.sqlite") is None


def test_import_directory_bad_header_leaves_the_directory_as_it_was(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv.gz"
    with gzip.open(bad, "wt", encoding="utf-8") as f:
        f.write("name,postcode\nTest Cafe X,TF1 1ZZ\n")
    before = cafes(db, town())

    with pytest.raises(InputError, match="not a directory file"):
        import_directory([bad], db)

    assert cafes(db, town()) == before
    assert directory_info(db) is not None


def test_import_directory_rebuilds_a_directory_of_another_schema_version(db: Path, source: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE directory_meta SET value = '0' WHERE key = 'schema_version'")
    conn.close()
    assert directory_info(db) is None

    report = import_directory([source], db)

    assert (report.rows_written, directory_info(db)["row_count"]) == (12, 12)  # type: ignore[index]
    assert ids(cafes(db, town(0.5))) == ["test_src:1"]


def test_default_import_paths_lists_only_business_files(tmp_path: Path) -> None:
    for name in ("uk_businesses.csv.gz", "uk_businesses_extra_pubs.csv.gz", "gb_places.csv", "other.csv.gz"):
        (tmp_path / name).write_bytes(b"")

    assert default_import_paths(tmp_path) == [
        tmp_path / "uk_businesses.csv.gz",
        tmp_path / "uk_businesses_extra_pubs.csv.gz",
    ]
    assert default_import_paths(tmp_path / "absent") == []


# ---------------------------------------------------------------------------------------------- not imported


@pytest.mark.parametrize(
    "prepare",
    [
        pytest.param(lambda p: None, id="no-file"),  # nothing at the path
        pytest.param(lambda p: sqlite3.connect(p).close(), id="empty-sqlite"),  # a database, never imported
        pytest.param(lambda p: p.write_bytes(b"not a database" * 100), id="not-sqlite"),  # some other file
    ],
)
def test_search_directory_not_imported_raises(tmp_path: Path, prepare: Callable[[Path], object]) -> None:
    path = tmp_path / "directory.sqlite"
    prepare(path)

    with pytest.raises(DirectoryNotImportedError):
        cafes(path, town())
    assert directory_info(path) is None


# ---------------------------------------------------------------------------------------------- search


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        # within 3 km of the centre: 1 (its duplicate 5 dropped), 3 and 4 at 2 km, 2 at 1 km; by relevance first
        (town(), ["test_src:1", "test_src:3", "test_src:4", "test_src:2"]),
        # an area is searched the same way as a town
        (town(kind=RegionKind.AREA), ["test_src:1", "test_src:3", "test_src:4", "test_src:2"]),
        # a 1.5 km radius leaves the tea rooms 2 km away outside: they top it up, labelled nearby (see below)
        (town(1.5), ["test_src:1", "test_src:2", "test_src:3", "test_src:4"]),
        # county: the county field or the council field (11 has "Testshire" as its council); with no distance,
        # equal relevance goes by id, and 8 (no postcode) comes last
        (
            field_region(RegionKind.COUNTY, "Testshire"),
            [f"test_src:{n}" for n in (1, 10, 11, 9, 3, 4, 2, 8)],
        ),
        # council: either field too; several values widen the search
        (
            field_region(RegionKind.LOCAL_AUTHORITY, "Otherby", "Elsewhere"),
            ["test_src:10", "test_src:12", "test_src:9", "test_src:8"],
        ),
        # region field
        (field_region(RegionKind.REGION, "Far Region"), ["test_src:11", "test_src:12"]),
        # postcode district: TF6 must not match TF60
        (field_region(RegionKind.POSTCODE_DISTRICT, "TF6"), ["test_src:9"]),
        # lower-case district as typed
        (field_region(RegionKind.POSTCODE_DISTRICT, "tf60"), ["test_src:10"]),
        # a city abroad is not in the GB directory
        (
            RegionMatch(
                name="Paris", kind=RegionKind.WORLD_CITY, country="FR", lat=48.85, lon=2.35, radius_km=5
            ),
            [],
        ),
    ],
)
def test_search_directory_by_region_kind(db: Path, region: RegionMatch, expected: list[str]) -> None:
    assert ids(cafes(db, region)) == expected


def test_search_directory_ranks_category_and_name_then_distance_then_id(db: Path) -> None:
    leads = cafes(db, town())

    assert [(lead.source_id, lead.score, lead.distance_km) for lead in leads] == [
        # category cafe + "cafe" in the name + a postcode, at the centre
        ("test_src:1", 1.69, 0.0),
        # category only, 2 km away at the same spot: the smaller id first
        ("test_src:3", 1.0633, 2.002),
        ("test_src:4", 1.0633, 2.002),
        # "coffee" in the name only, though nearer
        ("test_src:2", 0.6767, 1.001),
    ]


def test_search_directory_dedupes_same_name_and_postcode(db: Path) -> None:
    # 1 and 5 are "Test Cafe 1" / "TEST CAFE-1" at "TF1 1AA" / "tf1 1aa": the better-ranked one stays.
    leads = cafes(db, town(0.5))

    assert ids(leads) == ["test_src:1"]


def test_search_directory_lead_carries_provenance(db: Path) -> None:
    lead = cafes(db, town(0.5))[0]

    assert lead == Lead(
        name="Test Cafe 1",
        source="test_src",
        source_id="test_src:1",
        source_date="2024-01-02",
        category="cafe",
        source_type="Restaurant/Cafe/Canteen",
        address="1 Test Street, Testford",
        postcode="TF1 1AA",
        post_town="Testford",
        local_authority="Testford",
        county="Testshire",
        region="Test Region",
        lat=LAT,
        lon=LON,
        distance_km=0.0,
        score=1.69,
        match=LeadMatch(
            area="inside",
            kind="name",
            reasons=[
                "test_src type Restaurant/Cafe/Canteen",
                "name contains 'Cafe'",
                "0.0 km from Testford centre, in Testford",
            ],
        ),
        provenance={
            field: "test_src"
            for field in (
                "name",
                "category",
                "source_type",
                "address",
                "postcode",
                "post_town",
                "local_authority",
                "county",
                "region",
                "lat",
                "lon",
            )
        },
    )


@pytest.mark.parametrize(
    ("categories", "terms", "expected"),
    [
        # free text only: name matches first, then source_type matches ("Pub/bar/nightclub")
        ([], ["arms", "pub"], ["test_src:7"]),
        # institutions only when asked for
        (["institution"], [], ["test_src:6"]),
        # a term of two words needs both
        ([], ["tea room"], ["test_src:3", "test_src:4"]),
        # a business without coordinates is never within a radius
        (["mobile_caterer"], [], []),
    ],
)
def test_search_directory_persona(
    db: Path, categories: list[str], terms: list[str], expected: list[str]
) -> None:
    leads = search_directory(db, categories=categories, terms=terms, region=town(), limit=10)

    assert ids(leads) == expected


def test_search_directory_free_text_ranks_name_above_source_type(db: Path) -> None:
    # "cafe" is in the name and the source_type ("Restaurant/Cafe/Canteen") of 1, in the source_type only of
    # 2, 3 and 4; with equal relevance the nearer 2 comes first.
    leads = search_directory(db, categories=[], terms=["cafe"], region=town(), limit=10)

    assert [(lead.source_id, lead.score) for lead in leads] == [
        ("test_src:1", 0.99),
        ("test_src:2", 0.3767),
        ("test_src:3", 0.3633),
        ("test_src:4", 0.3633),
    ]


def test_search_directory_limit_counts_after_dedupe(db: Path) -> None:
    assert ids(cafes(db, town(), limit=2)) == ["test_src:1", "test_src:3"]
    assert cafes(db, town(), limit=0) == []


@pytest.mark.parametrize(
    ("categories", "terms", "region", "message"),
    [
        # nothing to look for
        ([], [" "], town(), "needs categories or search terms"),
        # a town the gazetteer could not place
        (["cafe"], [], RegionMatch(name="Nowhere", kind=RegionKind.TOWN, country="GB"), "no coordinates"),
    ],
)
def test_search_directory_bad_input_raises(
    db: Path, categories: list[str], terms: list[str], region: RegionMatch, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        search_directory(db, categories=categories, terms=terms, region=region, limit=10)


def test_local_directory_serves_several_searches_on_one_connection(db: Path) -> None:
    with LocalDirectory(db) as directory:
        first = directory.search(categories=["cafe"], terms=[], region=town(), limit=10)
        second = directory.search(categories=["pub_bar"], terms=[], region=town(), limit=10)

    # "Test Coffee Corner 2" is filed as a restaurant, but a café's name in a compatible type makes it one too.
    assert (ids(first), ids(second)) == (
        ["test_src:1", "test_src:3", "test_src:4", "test_src:2"],
        ["test_src:7"],
    )


# ---------------------------------------------------------------------------------------------- real data


def _gb_town(name: str, lat: float, lon: float) -> RegionMatch:
    return RegionMatch(name=name, kind=RegionKind.TOWN, country="GB", lat=lat, lon=lon, radius_km=6.0)


REAL_SEARCHES = [
    # "coffee shops in Manchester": Manchester, Salford and Trafford share M postcodes
    pytest.param(
        ["cafe"],
        ["coffee", "cafe", "café"],
        _gb_town("Manchester", 53.48095, -2.23743),
        r"^M\d",
        id="coffee-manchester",
    ),
    # "pubs in Leeds": Leeds has pubs only from the Open Pubs file
    pytest.param(
        ["pub_bar"],
        ["pub", "inn", "tavern", "arms"],
        _gb_town("Leeds", 53.79648, -1.54785),
        r"^LS\d",
        id="pubs-leeds",
    ),
    # "dentists in Bristol": NHS dental practices
    pytest.param(
        ["dentist"],
        ["dental", "dentist"],
        _gb_town("Bristol", 51.45523, -2.59665),
        r"^BS\d",
        id="dentists-bristol",
    ),
]


@pytest.mark.data
@pytest.mark.timeout(300)
def test_import_directory_full_data_imports_every_row(real_db: tuple[Path, ImportReport]) -> None:
    path, report = real_db

    assert report.rows_read == 531_961 + 3_439
    assert report.rows_written == directory_info(path)["row_count"]  # type: ignore[index]
    assert report.rows_written > 530_000  # import time is measured in bench/, not asserted here


@pytest.mark.data
@pytest.mark.timeout(300)
@pytest.mark.parametrize(("categories", "terms", "region", "postcode"), REAL_SEARCHES)
def test_search_directory_real_town_returns_local_rows(
    real_db: tuple[Path, ImportReport],
    categories: list[str],
    terms: list[str],
    region: RegionMatch,
    postcode: str,
) -> None:
    leads = search_directory(real_db[0], categories=categories, terms=terms, region=region, limit=40)

    assert len(leads) == 40
    assert [lead.category for lead in leads] == categories * 40
    assert [lead.postcode for lead in leads if not re.match(postcode, lead.postcode or "")] == []
    assert all(lead.distance_km is not None and lead.distance_km <= 6.0 for lead in leads)
    assert all(lead.provenance["name"] == lead.source for lead in leads)


@pytest.mark.data
@pytest.mark.timeout(300)
def test_search_directory_real_outward_code_only_row_is_not_in_manchester_centre(
    real_db: tuple[Path, ImportReport],
) -> None:
    # Starbucks at Manchester Airport, Terminal 1: postcode "M22" only, published at the city centre.
    path, report = real_db
    manchester = _gb_town("Manchester", 53.48095, -2.23743)

    leads = search_directory(
        path, categories=["cafe"], terms=["coffee", "cafe", "café"], region=manchester, limit=5_000
    )

    inside = [lead for lead in leads if lead.match is not None and lead.match.area == "inside"]
    assert (
        40 < len(inside) < len(leads) < 5_000
    )  # every cafe within 6 km, then those nearby, not a page of them
    # 10.7 km from the centre: at most nearby (topping up after every café inside), labelled so
    assert "fsa_fhrs:331182" not in ids(inside)
    assert stored(path)["fsa_fhrs:331182"] == (53.385, -2.26126, "district")  # M22's centre, Wythenshawe
    assert report.rows_at_district > 800


@pytest.mark.data
@pytest.mark.timeout(300)
def test_search_directory_real_region_returns_yorkshire_breweries(real_db: tuple[Path, ImportReport]) -> None:
    region = field_region(RegionKind.REGION, "Yorkshire and The Humber")

    leads = search_directory(
        real_db[0],
        categories=["brewery"],
        terms=["brewery", "brewing", "brewers", "brew"],
        region=region,
        limit=40,
    )

    # Every one a brewery by its type, or by its name within a compatible type (no café called "Brew ...").
    assert len(leads) >= 25
    assert {lead.region for lead in leads} == {"Yorkshire and The Humber"}
    assert all(lead.match is not None and lead.match.area == "inside" for lead in leads)
    assert [
        lead.name
        for lead in leads
        if lead.source_type in ("Restaurant/Cafe/Canteen", "Takeaway/sandwich shop")
    ] == []
    assert sum(lead.category == "brewery" for lead in leads) >= 25


# ---------------------------------------------------------------------------------------------- place and kind

# Testford is its own council (no county); Otherby its neighbour to the east; Smallton a town of Testdale, a
# district of Testshire. Pubton's open data holds pubs only (no FSA file for it). 0.009° of latitude ≈ 1 km.
E = 0.015  # ≈ 1 km of longitude at 53°N
PLACES_ROWS = [
    row("c1", "Testford Cafe", "cafe", postcode="TF1 1AA", lat=LAT, lon=LON, la="Testford", county="", source="fsa_fhrs"),
    row("c2", "Edge Cafe", "cafe", postcode="TF8 1AA", lat=LAT + 0.072, lon=LON, la="Testford", county="", source="fsa_fhrs"),
    row("c3", "Border Cafe", "cafe", postcode="OB1 1AA", lat=LAT, lon=LON + 2 * E, la="Otherby", county="", source="fsa_fhrs"),
    row("c4", "Far Cafe", "cafe", postcode="OB9 1AA", lat=LAT, lon=LON + 20 * E, la="Otherby", county="", source="fsa_fhrs"),
    # one business, three records: a café and a takeaway (another type), and the café again (the same type)
    row("t1", "Twin Cafe", "cafe", postcode="TF1 9ZZ", lat=LAT + 0.001, lon=LON, la="Testford", county="", source="fsa_fhrs"),
    row("t2", "Twin Cafe", "cafe", postcode="TF1 9ZZ", lat=LAT + 0.001, lon=LON, la="Testford", county="", source="fsa_fhrs", source_type="Takeaway/sandwich shop"),
    row("t3", "TWIN CAFE", "cafe", postcode="tf19zz", lat=LAT + 0.001, lon=LON, la="Testford", county="", source="fsa_fhrs"),
    # the NHS spells Testford's council the Welsh way
    row("d1", "Testford Dental", "dentist", postcode="TF1 2AA", lat=LAT, lon=LON, la="Caerdydd - Testford", county="", source="nhs_ods_dental", source_type="General Dental Practice (D)"),
    row("s1", "Smallton Cafe", "cafe", postcode="SM1 1AA", lat=LAT + 1.0, lon=LON, la="Testdale", county="Testshire", source="fsa_fhrs"),
    row("s2", "Outlying Cafe", "cafe", postcode="SM9 1AA", lat=LAT + 1.045, lon=LON, la="Testdale", county="Testshire", source="fsa_fhrs"),
    row("p1", "The Testford Arms", "pub_bar", postcode="PB1 1AA", lat=LAT - 1.0, lon=LON, la="Pubton", county="", source="open_pubs", source_type="Pub/bar/nightclub"),
]  # fmt: skip


@pytest.fixture
def places_db(tmp_path: Path) -> Path:
    path = tmp_path / "places.sqlite"
    import_directory([write_csv(tmp_path / "uk_businesses.csv.gz", PLACES_ROWS)], path)
    return path


def _own_town(name: str, lat: float, radius: float = 3.0) -> RegionMatch:
    return RegionMatch(
        name=name,
        kind=RegionKind.TOWN,
        country="GB",
        lat=lat,
        lon=LON,
        radius_km=radius,
        local_authority=name,
    )


def _areas(leads: Sequence[Lead]) -> list[tuple[str, str, list[str]]]:
    return [(lead.source_id, lead.match.area, lead.match.reasons[-1:]) for lead in leads if lead.match]


def test_search_directory_town_that_is_its_council_is_inside_then_nearby(places_db: Path) -> None:
    leads = cafes(places_db, _own_town("Testford", LAT))

    assert _areas(leads) == [
        ("fsa_fhrs:c1", "inside", ["in Testford, 0.0 km from the centre"]),
        ("fsa_fhrs:t1", "inside", ["in Testford, 0.1 km from the centre"]),  # one lead for three records
        ("fsa_fhrs:c2", "inside", ["in Testford, 8.0 km from the centre"]),  # its council, beyond 3 km
        ("fsa_fhrs:c3", "nearby", ["in Otherby, 2.0 km from Testford centre"]),  # next door, another council
    ]


def test_search_directory_town_within_a_larger_council_is_its_radius(places_db: Path) -> None:
    smallton = RegionMatch(
        name="Smallton", kind=RegionKind.TOWN, country="GB", lat=LAT + 1.0, lon=LON, radius_km=3.0,
        local_authority="Testdale",
    )  # fmt: skip

    leads = cafes(places_db, smallton)

    assert _areas(leads) == [
        ("fsa_fhrs:s1", "inside", ["0.0 km from Smallton centre, in Testdale"]),
        (
            "fsa_fhrs:s2",
            "nearby",
            ["5.0 km from Smallton centre, beyond the 3 km taken as Smallton, in Testdale"],
        ),
    ]


def test_search_directory_reconciles_council_spellings(places_db: Path) -> None:
    leads = search_directory(
        places_db, categories=["dentist"], terms=["dental"], region=_own_town("Testford", LAT), limit=10
    )

    assert _areas(leads) == [("nhs_ods_dental:d1", "inside", ["in Testford, 0.0 km from the centre"])]
    assert stored_councils(places_db)["nhs_ods_dental:d1"] == "testford"


def stored_councils(db: Path) -> dict[str, str | None]:
    with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        return dict(conn.execute("SELECT id, council FROM business"))


def test_import_directory_records_coverage_per_council_and_source(places_db: Path) -> None:
    with closing(sqlite3.connect(f"{places_db.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        records = conn.execute(
            "SELECT council, source, name, county, categories, rows, first_date, last_date FROM coverage"
            " ORDER BY council, source"
        ).fetchall()

    assert records == [
        ("otherby", "fsa_fhrs", "Otherby", None, "cafe", 2, "2024-01-02", "2024-01-02"),
        ("pubton", "open_pubs", "Pubton", None, "pub_bar", 1, "2024-01-02", "2024-01-02"),
        ("testdale", "fsa_fhrs", "Testdale", "Testshire", "cafe", 2, "2024-01-02", "2024-01-02"),
        ("testford", "fsa_fhrs", "Testford", None, "cafe", 5, "2024-01-02", "2024-01-02"),
        ("testford", "nhs_ods_dental", "Testford", None, "dentist", 1, "2024-01-02", "2024-01-02"),
    ]


@pytest.mark.parametrize(
    ("region", "persona", "categories", "expected"),
    [
        # the three records of the Twin Cafe count once, as the search returns them
        (_own_town("Testford", LAT), "cafe", ["cafe"], (3, 1, (), (("FSA", "2024-01-02"), ("NHS dental", "2024-01-02")))),
        # Pubton's open data holds pubs only: a restaurant cannot be there, and the coverage records say why
        (
            _own_town("Pubton", LAT - 1.0),
            "restaurant",
            ["restaurant"],
            (0, 0, (CouncilGap("Pubton", ("pub_bar",), ("FSA",)),), (("Open Pubs", "2024-01-02"),)),
        ),
    ],
)  # fmt: skip
def test_local_directory_count_is_what_the_search_returns(
    places_db: Path,
    region: RegionMatch,
    persona: str,
    categories: list[str],
    expected: tuple[int, int, tuple[CouncilGap, ...], tuple[tuple[str, str], ...]],
) -> None:
    with LocalDirectory(places_db) as directory:
        counted = directory.count(categories=categories, terms=[], region=region, persona=persona)
        leads = directory.search(categories=categories, terms=[], region=region, persona=persona, limit=100)

    assert (counted.inside, counted.nearby, counted.gaps, counted.dates) == expected
    assert [lead.match.area for lead in leads if lead.match] == ["inside"] * counted.inside + ["nearby"] * (
        counted.nearby or 0
    )


# ---------------------------------------------------------------------------------------------- real data: goals


def _place(gazetteer: Gazetteer, name: str) -> RegionMatch:
    found = gazetteer.find_place(name)
    assert found is not None, name
    return found.to_region_match()


def _real(
    db: Path,
    gazetteer: Gazetteer,
    persona: str,
    place: str,
    qualifiers: Sequence[str] = (),
    limit: int = 5_000,
) -> tuple[list[Lead], DirectoryCount]:
    region = _place(gazetteer, place)
    asked = {
        "categories": categories_for(persona),
        "terms": search_terms(persona),
        "region": region,
        "persona": persona,
        "qualifiers": qualifiers,
    }
    with LocalDirectory(db) as directory:
        return directory.search(**asked, limit=limit), directory.count(**asked)  # type: ignore[arg-type]


@pytest.mark.data
@pytest.mark.timeout(300)
def test_real_italian_restaurants_in_birmingham_are_nearby_and_italian_looking(
    real_db: tuple[Path, ImportReport], gazetteer: Gazetteer
) -> None:
    leads, counted = _real(real_db[0], gazetteer, "restaurant", "Birmingham", ["italian"], limit=40)

    # Birmingham City Council's open data holds pubs and dentists only: none inside, and the reason recorded
    assert counted.inside == 0
    assert counted.gaps == (CouncilGap("Birmingham", ("pub_bar", "dentist"), ("FSA",)),)
    assert 10 <= len(leads) == counted.nearby
    for lead in leads:
        assert lead.match is not None
        assert lead.match.area == "nearby" and lead.local_authority != "Birmingham"
        assert lead.match.reasons[-1].startswith(f"in {lead.local_authority}, ")
        assert lead.match.qualifiers == {"italian": "name"}
        assert lead.source_type == "Restaurant/Cafe/Canteen" or lead.match.kind == "name"


@pytest.mark.data
@pytest.mark.timeout(300)
def test_real_takeaways_in_liverpool_are_inside_or_labelled(
    real_db: tuple[Path, ImportReport], gazetteer: Gazetteer
) -> None:
    leads, counted = _real(real_db[0], gazetteer, "takeaway", "Liverpool")

    assert counted.inside > 500
    for lead in leads:
        assert lead.match is not None
        inside = lead.local_authority == "Liverpool"
        assert (lead.match.area == "inside") == inside, (lead.name, lead.local_authority)
        if not inside:  # Bootle (Sefton), Knowsley, the Wirral: said so
            assert lead.match.reasons[-1].startswith(f"in {lead.local_authority}, ")
    assert {lead.local_authority for lead in leads if lead.match and lead.match.area == "nearby"} >= {
        "Sefton",
        "Knowsley",
    }


@pytest.mark.data
@pytest.mark.timeout(300)
def test_real_dentists_in_cardiff_under_both_spellings(
    real_db: tuple[Path, ImportReport], gazetteer: Gazetteer
) -> None:
    leads, counted = _real(real_db[0], gazetteer, "dentist", "Cardiff")

    inside = [lead for lead in leads if lead.match and lead.match.area == "inside"]
    nearby = [lead for lead in leads if lead.match and lead.match.area == "nearby"]
    assert len(inside) == counted.inside > 50
    assert {lead.local_authority for lead in inside} == {"Caerdydd - Cardiff"}  # the NHS's spelling
    assert "Bro Morgannwg - the Vale of Glamorgan" in {lead.local_authority for lead in nearby}
    assert all(lead.match and lead.match.kind in ("category", "category+name") for lead in leads)


@pytest.mark.data
@pytest.mark.timeout(300)
async def test_real_ten_gyms_in_manchester_are_warned_about_before_approval(
    real_db: tuple[Path, ImportReport], data_dir: Path, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home", directory_path=real_db[0], open_data_dir=data_dir)
    sup = await open_context(settings)
    try:
        plan = await sup.plans.start_plan("Find 10 gyms in Manchester", SupervisorUserContext(user_id="u1"))
    finally:
        await sup.close()

    (coverage,) = plan.estimate.coverage
    assert (coverage.provider, coverage.available) == ("local_directory", 1)
    shortfall, kind = plan.warnings[:2]
    # "... in Manchester and 4 nearby; ...": Salford's and Tameside's gyms, labelled, top it up
    assert shortfall.startswith("The directory holds 1 business like 'gym' in Manchester and ")
    assert shortfall.endswith("; 10 were asked for. Set up Google Places or OpenStreetMap to look further.")
    assert kind == (
        "The directory's open data covers food, drink and dental businesses, not gyms: 'gym' is matched on "
        "business names only."
    )


COUNTED_GOALS = [
    ("coffee shop", "Manchester", ()),
    ("restaurant", "Birmingham", ("italian",)),
    ("takeaway", "Liverpool", ()),
    ("dentist", "Cardiff", ()),
    ("gym", "Manchester", ()),
    ("brewery", "Bristol", ("craft",)),
    ("cafe", "Brighton", ("vegan",)),
    ("cafe", "Harrogate", ()),
    ("pub", "Inverness", ()),
    ("restaurant", "Kent", ()),
    ("pizzeria", "Leicester", ()),
    ("restaurant", "London", ()),
    ("coffee shop", "Leeds", ("independent",)),
    ("hotel", "York", ()),
    ("brewery", "Yorkshire", ()),
]


@pytest.mark.data
@pytest.mark.timeout(300)
def test_real_count_equals_what_the_search_returns_within_20_ms(
    real_db: tuple[Path, ImportReport], gazetteer: Gazetteer
) -> None:
    times: list[float] = []
    with LocalDirectory(real_db[0]) as directory:
        for persona, place, qualifiers in COUNTED_GOALS:
            asked: dict[str, Any] = {
                "categories": categories_for(persona),
                "terms": search_terms(persona),
                "region": _place(gazetteer, place),
                "persona": persona,
                "qualifiers": qualifiers,
            }
            leads = directory.search(**asked, limit=100_000)
            for _ in range(5):
                started = time.perf_counter()
                counted = directory.count(**asked)
                times.append((time.perf_counter() - started) * 1000)
            areas = [lead.match.area for lead in leads if lead.match]
            assert (areas.count("inside"), areas.count("nearby")) == (counted.inside, counted.nearby or 0), (
                persona
            )
    assert statistics.quantiles(times, n=100, method="inclusive")[94] <= 20.0
