"""Every SQL statement of the local business directory, and the FTS5 vocabulary its index is written in.

Besides ``name`` and ``source_type``, the FTS5 index has a ``tags`` column of made-up tokens (category, business
type, council, county, region, postcode district and grid cells around lat/lon), so one ``MATCH`` does kind,
qualifiers and place at once. A search reads its zones (inside the place, then nearby) tier by tier; a count runs
the same expressions with ``count(*)``.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from wyshbone.domain.areas import KM_PER_DEGREE
from wyshbone.domain.names import plain

SCHEMA_VERSION = "2"
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
"""Columns a search returns for the lead, in order (``geocode`` only says how lat/lon were found)."""

PLACE_COLUMNS: tuple[str, ...] = ("council", "outward")
"""Columns a search returns besides, for deciding inside or nearby."""

COUNCIL_FUNCTION = "directory_council"
"""Name under which the import registers the council key function for ``UPSERT_ROW``."""

DUP_KEY_FUNCTION = "directory_dup_key"
"""Name under which the import registers the name-and-postcode key function for ``UPSERT_ROW``."""

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
    outward TEXT,
    council TEXT,
    dup_key TEXT
);
CREATE TABLE IF NOT EXISTS directory_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS coverage (
    council TEXT NOT NULL,
    source TEXT NOT NULL,
    name TEXT NOT NULL,
    county TEXT,
    region TEXT,
    categories TEXT NOT NULL,
    rows INTEGER NOT NULL,
    first_date TEXT,
    last_date TEXT,
    PRIMARY KEY (council, source)
) WITHOUT ROWID;
"""
"""``business``: the rows as published, plus the outward code, the council's key (``geodata.council_keys``:
"Caerdydd - Cardiff" and "Cardiff" are one council) and the name-and-postcode key two records of one business
share. ``coverage``: per council and source, which kinds of business the open data holds, and its dates."""

