"""Every SQL statement of the local business directory, and the FTS5 vocabulary its index is written in.

Besides ``name`` and ``source_type``, the FTS5 index has a ``tags`` column of made-up tokens (category, council,
county, region, postcode district and grid cells around lat/lon), so one ``MATCH`` does persona and region at once.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SCHEMA_VERSION = "1"
"""Bumped whenever the tables change: a directory of another version is rebuilt by the next import."""

CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "source",
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
    "geocode",
    "phone",
    "website",
    "source_date",
)
"""The 17 columns of ``uk_businesses*.csv.gz``, in file order."""

LEAD_COLUMNS: tuple[str, ...] = tuple(c for c in CSV_COLUMNS if c != "geocode")
"""Columns a search returns, in order (``geocode`` only says how lat/lon were found)."""

# ------------------------------------------------------------------------------------------ schema and load

CREATE_TABLES = """
CREATE TABLE IF NOT EXISTS business (
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT,
    source_type TEXT,
    address TEXT,
    postcode TEXT,
    post_town TEXT,
    local_authority TEXT,
    county TEXT,
    region TEXT,
    lat REAL,
    lon REAL,
    geocode TEXT,
    phone TEXT,
    website TEXT,
    source_date TEXT,
    outward TEXT
);
CREATE TABLE IF NOT EXISTS directory_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

DROP_TABLES = """
DROP TABLE IF EXISTS business_fts;
DROP TABLE IF EXISTS business;
DROP TABLE IF EXISTS directory_meta;
"""
"""Run before importing over a directory of another schema version."""

# The outward code ("LS6" of "LS6 1AB") is derived in SQL so the bulk load runs no Python per row. A postcode
# that is only an outward code ("M22": one or two letters, a digit, maybe a letter or digit) is its own.
_OUTWARD = (
    "CASE WHEN instr(?7, ' ') > 0 THEN upper(substr(?7, 1, instr(?7, ' ') - 1))"
    " WHEN length(?7) BETWEEN 5 AND 7 AND ?7 GLOB '*[0-9][A-Za-z][A-Za-z]'"
    " THEN upper(substr(?7, 1, length(?7) - 3))"
    " WHEN length(?7) BETWEEN 2 AND 4 AND (?7 GLOB '[A-Za-z][0-9]' OR ?7 GLOB '[A-Za-z][0-9][0-9A-Za-z]'"
    " OR ?7 GLOB '[A-Za-z][A-Za-z][0-9]' OR ?7 GLOB '[A-Za-z][A-Za-z][0-9][0-9A-Za-z]') THEN upper(?7) END"
)


def _upsert_sql() -> str:
    values = ["?1", "?2", "?3"]
    for n, column in enumerate(CSV_COLUMNS[3:], start=4):
        values.append(f"CAST(NULLIF(?{n}, '') AS REAL)" if column in ("lat", "lon") else f"NULLIF(?{n}, '')")
    columns = (*CSV_COLUMNS, "outward")
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    return (
        f"INSERT INTO business ({', '.join(columns)}) VALUES ({', '.join(values)}, {_OUTWARD})"
        f" ON CONFLICT(id) DO UPDATE SET {updates}"
    )


UPSERT_ROW = _upsert_sql()
"""Upsert one CSV row (17 text parameters) by id: empty strings become NULL, lat/lon REAL."""

GEOCODE_DISTRICT = "district"
"""``geocode`` of a row placed at its postcode district's centre because its postcode is only an outward code."""

# The publisher's coordinates of a row whose postcode is only an outward code are often a council-wide default
# (Manchester Airport's "M22" at the city centre); the district's centre is the best place its postcode gives.
CREATE_DISTRICTS = (
    "CREATE TEMP TABLE postcode_district (outward TEXT PRIMARY KEY, lat REAL NOT NULL, lon REAL NOT NULL)"
    " WITHOUT ROWID"
)

PUT_DISTRICT = "INSERT OR REPLACE INTO temp.postcode_district(outward, lat, lon) VALUES (?, ?, ?)"

# For a full postcode the outward code is shorter than the postcode, so equality means "only an outward code".
PLACE_AT_DISTRICTS = (
    f"UPDATE business SET lat = d.lat, lon = d.lon, geocode = '{GEOCODE_DISTRICT}'"
    " FROM temp.postcode_district AS d"
    " WHERE business.outward = d.outward AND upper(business.postcode) = business.outward"
)
"""Place every row whose postcode is only an outward code at its district's centre."""