DROP_TABLES = """
DROP TABLE IF EXISTS business_fts;
DROP TABLE IF EXISTS business;
DROP TABLE IF EXISTS directory_meta;
DROP TABLE IF EXISTS coverage;
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
    values += [_OUTWARD, f"{COUNCIL_FUNCTION}(NULLIF(?9, ''))", f"{DUP_KEY_FUNCTION}(?3, NULLIF(?7, ''))"]
    columns = (*CSV_COLUMNS, "outward", "council", "dup_key")
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    return (
        f"INSERT INTO business ({', '.join(columns)}) VALUES ({', '.join(values)})"
        f" ON CONFLICT(id) DO UPDATE SET {updates}"
    )


UPSERT_ROW = _upsert_sql()
"""Upsert one CSV row (17 text parameters) by id: empty strings become NULL, lat/lon REAL, the council's key and
the duplicate key computed by the registered functions."""

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

# Built after the rows are loaded (one sort, not an update per row); the index's twins are found with it.
DROP_DUP_INDEX = "DROP INDEX IF EXISTS business_dup_key"
CREATE_DUP_INDEX = "CREATE INDEX business_dup_key ON business(dup_key) WHERE dup_key IS NOT NULL"

# Contentless (the text lives in ``business``) and detail=column (column filters, no phrase positions):
# a smaller index that is quicker to build and to intersect.
CREATE_FTS = """
CREATE VIRTUAL TABLE business_fts USING fts5(
    name, source_type, tags,
    content='', detail=column, tokenize='unicode61 remove_diacritics 2'
)
"""

# A record repeating another of the same type (same name at the same postcode) is left out of the index; one
# whose twin has another type is tagged, so that a count can tell when both match (see ``TWIN_CORRECTION``).
_TWINS = "SELECT 1 FROM business AS t WHERE t.dup_key = b.dup_key AND t.rowid <> b.rowid"

FILL_FTS = (
    "INSERT INTO business_fts(rowid, name, source_type, tags)"
    f" SELECT b.rowid, b.name, b.source_type, {TAGS_FUNCTION}(b.category, b.council, b.county, b.region,"
    f" b.outward, b.lat, b.lon, b.source_type,"
    f" b.dup_key IS NOT NULL AND EXISTS ({_TWINS} AND t.source_type IS NOT b.source_type))"
    " FROM business AS b"
    f" WHERE b.dup_key IS NULL OR NOT EXISTS ({_TWINS} AND t.source_type IS b.source_type AND t.rowid < b.rowid)"
)

INDEXED_ROWS = "SELECT COUNT(*) FROM business_fts_docsize"
"""Rows in the index (those repeating another of the same type are not)."""

CLEAR_COVERAGE = "DELETE FROM coverage"

COVERAGE_GROUPS = (
    "SELECT council, source, local_authority, county, region, category, COUNT(*),"
    " MIN(source_date), MAX(source_date)"
    " FROM business WHERE council IS NOT NULL"
    " GROUP BY council, source, local_authority, county, region, category"
)
"""What the coverage records are made from: rows per council, source, spelling, county, region and category."""

PUT_COVERAGE = (
    "INSERT OR REPLACE INTO coverage(council, source, name, county, region, categories, rows, first_date,"
    " last_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

COVERAGE_OF_COUNCILS = (
    "SELECT council, source, name, county, region, categories, rows, first_date, last_date FROM coverage"
    " WHERE council IN ({keys})"
)

COVERAGE_OF_AREAS = (
    "SELECT council, source, name, county, region, categories, rows, first_date, last_date FROM coverage"
    " WHERE council IN ({keys}) OR county IN ({names}) OR region IN ({names})"
)

COVERAGE_EXISTS = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'coverage'"

OPTIMIZE_FTS = "INSERT INTO business_fts(business_fts) VALUES ('optimize')"

COUNT_ROWS = "SELECT COUNT(*) FROM business"

LIST_CATEGORIES = "SELECT DISTINCT category FROM business WHERE category IS NOT NULL ORDER BY category"

PUT_META = "INSERT OR REPLACE INTO directory_meta(key, value) VALUES (?, ?)"

GET_META = "SELECT key, value FROM directory_meta"

META_EXISTS = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'directory_meta'"

# ------------------------------------------------------------------------------------------ tag vocabulary
# A tag is a two-letter prefix and a slug: all letters and digits, so the tokenizer keeps it whole. The council
# tag holds the council's key, so every spelling of one council ("Norwich City", "Norwich") is one tag.

CATEGORY, SOURCE_TYPE, COUNCIL, COUNTY, REGION, OUTWARD = "ca", "st", "la", "co", "rg", "pc"

TWIN = "xtwin"
"""Tag of a record whose business has another record, of another type, in the directory."""

GRID_LEVELS: tuple[tuple[str, float, float], ...] = (("ga", 0.05, 0.08), ("gb", 0.2, 0.32), ("gc", 0.8, 1.28))
"""(prefix, cell height °lat, cell width °lon): cells of about 5.5, 22 and 88 km across in Britain."""

MAX_CELLS = 16
"""Most cells one radius search ORs together; past that it drops to a coarser grid level."""

slug = functools.lru_cache(maxsize=8192)(plain)
"""Lowercase ASCII letters and digits only: "Yorkshire and The Humber" → "yorkshireandthehumber"."""


def tag(prefix: str, value: str) -> str:
    return prefix + slug(value)


def _cell(prefix: str, dlat: float, dlon: float, lat: float, lon: float) -> str:
    return f"{prefix}{math.floor((lat + 90) / dlat)}n{math.floor((lon + 180) / dlon)}"


def row_tags(
    category: str | None,
    council: str | None,
    county: str | None,
    region: str | None,
    outward: str | None,
    lat: float | None,
    lon: float | None,
    source_type: str | None = None,
    twin: int | None = 0,
) -> str:
    """The ``tags`` text of one row (registered as the SQL function ``directory_tags``); ``council`` is its
    key ("cardiff"), ``twin`` whether another record of the business has another type."""
    fields = (
        (CATEGORY, category),
        (COUNCIL, council),
        (COUNTY, county),
        (REGION, region),
        (OUTWARD, outward),
    )
    tags = [tag(prefix, value) for prefix, value in fields if value]
    if source_type:
        tags.append(tag(SOURCE_TYPE, source_type))
    if lat is not None and lon is not None:
        tags += [_cell(prefix, dlat, dlon, lat, lon) for prefix, dlat, dlon in GRID_LEVELS]
    if twin:
        tags.append(TWIN)
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
    """A centre and a radius: the exact distance test behind a grid-cell prefilter, or the scale of closeness."""

    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True, slots=True)
class Tier:
    """The businesses showing one exact combination of ranking signals: all of equal relevance."""

    points: int
    """Relevance in hundredths, before the 5 points for having a postcode."""
    match: str
    """The FTS5 expression: what is asked for, these signals, none of the others (no place)."""


@dataclass(frozen=True, slots=True)
class Zone:
    """Where one part of a search looks: inside the place, or nearby (outside it, within reach)."""

    area: str
    """"inside" or "nearby"."""
    place: str | None
    """FTS5 expression of the zone's candidates (council, county, region or district tags; grid cells)."""
    where: str = ""
    """SQL condition on ``b`` the candidates must meet; ``{d2}`` stands for the squared distance from the
    centre (km²)."""
    params: dict[str, object] = field(default_factory=dict)
    """Parameters of ``where``."""


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """One directory search: what is asked for (``accept``), its tiers best first, its zones in order (inside
    first), and the centre distances are measured from."""

    accept: str | None
    """FTS5 expression of every business of the asked kind showing every qualifier; None: none can."""
    tiers: tuple[Tier, ...]
    zones: tuple[Zone, ...]
    centre: Circle | None
    """The place's centre and own radius (for ranking by closeness); None for counties and regions."""