DROP_DISTRICTS = "DROP TABLE IF EXISTS temp.postcode_district"

TAGS_FUNCTION = "directory_tags"
"""Name under which the import registers ``row_tags`` for ``FILL_FTS``."""

DROP_FTS = "DROP TABLE IF EXISTS business_fts"

# Contentless (the text lives in ``business``) and detail=column (column filters, no phrase positions):
# a smaller index that is quicker to build and to intersect.
CREATE_FTS = """
CREATE VIRTUAL TABLE business_fts USING fts5(
    name, source_type, tags,
    content='', detail=column, tokenize='unicode61 remove_diacritics 2'
)
"""

FILL_FTS = (
    "INSERT INTO business_fts(rowid, name, source_type, tags)"
    f" SELECT rowid, name, source_type, {TAGS_FUNCTION}(category, local_authority, county, region, outward, lat, lon)"
    " FROM business"
)

OPTIMIZE_FTS = "INSERT INTO business_fts(business_fts) VALUES ('optimize')"

COUNT_ROWS = "SELECT COUNT(*) FROM business"

LIST_CATEGORIES = "SELECT DISTINCT category FROM business WHERE category IS NOT NULL ORDER BY category"

PUT_META = "INSERT OR REPLACE INTO directory_meta(key, value) VALUES (?, ?)"

GET_META = "SELECT key, value FROM directory_meta"

META_EXISTS = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'directory_meta'"

# ------------------------------------------------------------------------------------------ tag vocabulary
# A tag is a two-letter prefix and a slug: all letters and digits, so the tokenizer keeps it whole.

CATEGORY, LOCAL_AUTHORITY, COUNTY, REGION, OUTWARD = "ca", "la", "co", "rg", "pc"

GRID_LEVELS: tuple[tuple[str, float, float], ...] = (("ga", 0.05, 0.08), ("gb", 0.2, 0.32), ("gc", 0.8, 1.28))
"""(prefix, cell height °lat, cell width °lon): cells of about 5.5, 22 and 88 km across in Britain."""

MAX_CELLS = 16
"""Most cells one radius search ORs together; past that it drops to a coarser grid level."""

KM_PER_DEGREE = 111.195