def tiers(
    *,
    signals: Sequence[tuple[int, str]],
    accept: str | None = None,
    rest: int | None = None,
    base: int = 0,
    implied: str | None = None,
) -> tuple[Tier, ...]:
    """One tier per combination of ranking ``signals`` (points, FTS5 expression), best first, within ``accept``.

    A tier requires its signals (no more: FTS5 is quick to intersect, slow to subtract a large set), so a
    business shows in every tier whose signals it has; read best first, skipping what an earlier tier gave, it
    counts in its best. With ``rest``, a last tier holds all of ``accept`` for ``rest`` points. ``base`` is
    added to every combination's points (a signal every business accepted shows). A tier with the ``implied``
    signal (one that implies ``accept``) does not repeat ``accept``.
    """
    found = []
    for size in range(len(signals), -1 if accept and rest is not None else 0, -1):
        for combo in itertools.combinations(signals, size):
            shown = [e for _, e in combo]
            within_accept = [] if implied is not None and implied in shown else [accept]
            parts = [f"({e})" for e in (*within_accept, *shown) if e]
            points = base + sum(points for points, _ in combo) if combo else rest or 0
            found.append(Tier(points, " AND ".join(parts)))
    return tuple(sorted(found, key=lambda t: -t.points))


def within(expression: str, place: str | None) -> str:
    """An FTS5 expression restricted to a zone's place."""
    return f"({expression}) AND ({place})" if place else expression


POSTCODE_POINTS = 5
"""Within a tier, a business with a postcode (a place to visit or write to) ranks first."""


def _centre_params(centre: Circle) -> dict[str, object]:
    return {"lat0": centre.lat, "lon0": centre.lon, "kx": KM_PER_DEGREE * math.cos(math.radians(centre.lat))}


def tier_statement(
    tier: Tier, zone: Zone, centre: Circle | None, *, limit: int
) -> tuple[str, dict[str, object]]:
    """SQL returning ``LEAD_COLUMNS``, ``PLACE_COLUMNS``, then ``relevance`` (hundredths) and ``d2`` (km² from
    the centre, NULL without one) for the best ``limit`` businesses of one tier in one zone.

    Best first: relevance, then nearest (those without a point last), then smallest id. Ranks on sort keys
    alone and reads whole rows for the ``limit`` winners only.
    """
    params: dict[str, object] = {"q": within(tier.match, zone.place), "points": tier.points, "limit": limit}
    params |= zone.params
    d2 = "NULL"
    if centre is not None:
        params |= _centre_params(centre)
        d2 = _D2
    where = f" AND ({zone.where.format(d2=d2)})" if zone.where else ""
    columns = ", ".join(f"b.{c}" for c in (*LEAD_COLUMNS, *PLACE_COLUMNS))
    statement = (
        f"WITH ranked AS (SELECT b.rowid AS rid, b.id AS id,"
        f" :points + {POSTCODE_POINTS} * (b.postcode IS NOT NULL) AS relevance, {d2} AS d2"
        " FROM business_fts JOIN business AS b ON b.rowid = business_fts.rowid"
        f" WHERE business_fts MATCH :q{where} ORDER BY relevance DESC, d2 IS NULL, d2, b.id LIMIT :limit)"
        f" SELECT {columns}, ranked.relevance, ranked.d2 FROM ranked JOIN business AS b ON b.rowid = ranked.rid"
        " ORDER BY ranked.relevance DESC, ranked.d2 IS NULL, ranked.d2, ranked.id"
    )
    return statement, params


def count_statements(
    accept: str, zone: Zone, centre: Circle | None
) -> tuple[tuple[str, dict[str, object]], tuple[str, dict[str, object]]]:
    """Two statements whose difference is how many businesses of the zone a search would return: the rows
    matching, and how many of those are twins (two types of one business) beyond the first of each.

    Without a ``where`` the count reads the index alone; twins are few, so their correction is cheap.
    """
    match = within(accept, zone.place)
    twins = f"({match}) AND (tags : {TWIN})"
    params: dict[str, object] = dict(zone.params)
    if centre is not None:
        params |= _centre_params(centre)
    where = f" AND ({zone.where.format(d2=_D2)})" if zone.where else ""
    joined = (
        "FROM business_fts JOIN business AS b ON b.rowid = business_fts.rowid WHERE business_fts MATCH :q"
    )
    if where:
        rows = f"SELECT COUNT(*) {joined}{where}"
    else:
        rows = "SELECT COUNT(*) FROM business_fts WHERE business_fts MATCH :q"
    extra = f"SELECT COUNT(*) - COUNT(DISTINCT b.dup_key) {joined}{where}"
    return (rows, params | {"q": match}), (extra, params | {"q": twins})


# Squared distance in km² on an equirectangular projection around (lat0, lon0): plain arithmetic, so SQLite
# needs no math functions; within a town's radius it is within a fraction of a percent of haversine.
_D2 = (
    f"((b.lat - :lat0) * {KM_PER_DEGREE}) * ((b.lat - :lat0) * {KM_PER_DEGREE})"
    " + ((b.lon - :lon0) * :kx) * ((b.lon - :lon0) * :kx)"
)


def in_list(column: str, name: str, values: Iterable[str]) -> tuple[str, dict[str, object]]:
    """``coalesce(column, '') IN (:name0, :name1, ...)`` and its parameters (SQLite binds no lists)."""
    params: dict[str, object] = {f"{name}{i}": value for i, value in enumerate(dict.fromkeys(values))}
    placeholders = ", ".join(f":{key}" for key in params) or "NULL"
    return f"coalesce({column}, '') IN ({placeholders})", params