@functools.lru_cache(maxsize=8192)
def slug(value: str) -> str:
    """Lowercase ASCII letters and digits only: "Yorkshire and The Humber" → "yorkshireandthehumber"."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", ascii_text.lower())


def tag(prefix: str, value: str) -> str:
    return prefix + slug(value)


def _cell(prefix: str, dlat: float, dlon: float, lat: float, lon: float) -> str:
    return f"{prefix}{math.floor((lat + 90) / dlat)}n{math.floor((lon + 180) / dlon)}"


def row_tags(
    category: str | None,
    local_authority: str | None,
    county: str | None,
    region: str | None,
    outward: str | None,
    lat: float | None,
    lon: float | None,
) -> str:
    """The ``tags`` text of one row (registered as the SQL function ``directory_tags``)."""
    fields = ((CATEGORY, category), (LOCAL_AUTHORITY, local_authority), (COUNTY, county))
    tags = [tag(prefix, value) for prefix, value in (*fields, (REGION, region), (OUTWARD, outward)) if value]
    if lat is not None and lon is not None:
        tags += [_cell(prefix, dlat, dlon, lat, lon) for prefix, dlat, dlon in GRID_LEVELS]
    return " ".join(tags)


def cells_covering(*, lat: float, lon: float, radius_km: float) -> list[str] | None:
    """Grid-cell tags covering the box around a circle, at the finest level needing at most ``MAX_CELLS``.

    None when the circle is too large for any level (the search then goes without a place prefilter).
    """
    dlat_box = radius_km / KM_PER_DEGREE
    dlon_box = radius_km / (KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    for prefix, dlat, dlon in GRID_LEVELS:
        rows = range(math.floor((lat - dlat_box + 90) / dlat), math.floor((lat + dlat_box + 90) / dlat) + 1)
        cols = range(math.floor((lon - dlon_box + 180) / dlon), math.floor((lon + dlon_box + 180) / dlon) + 1)
        if len(rows) * len(cols) <= MAX_CELLS:
            return [f"{prefix}{r}n{c}" for r in rows for c in cols]
    return None


# ------------------------------------------------------------------------------------------ FTS5 queries


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def term_query(terms: Iterable[str]) -> str | None:
    """FTS5 expression matching any of the free-text terms; a term of several words needs them all."""
    groups = []
    for term in terms:
        words = [w for w in re.split(r"[\W_]+", term.casefold()) if w]
        if words:
            groups.append("(" + " AND ".join(_quote(w) for w in dict.fromkeys(words)) + ")")
    return " OR ".join(dict.fromkeys(groups)) or None


def any_tag(tags: Iterable[str]) -> str | None:
    unique = list(dict.fromkeys(tags))
    return "tags : (" + " OR ".join(unique) + ")" if unique else None


@dataclass(frozen=True, slots=True)
class Circle:
    """The exact distance test behind a grid-cell prefilter."""

    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True, slots=True)
class Tier:
    """The rows showing one exact combination of persona signals: all of equal relevance."""

    points: int
    """Relevance in hundredths, before the 5 points for having a postcode."""
    match: str
    """The whole FTS5 expression: these signals, none of the others, the region, no excluded category."""


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """One ranked directory search: its tiers, best first, and for towns the circle to test."""

    tiers: tuple[Tier, ...]
    circle: Circle | None


def tiers(*, signals: Sequence[tuple[int, str]], place: str | None, excluded: str | None) -> tuple[Tier, ...]:
    """One tier per non-empty combination of ``signals`` (points, FTS5 expression), best first.

    A tier requires its signals and excludes the others, so every row falls in exactly one tier and the tiers
    can be read in order, stopping as soon as enough rows have been found.
    """
    found = []
    for size in range(len(signals), 0, -1):
        for combo in itertools.combinations(signals, size):
            expression = " AND ".join(f"({e})" for _, e in combo)
            if place:
                expression = f"({expression}) AND ({place})"
            for _, other in [s for s in signals if s not in combo]:
                expression = f"({expression}) NOT ({other})"
            if excluded:
                expression = f"({expression}) NOT ({excluded})"
            found.append(Tier(sum(points for points, _ in combo), expression))
    return tuple(sorted(found, key=lambda t: -t.points))


POSTCODE_POINTS = 5
"""Within a tier, a business with a postcode (a place to visit or write to) ranks first."""


def tier_statement(tier: Tier, circle: Circle | None, *, limit: int) -> tuple[str, dict[str, object]]:
    """SQL returning ``LEAD_COLUMNS`` then ``relevance`` (hundredths) and ``d2`` (km², NULL without a circle).

    Best first: relevance, then nearest, then smallest id. Ranks on sort keys alone and reads whole rows for
    the ``limit`` winners only.
    """
    params: dict[str, object] = {"q": tier.match, "points": tier.points, "limit": limit}
    d2, where = "NULL", ""
    if circle is not None:
        params |= {"lat0": circle.lat, "lon0": circle.lon, "r2": circle.radius_km**2}
        params["kx"] = KM_PER_DEGREE * math.cos(math.radians(circle.lat))
        d2, where = _D2, f" AND {_D2} <= :r2"
    columns = ", ".join(f"b.{c}" for c in LEAD_COLUMNS)
    statement = (
        f"WITH ranked AS (SELECT b.rowid AS rid, b.id AS id,"
        f" :points + {POSTCODE_POINTS} * (b.postcode IS NOT NULL) AS relevance, {d2} AS d2"
        " FROM business_fts JOIN business AS b ON b.rowid = business_fts.rowid"
        f" WHERE business_fts MATCH :q{where} ORDER BY relevance DESC, d2, b.id LIMIT :limit)"
        f" SELECT {columns}, ranked.relevance, ranked.d2 FROM ranked JOIN business AS b ON b.rowid = ranked.rid"
        " ORDER BY ranked.relevance DESC, ranked.d2, ranked.id"
    )
    return statement, params


# Squared distance in km² on an equirectangular projection around (lat0, lon0): plain arithmetic, so SQLite
# needs no math functions; within a town's radius it is within a fraction of a percent of haversine.
_D2 = (
    f"((b.lat - :lat0) * {KM_PER_DEGREE}) * ((b.lat - :lat0) * {KM_PER_DEGREE})"
    " + ((b.lon - :lon0) * :kx) * ((b.lon - :lon0) * :kx)"
)


def field_tags(prefixes: Sequence[str], values: Iterable[str]) -> list[str]:
    """Tags for matching any of ``values`` in any of the fields named by ``prefixes``."""
    return [tag(prefix, v) for v in values if slug(v) for prefix in prefixes]
