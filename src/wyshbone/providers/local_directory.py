"""The local business directory (the "Wyshbone Global Database"): import the open data into SQLite, search it.

Import loads ``uk_businesses*.csv.gz`` into one table plus an FTS5 index, placing rows whose postcode is only an
outward code at that district's centre, keying every council spelling to one council, and recording per council
and source which kinds of business the open data holds. Search turns what is asked (``domain.matching``: kind,
qualifiers) and a ``RegionMatch`` into indexed queries, inside the place first, then nearby, and returns ranked,
deduplicated ``Lead`` values with provenance and their ``match``; ``count`` runs the same queries to count them.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import logging
import math
import sqlite3
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from wyshbone.domain import matching
from wyshbone.domain.dedupe import lead_keys, name_postcode_key
from wyshbone.domain.matching import (
    KIND_RULES,
    NEARBY_FACTOR,
    Area,
    Business,
    Wanted,
    Where,
    area_for,
    match_business,
    plain,
)
from wyshbone.domain.matching import wanted as read_wanted
from wyshbone.domain.models import Lead, LeadMatch, RegionKind, RegionMatch
from wyshbone.domain.planner import CouncilGap
from wyshbone.errors import DirectoryNotImportedError, InputError, PermanentToolError
from wyshbone.geodata import council_keys
from wyshbone.providers import _directory_sql as sql

logger = logging.getLogger("wyshbone.directory")

__all__ = [
    "DEFAULT_RADIUS_KM",
    "DISTRICTS_FILE",
    "PHASE_DISTRICTS",
    "PHASE_INDEXING",
    "PHASE_READING",
    "DirectoryCount",
    "ImportReport",
    "LocalDirectory",
    "PhaseCallback",
    "ProgressCallback",
    "build_query",
    "council_key",
    "count_directory",
    "dedupe",
    "default_import_paths",
    "directory_info",
    "haversine_km",
    "import_directory",
    "score",
    "search_directory",
]

ProgressCallback = Callable[[int, int | None], None]
"""``on_progress(rows_done, estimated_total_or_None)``: rows read so far; ends at ``(rows, rows)``."""

PhaseCallback = Callable[[str], None]
"""``on_phase(description)``: called as each phase of an import starts, e.g. ``"building the search index"``."""

# The phases of an import, in order, as ``on_phase`` names them; the districts phase only with a districts file.
PHASE_READING = "reading the business files"
PHASE_DISTRICTS = "placing outward-code-only postcodes at their district centres"
PHASE_INDEXING = "building the search index"

DISTRICTS_FILE = "postcode_districts_doogal.csv"
"""Postcode district centres (``Postcode,Latitude,Longitude,...``), looked for beside the first business file."""

DEFAULT_RADIUS_KM = matching.DEFAULT_RADIUS_KM
"""Radius searched around a town or area whose ``RegionMatch`` carries none."""

_BATCH_ROWS = 50_000

# ---------------------------------------------------------------------------------------------- import


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What one import did."""

    rows_read: int
    """Data rows read from the files (headers excluded)."""
    rows_written: int
    """Rows in the directory afterwards (an id repeated across files or imports counts once)."""
    files: tuple[Path, ...]
    """The files imported, in order."""
    seconds: float
    """Wall-clock time of the whole import, index building included."""
    districts: Path | None = None
    """The postcode districts file used to place outward-code-only rows; None when there was none."""
    rows_at_district: int = 0
    """Rows whose postcode is only an outward code ("M22"), placed at its district's centre (geocode "district")."""


def default_import_paths(open_data_dir: Path) -> list[Path]:
    """The ``uk_businesses*.csv.gz`` files in ``open_data_dir``, sorted; empty when there are none."""
    if not open_data_dir.is_dir():
        return []
    return sorted(p for p in open_data_dir.glob("uk_businesses*.csv.gz") if p.is_file())


def import_directory(
    paths: Sequence[Path],
    db_path: Path,
    *,
    on_progress: ProgressCallback | None = None,
    on_phase: PhaseCallback | None = None,
    districts: Path | None = None,
) -> ImportReport:
    """Load the CSV files into the directory at ``db_path`` (created if needed), upserting rows by id.

    A row whose postcode is only an outward code ("M22") is placed at that district's centre from ``districts``
    (default: ``DISTRICTS_FILE`` beside the first file, skipped when absent) with ``geocode`` "district".
    ``on_progress`` follows the rows read; ``on_phase`` names each phase as it starts (reading, placing, indexing).
    Importing the same files again leaves the same rows. A missing or malformed file raises ``InputError``
    and leaves the directory as it was: the whole import is one transaction.
    """
    started = time.perf_counter()
    files = tuple(Path(p) for p in paths)
    _check_inputs(files)
    districts_path = _districts_path(files, districts)
    centres = _read_districts(districts_path) if districts_path else []
    db_path.parent.mkdir(parents=True, exist_ok=True)
    progress = _Progress(files, on_progress)
    phase = on_phase or _no_phase
    with closing(sqlite3.connect(db_path, isolation_level=None)) as conn:
        _prepare_bulk_load(conn)
        conn.execute("BEGIN")
        try:
            phase(PHASE_READING)
            conn.execute(sql.DROP_FTS)
            conn.execute(sql.DROP_DUP_INDEX)
            rows_read = sum(_load_file(conn, path, progress) for path in files)
            progress.finish()
            at_district = 0
            if centres:
                phase(PHASE_DISTRICTS)
                at_district = _place_at_districts(conn, centres)
            phase(PHASE_INDEXING)
            conn.execute(sql.CREATE_DUP_INDEX)
            conn.execute(sql.CREATE_FTS)
            conn.execute(sql.FILL_FTS)
            conn.execute(sql.OPTIMIZE_FTS)
            _record_coverage(conn)
            rows_written = _write_meta(conn, files=files, districts=districts_path)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    seconds = time.perf_counter() - started
    return ImportReport(rows_read, rows_written, files, seconds, districts_path, at_district)


def _no_phase(description: str) -> None:
    pass


def _check_inputs(files: Sequence[Path]) -> None:
    if not files:
        raise InputError("No directory files to import: expected uk_businesses*.csv.gz files.")
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise InputError(f"Directory file not found: {', '.join(missing)}")


def _districts_path(files: Sequence[Path], districts: Path | None) -> Path | None:
    """The districts file asked for (which must exist), else ``DISTRICTS_FILE`` beside the first file if there."""
    if districts is not None:
        if not districts.is_file():
            raise InputError(f"Postcode districts file not found: {districts}")
        return districts
    beside = files[0].parent / DISTRICTS_FILE
    return beside if beside.is_file() else None


def _read_districts(path: Path) -> list[tuple[str, float, float]]:
    """``(outward code, lat, lon)`` of each district with a centre in a ``Postcode,Latitude,Longitude,...`` CSV."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = csv.DictReader(f)
            if not {"Postcode", "Latitude", "Longitude"} <= set(rows.fieldnames or ()):
                raise InputError(
                    f"{path} is not a postcode districts file: expected the columns Postcode, Latitude, Longitude"
                )
            return [centre for row in rows if (centre := _district_centre(row, path, rows.line_num))]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path} cannot be read as a CSV file: {exc}") from exc


def _district_centre(row: dict[str, str], path: Path, line: int) -> tuple[str, float, float] | None:
    code, lat, lon = ((row[k] or "").strip() for k in ("Postcode", "Latitude", "Longitude"))
    if not (code and lat and lon):
        return None  # a retired district has no centre
    try:
        return code.upper(), float(lat), float(lon)
    except ValueError:
        raise InputError(
            f"{path} line {line}: the centre {lat!r}, {lon!r} of {code} is not a number"
        ) from None


def _place_at_districts(conn: sqlite3.Connection, centres: Sequence[tuple[str, float, float]]) -> int:
    """Move outward-code-only rows to their district's centre; how many rows moved."""
    conn.execute(sql.CREATE_DISTRICTS)
    conn.executemany(sql.PUT_DISTRICT, centres)
    moved = conn.execute(sql.PLACE_AT_DISTRICTS).rowcount
    conn.execute(sql.DROP_DISTRICTS)
    return moved


def _prepare_bulk_load(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    # A failed import rolls back; without fsync only an OS crash or power cut during the import can
    # damage the file, which importing again from the open data rebuilds.
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")
    conn.execute("PRAGMA temp_store = MEMORY")
    meta = _read_meta(conn, any_version=True)
    if meta is not None and meta.get("schema_version") != sql.SCHEMA_VERSION:
        conn.executescript(sql.DROP_TABLES)
    conn.executescript(sql.CREATE_TABLES)
    conn.create_function(sql.TAGS_FUNCTION, 9, sql.row_tags, deterministic=True)
    conn.create_function(sql.COUNCIL_FUNCTION, 1, council_key, deterministic=True)
    conn.create_function(sql.DUP_KEY_FUNCTION, 2, _dup_key, deterministic=True)


def council_key(local_authority: str | None) -> str | None:
    """The key of a council however the open data spells it: "Caerdydd - Cardiff" and "Cardiff" → "cardiff",
    "Norwich City" → "norwich" (``geodata.council_keys``, the gazetteer's own reconciliation)."""
    if not local_authority:
        return None
    keys = council_keys(local_authority)
    return keys[0] if keys else plain(local_authority) or None


def council_name(local_authority: str | None) -> str | None:
    """A council as a person reads it: the English half of a bilingual Welsh name ("Caerdydd - Cardiff")."""
    if not local_authority:
        return None
    return local_authority.rsplit(" - ", 1)[-1].strip() or local_authority


def _dup_key(name: str | None, postcode: str | None) -> str | None:
    """The key two records of one business share (``domain.dedupe``); None without a postcode."""
    return name_postcode_key(name or "", postcode) if postcode else None


def _load_file(conn: sqlite3.Connection, path: Path, progress: _Progress) -> int:
    rows = 0
    try:
        with _open_csv(path) as (text, raw):
            reader = csv.reader(text)
            _check_header(path, next(reader, None))
            for batch in _batches(reader, path):
                conn.executemany(sql.UPSERT_ROW, batch)
                rows += len(batch)
                progress.advance(len(batch), path=path, position=raw.tell())
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path} cannot be read as a CSV file: {exc}") from exc
    return rows


@contextmanager
def _open_csv(path: Path) -> Iterator[tuple[IO[str], IO[bytes]]]:
    """The file as text (gunzipped when it ends in .gz) and the raw file, whose position tells progress."""
    with path.open("rb") as raw:
        if path.suffix == ".gz":
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped, _text(unzipped) as text:
                yield text, raw
        else:
            with _text(raw) as text:
                yield text, raw


def _text(binary: gzip.GzipFile | io.BufferedReader) -> IO[str]:
    return io.TextIOWrapper(binary, encoding="utf-8", newline="")


def _check_header(path: Path, header: list[str] | None) -> None:
    if header is None or tuple(h.strip().lstrip("\ufeff") for h in header) != sql.CSV_COLUMNS:
        raise InputError(f"{path} is not a directory file: expected the columns {', '.join(sql.CSV_COLUMNS)}")


def _batches(reader: Iterator[list[str]], path: Path) -> Iterator[list[list[str]]]:
    width = len(sql.CSV_COLUMNS)
    while batch := list(itertools.islice(reader, _BATCH_ROWS)):
        bad = next((row for row in batch if len(row) != width), None)
        if bad is not None:
            raise InputError(f"{path}: a row has {len(bad)} fields instead of {width}: {bad[:3]}")
        yield batch


class _Progress:
    """Counts rows and estimates the total from the share of compressed bytes read so far."""

    def __init__(self, files: Sequence[Path], callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._total_bytes = sum(p.stat().st_size for p in files)
        self._positions: dict[Path, int] = {}
        self._reported: tuple[int, int | None] | None = None
        self.rows = 0

    def advance(self, rows: int, *, path: Path, position: int) -> None:
        self.rows += rows
        self._positions[path] = position
        done_bytes = sum(self._positions.values())
        estimate = max(self.rows, round(self.rows * self._total_bytes / done_bytes)) if done_bytes else None
        self._report(self.rows, estimate)

    def finish(self) -> None:
        """All rows are read: the total is known."""
        self._report(self.rows, self.rows)

    def _report(self, done: int, total: int | None) -> None:
        if self._callback is not None and (done, total) != self._reported:
            self._reported = (done, total)
            self._callback(done, total)


def _record_coverage(conn: sqlite3.Connection) -> None:
    """Per council and source: the kinds of business held (most rows first), the data's dates, and the county
    most of the council's rows name (a district of a two-tier county has one; a city council has none)."""
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    counties: dict[str, Counter[str | None]] = defaultdict(Counter)
    regions: dict[str, Counter[str | None]] = defaultdict(Counter)
    kinds: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    dates: dict[tuple[str, str], list[str]] = defaultdict(list)
    for council, source, spelling, county, region, category, rows, first, last in conn.execute(
        sql.COVERAGE_GROUPS
    ):
        spellings[council][spelling] += rows
        counties[council][county] += rows
        regions[council][region] += rows
        kinds[council, source][category or "other"] += rows
        dates[council, source] += [d for d in (first, last) if d]
    records = []
    for (council, source), held in kinds.items():
        county, county_rows = counties[council].most_common(1)[0]
        in_county = county if county and county_rows * 2 > counties[council].total() else None
        name = council_name(spellings[council].most_common(1)[0][0]) or council
        known = dates[council, source]
        records.append(
            (
                council,
                source,
                name,
                in_county,
                regions[council].most_common(1)[0][0],
                ",".join(category for category, _ in held.most_common()),
                held.total(),
                min(known, default=None),
                max(known, default=None),
            )
        )
    conn.execute(sql.CLEAR_COVERAGE)
    conn.executemany(sql.PUT_COVERAGE, records)


def _write_meta(conn: sqlite3.Connection, *, files: Sequence[Path], districts: Path | None) -> int:
    rows = int(conn.execute(sql.COUNT_ROWS).fetchone()[0])
    meta = {
        "schema_version": sql.SCHEMA_VERSION,
        "imported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": json.dumps([str(p) for p in files]),
        "districts": str(districts or ""),
        "row_count": str(rows),
        "categories": json.dumps([r[0] for r in conn.execute(sql.LIST_CATEGORIES)]),
    }
    conn.executemany(sql.PUT_META, meta.items())
    return rows


# ---------------------------------------------------------------------------------------------- info


def directory_info(db_path: Path) -> dict[str, Any] | None:
    """Path, row count, import time, files, districts file and categories of the directory; None when not imported."""
    if not db_path.is_file():
        return None
    try:
        with closing(_connect_read_only(db_path)) as conn:
            meta = _read_meta(conn)
    except sqlite3.DatabaseError:
        return None
    if meta is None:
        return None
    return {
        "path": str(db_path),
        "row_count": int(meta["row_count"]),
        "imported_at": meta["imported_at"],
        "files": json.loads(meta["files"]),
        "districts": meta.get("districts") or None,
        "categories": json.loads(meta["categories"]),
    }


def _read_meta(conn: sqlite3.Connection, *, any_version: bool = False) -> dict[str, str] | None:
    """The metadata of a finished import of this schema version (of any version if asked), else None."""
    if conn.execute(sql.META_EXISTS).fetchone() is None:
        return None
    meta = dict(conn.execute(sql.GET_META).fetchall())
    current = any_version or meta.get("schema_version") == sql.SCHEMA_VERSION
    return meta if current and "row_count" in meta else None


def _connect_read_only(db_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    try:
        conn.execute("PRAGMA cache_size = -65536")
        # Reads straight from the OS page cache instead of copying every page into SQLite's own cache.
        conn.execute("PRAGMA mmap_size = 1073741824")
    except sqlite3.DatabaseError:
        conn.close()
        raise
    return conn


def _open_imported(db_path: Path) -> sqlite3.Connection:
    """A read-only connection to a finished import, else ``DirectoryNotImportedError``."""
    if not db_path.is_file():
        raise DirectoryNotImportedError(f"No business directory at {db_path}: run `wyshbone db import`.")
    try:
        conn = _connect_read_only(db_path)
    except sqlite3.DatabaseError as exc:
        raise DirectoryNotImportedError(f"{db_path} is not a business directory ({exc}).") from exc
    try:
        meta = _read_meta(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise DirectoryNotImportedError(f"{db_path} is not a business directory ({exc}).") from exc
    if meta is None:
        conn.close()
        raise DirectoryNotImportedError(f"The business directory at {db_path} has not been imported.")
    return conn


# ---------------------------------------------------------------------------------------------- search


def search_directory(
    db_path: Path,
    *,
    categories: Sequence[str],
    terms: Sequence[str],
    region: RegionMatch,
    limit: int,
    persona: str = "",
    qualifiers: Sequence[str] = (),
) -> list[Lead]:
    """Best ``limit`` businesses for the persona in the region (see ``LocalDirectory.search``)."""
    with LocalDirectory(db_path) as directory:
        return directory.search(
            categories=categories,
            terms=terms,
            region=region,
            limit=limit,
            persona=persona,
            qualifiers=qualifiers,
        )


@dataclass(frozen=True, slots=True)
class DirectoryCount:
    """How many businesses a search would return, counted with its own queries before it runs."""

    inside: int
    """Of the asked kind, showing every qualifier, inside the place."""
    nearby: int | None
    """The same just outside (see ``domain.matching.area_for``); None when not counted or nothing can be."""
    gaps: tuple[CouncilGap, ...] = ()
    """Councils of the place where the open data cannot hold the asked kind (a source missing there)."""
    dates: tuple[tuple[str, str], ...] = ()
    """(source, date range) of the open data for the place's councils, e.g. ("FSA", "2021-12-25")."""


def count_directory(
    db_path: Path,
    *,
    categories: Sequence[str],
    terms: Sequence[str],
    region: RegionMatch,
    persona: str = "",
    qualifiers: Sequence[str] = (),
    wanted: int | None = None,
) -> DirectoryCount:
    """How many businesses ``search_directory`` with the same arguments would find (see ``LocalDirectory.count``)."""
    with LocalDirectory(db_path) as directory:
        return directory.count(
            categories=categories,
            terms=terms,
            region=region,
            persona=persona,
            qualifiers=qualifiers,
            wanted=wanted,
        )


SOURCE_LABELS: Mapping[str, str] = {
    "fsa_fhrs": "FSA",
    "nhs_ods_dental": "NHS dental",
    "openbrewerydb": "Open Brewery DB",
    "open_pubs": "Open Pubs",
}
"""The open data's sources as a person knows them."""

_EXPECTED_SOURCES: Mapping[str, frozenset[str]] = {
    "fsa_fhrs": frozenset(c for c in KIND_RULES if c != "dentist"),
    "nhs_ods_dental": frozenset({"dentist"}),
}
"""The sources that cover every council in the open data, and the kinds each holds: a council without one of
them lacks those kinds because of the data, not because there are none."""


class LocalDirectory:
    """A read-only handle on an imported directory; one search at a time, from any thread.

    Raises ``DirectoryNotImportedError`` when ``db_path`` holds no finished import.
    """

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._conn = _open_imported(db_path)
        self._lock = threading.Lock()

    def __enter__(self) -> LocalDirectory:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    def search(
        self,
        *,
        categories: Sequence[str],
        terms: Sequence[str],
        region: RegionMatch,
        limit: int,
        persona: str = "",
        qualifiers: Sequence[str] = (),
    ) -> list[Lead]:
        """Businesses of the asked kind showing every qualifier, inside the place first, then nearby (to top
        up), best first, deduplicated, at most ``limit``; each with its ``match``.

        Kind: see ``domain.matching`` (the business type decides, the name complements it within compatible
        types; a persona with no category is matched on names). Institutions are left out unless asked for.
        A world city gives [] (the directory is British). Raises ``InputError`` for an empty persona or a
        region it cannot search.
        """
        if region.kind is RegionKind.WORLD_CITY:
            return []
        want = read_wanted(persona=persona, categories=categories, terms=terms, qualifiers=qualifiers)
        area = self.area(region)
        query = build_query(want, area)
        if limit <= 0 or query.accept is None:
            return []
        fetch = limit + limit // 2 + 10
        while True:
            rows = self._ranked_rows(query, fetch)
            leads = _leads(rows, query, want, area, limit)
            # Duplicates dropped can leave the page short: ask again for more.
            if len(leads) >= limit or len(rows) < fetch:
                return leads
            fetch *= 4

    def count(
        self,
        *,
        categories: Sequence[str],
        terms: Sequence[str],
        region: RegionMatch,
        persona: str = "",
        qualifiers: Sequence[str] = (),
        wanted: int | None = None,
    ) -> DirectoryCount:
        """How many businesses ``search`` would return inside the place and, when that is fewer than
        ``wanted`` (or always, without it), nearby: with the same queries. And the place's councils whose open
        data lacks the asked kind, and the dates of its data."""
        if region.kind is RegionKind.WORLD_CITY:
            return DirectoryCount(0, None)
        want = read_wanted(persona=persona, categories=categories, terms=terms, qualifiers=qualifiers)
        area = self.area(region)
        query = build_query(want, area)
        inside = sum(self._count(query, zone) for zone in query.zones if zone.area == "inside")
        nearby = None
        if wanted is None or inside < wanted:
            near = [self._count(query, zone) for zone in query.zones if zone.area == "nearby"]
            nearby = sum(near) if near else None
        records = self._coverage(region, area)
        return DirectoryCount(inside, nearby, _gaps(want, records), _dates(records))

    def area(self, region: RegionMatch) -> Area:
        """The place as ``domain.matching`` decides inside and nearby, its councils keyed as the import keys
        them; whether a town is its council's own is read from the coverage records (a district of a
        two-tier county, as Harrogate is of North Yorkshire, is not)."""
        values = region.field_values or ((region.field_value,) if region.field_value else ())
        if region.kind is RegionKind.TOWN:
            key = council_key(region.local_authority)
            own = key is not None and key in council_keys(region.name) and not self._two_tier(key)
            return area_for(region, councils=[key] if key else [], own_council=own)
        if region.kind in (RegionKind.COUNTY, RegionKind.LOCAL_AUTHORITY):
            keys = [k for v in values if (k := council_key(v)) is not None]
            return area_for(region, councils=keys)
        return area_for(region)

    def _two_tier(self, key: str) -> bool:
        found = self._rows(
            "SELECT county FROM coverage WHERE council = :c AND county IS NOT NULL", {"c": key}
        )
        return bool(found)

    def _coverage(self, region: RegionMatch, area: Area) -> list[sqlite3.Row]:
        keys = set(area.councils)
        if region.kind is RegionKind.POSTCODE_DISTRICT and (key := council_key(region.local_authority)):
            keys.add(key)
        names = {*region.field_values, *((region.field_value,) if region.field_value else ())}
        if region.kind in (RegionKind.COUNTY, RegionKind.REGION) and names:
            council_list, council_params = sql.in_list("council", "k", sorted(keys))
            county_list, county_params = sql.in_list("county", "n", sorted(names))
            region_list, region_params = sql.in_list("region", "r", sorted(names))
            statement = f"SELECT * FROM coverage WHERE {council_list} OR {county_list} OR {region_list}"
            return self._rows(statement, council_params | county_params | region_params)
        if not keys:
            return []
        council_list, params = sql.in_list("council", "k", sorted(keys))
        return self._rows(f"SELECT * FROM coverage WHERE {council_list}", params)

    def _count(self, query: sql.SearchQuery, zone: sql.Zone) -> int:
        if query.accept is None:
            return 0
        rows, twins = sql.count_statements(query.accept, zone, query.centre)
        found = self._rows(*rows)[0][0]
        extra = self._rows(*twins)[0][0] if found else 0
        return int(found) - int(extra)

    def _ranked_rows(self, query: sql.SearchQuery, fetch: int) -> list[sqlite3.Row]:
        """The best ``fetch`` rows: zone by zone, tier by tier, each row where it ranks best."""
        rows: list[sqlite3.Row] = []
        seen: set[str] = set()
        for zone in query.zones:
            in_zone = 0
            for tier in query.tiers:
                # A tier repeats the rows of the better tiers that share its signals: ask for those on top.
                limit = fetch - len(rows) + in_zone
                for row in self._rows(*sql.tier_statement(tier, zone, query.centre, limit=limit)):
                    if row["id"] not in seen:
                        seen.add(row["id"])
                        rows.append(row)
                        in_zone += 1
                if len(rows) >= fetch:
                    return rows
        return rows

    def _rows(self, statement: str, params: dict[str, object]) -> list[sqlite3.Row]:
        with self._lock:
            try:
                cursor = self._conn.execute(statement, params)
                cursor.row_factory = sqlite3.Row
                return cursor.fetchall()
            except sqlite3.DatabaseError as exc:
                raise PermanentToolError(
                    f"The business directory at {self.db_path} cannot be read: {exc}"
                ) from exc


def _leads(
    rows: Iterable[sqlite3.Row], query: sql.SearchQuery, want: Wanted, area: Area, limit: int
) -> list[Lead]:
    """The first ``limit`` distinct businesses of the ranked rows as leads with their match (see ``dedupe``);
    a row is only read into a lead once it is known to be kept."""
    seen: set[str] = set()
    kept: list[Lead] = []
    for row in rows:
        keys = lead_keys(row["id"], row["name"], row["postcode"])
        if not seen.isdisjoint(keys):
            continue
        lead = _matched_lead(row, query, want, area)
        if lead is None:
            continue
        seen.update(keys)
        kept.append(lead)
        if len(kept) >= limit:
            break
    return kept


def _matched_lead(row: sqlite3.Row, query: sql.SearchQuery, want: Wanted, area: Area) -> Lead | None:
    """The row as a lead with its match; None (logged: the query and the rules disagree) when it does not."""
    listing = Business(
        name=row["name"],
        source=row["source"],
        source_type=row["source_type"],
        category=row["category"],
        where=Where(
            lat=row["lat"],
            lon=row["lon"],
            council=row["council"],
            council_name=council_name(row["local_authority"]),
            county=row["county"],
            region=row["region"],
            district=row["outward"],
        ),
    )
    found = match_business(want, area, listing)
    if found is None:
        logger.warning("directory row %s was found by the search but does not match: skipped", row["id"])
        return None
    return lead_from_row(row, query.centre, match=found)


def _gaps(want: Wanted, records: Sequence[sqlite3.Row]) -> tuple[CouncilGap, ...]:
    """The councils whose open data lacks every asked category because a source that holds it is missing."""
    if not want.categories:
        return ()
    by_council: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for record in records:
        by_council[record["council"]].append(record)
    gaps = []
    for council_records in by_council.values():
        held: Counter[str] = Counter()
        for record in council_records:
            for category in record["categories"].split(","):
                held[category] += record["rows"]
        if any(c in held for c in want.categories):
            continue
        sources = {record["source"] for record in council_records}
        missing = [
            SOURCE_LABELS.get(source, source)
            for source, kinds in _EXPECTED_SOURCES.items()
            if source not in sources and kinds & set(want.categories)
        ]
        if missing:
            holds = tuple(c for c, _ in held.most_common() if c != "institution")
            gaps.append(CouncilGap(council_records[0]["name"], holds, tuple(missing)))
    return tuple(sorted(gaps, key=lambda gap: gap.council))


def _dates(records: Sequence[sqlite3.Row]) -> tuple[tuple[str, str], ...]:
    """(source, dates) of the open data for these councils: "2021-12-25", or "2020-03-18 to 2021-12-25"."""
    spans: dict[str, list[str]] = defaultdict(list)
    for record in records:
        spans[record["source"]] += [d for d in (record["first_date"], record["last_date"]) if d]
    out = []
    for source in sorted(spans, key=lambda s: SOURCE_LABELS.get(s, s)):
        if spans[source]:
            first, last = min(spans[source]), max(spans[source])
            out.append((SOURCE_LABELS.get(source, source), first if first == last else f"{first} to {last}"))
    return tuple(out)


# Relevance, in hundredths: persona signals add up; the postcode bonus (5) separates rows within a tier.
CATEGORY_POINTS, NAME_POINTS, TYPE_POINTS, REST_POINTS = 100, 60, 30, 20


def build_query(want: Wanted, area: Area) -> sql.SearchQuery:
    """What is asked and where, as the FTS5 expressions and SQL conditions of one search (pure).

    ``accept`` holds the kind (``matching.KIND_RULES``), the qualifiers and the institutions left out; the
    tiers rank within it (the business type says so: 100; the name shows the persona: 60; neither: 20); the
    zones are inside the place, then nearby.
    """
    kind, signals, rest, base = _kind_expression(want)
    accept = _with_qualifiers(kind, want)
    zones, centre = _zones(area)
    if accept is None:
        return sql.SearchQuery(None, (), zones, centre)
    # The type's signal implies the kind: its tiers need not repeat the (costly) words of the name groups.
    implied = signals[0][1] if signals and signals[0][0] == CATEGORY_POINTS else None
    raw = sql.tiers(signals=signals, accept=kind, rest=rest, base=base, implied=implied)
    found = tuple(sql.Tier(t.points, _with_qualifiers(t.match, want) or t.match) for t in raw)
    return sql.SearchQuery(accept, found, zones, centre)


def _names(terms: Iterable[str]) -> str | None:
    match = sql.term_query(terms)
    return f"name : ({match})" if match else None


def _kind_expression(want: Wanted) -> tuple[str, list[tuple[int, str]], int | None, int]:
    """(accept, ranking signals, points of the businesses showing none of them, points every business
    accepted has) of the kind asked for."""
    persona = _names(want.terms)
    if not want.categories:
        if persona is None:
            raise InputError("A directory search needs categories or search terms.")
        by_type = f"source_type : ({sql.term_query(want.terms)})"
        return f"({persona}) OR ({by_type})", [(NAME_POINTS, persona), (TYPE_POINTS, by_type)], None, 0
    accepted: list[str] = []
    by_type_parts: list[str] = []
    for category in want.categories:
        rule = KIND_RULES.get(category)
        if rule is None:
            own = f"tags : ({sql.tag(sql.CATEGORY, category)})"
            accepted.append(own)
            by_type_parts.append(own)
            continue
        types = sql.any_tag(sql.tag(sql.SOURCE_TYPE, t) for t in rule.types)
        if types:
            unless = sql.any_tag(sql.tag(sql.CATEGORY, c) for c in rule.unless)
            authoritative = f"({types}) NOT ({unless})" if unless else types
            accepted.append(authoritative)
            by_type_parts.append(authoritative)
        for named in rule.names:
            in_types = sql.any_tag(sql.tag(sql.SOURCE_TYPE, t) for t in named.types)
            shown = [e for e in (_names(named.terms),) if e]
            unless = _names(named.unless)
            if rule.trusted:
                own = f"tags : ({sql.tag(sql.CATEGORY, category)})"
                shown.append(own)
                trusted = f"({in_types}) AND ({own})"
                by_type_parts.append(f"({trusted}) NOT ({unless})" if unless else trusted)
            group = f"({in_types}) AND ({' OR '.join(f'({e})' for e in shown)})"
            accepted.append(f"({group}) NOT ({unless})" if unless else group)
    accept = " OR ".join(f"({e})" for e in dict.fromkeys(accepted))
    by_type = " OR ".join(f"({e})" for e in dict.fromkeys(by_type_parts))
    # When the type alone decides (dentists, shops), every business accepted shows that signal: no tier of
    # businesses without it to read.
    typed = by_type == accept
    if want.terms_required and persona:
        # Every business accepted shows the persona's name.
        if typed:
            return f"({accept}) AND ({persona})", [], CATEGORY_POINTS + NAME_POINTS, 0
        if not by_type:  # a kind only names decide (distilleries)
            return f"({accept}) AND ({persona})", [], NAME_POINTS, 0
        by_type_named = f"({by_type}) AND ({persona})"
        return f"({accept}) AND ({persona})", [(CATEGORY_POINTS, by_type_named)], NAME_POINTS, NAME_POINTS
    if typed:
        return accept, [(NAME_POINTS, persona)] if persona else [], CATEGORY_POINTS, CATEGORY_POINTS
    signals = [(CATEGORY_POINTS, by_type)] if by_type else []
    signals += [(NAME_POINTS, persona)] if persona else []
    return accept, signals, REST_POINTS, 0


def _with_qualifiers(accept: str, want: Wanted) -> str | None:
    """``accept`` narrowed to businesses showing every qualifier (and no excluded category); None when the
    directory cannot show one of them at all (it records no tag for it, and names do not say it)."""
    for qualifier in want.qualifiers:
        shown = [
            e
            for e in (
                _names(qualifier.name_terms),
                sql.any_tag(sql.tag(sql.SOURCE_TYPE, t) for t in qualifier.source_types),
            )
            if e
        ]
        chains = _names(qualifier.chains)
        if not shown and not chains:
            return None
        if shown:
            accept = f"({accept}) AND ({' OR '.join(f'({e})' for e in shown)})"
        if chains:
            accept = f"({accept}) NOT ({chains})"
    other_trade = _names(want.unless)
    if other_trade:
        accept = f"({accept}) NOT ({other_trade})"
    excluded = sql.any_tag(sql.tag(sql.CATEGORY, c) for c in want.excluded)
    return f"({accept}) NOT ({excluded})" if excluded else accept


def _zones(area: Area) -> tuple[tuple[sql.Zone, ...], sql.Circle | None]:
    """Inside the place (its boundary tags, or its grid cells and radius), then nearby (the grid cells within
    reach, not inside); and the centre distances are measured from."""
    boundary = _boundary_tags(area)
    if area.radius_km is None and boundary is None:
        raise InputError(f"The place {area.name!r} names no area to search.")
    centre = None
    if area.radius_km is not None and (area.lat is None or area.lon is None):
        raise InputError(f"The place {area.name!r} has no coordinates to search around.")
    if area.lat is not None and area.lon is not None and (area.radius_km or area.nearby_km):
        scale = area.radius_km or (area.nearby_km or 0.0) / NEARBY_FACTOR
        centre = sql.Circle(area.lat, area.lon, scale)
    inside_sql, inside_params = _inside_sql(area)
    zones = [sql.Zone("inside", _inside_place(area, boundary), *_inside_where(area))]
    if centre is not None and area.radius_km is None and boundary is not None:
        # A city that is its own council: its centre (the town's own radius) first, then the rest of the
        # council, so that a name's signal never puts the far edge of Leeds before its middle.
        cells = sql.cells_covering(lat=centre.lat, lon=centre.lon, radius_km=centre.radius_km)
        core = f"({sql.any_tag(cells)}) AND ({boundary})" if cells else boundary
        near_centre: dict[str, object] = {"rc2": centre.radius_km * centre.radius_km}
        zones = [
            sql.Zone("inside", core, "{d2} <= :rc2", near_centre),
            sql.Zone("inside", boundary, "{d2} IS NULL OR {d2} > :rc2", near_centre),
        ]
    if centre is not None and area.nearby_km is not None:
        cells = sql.cells_covering(lat=centre.lat, lon=centre.lon, radius_km=area.nearby_km)
        near = {"rn2": area.nearby_km * area.nearby_km}
        where = f"{{d2}} <= :rn2 AND NOT ({inside_sql})"
        zones.append(sql.Zone("nearby", sql.any_tag(cells) if cells else None, where, near | inside_params))
    return tuple(zones), centre


def _boundary_tags(area: Area) -> str | None:
    tags = [
        *(sql.tag(sql.COUNCIL, key) for key in sorted(area.councils)),
        *(sql.tag(sql.COUNTY, name) for name in sorted(area.counties)),
        *(sql.tag(sql.REGION, name) for name in sorted(area.regions)),
        *(sql.tag(sql.OUTWARD, code) for code in sorted(area.districts)),
    ]
    return sql.any_tag(tag for tag in tags if len(tag) > 2)


def _inside_place(area: Area, boundary: str | None) -> str | None:
    if area.radius_km is None or area.lat is None or area.lon is None:
        return boundary
    cells = sql.cells_covering(lat=area.lat, lon=area.lon, radius_km=area.radius_km)
    circle = sql.any_tag(cells) if cells else None
    if circle and boundary:
        return f"({circle}) AND ({boundary})"
    return circle or boundary


def _inside_where(area: Area) -> tuple[str, dict[str, object]]:
    """The exact distance test of a place with a radius (the grid cells only come near it)."""
    if area.radius_km is None:
        return "", {}
    return "{d2} <= :ri2", {"ri2": area.radius_km * area.radius_km}


def _inside_sql(area: Area) -> tuple[str, dict[str, object]]:
    """Inside as an SQL condition on a row (for the nearby zone to leave out)."""
    parts: list[str] = []
    params: dict[str, object] = {}
    if area.councils or area.districts:
        boundary = []
        if area.councils:
            councils, council_params = sql.in_list("b.council", "c", sorted(area.councils))
            boundary.append(councils)
            params |= council_params
        if area.districts:
            districts, district_params = sql.in_list("b.outward", "d", sorted(area.districts))
            boundary.append(districts)
            params |= district_params
        parts.append(" OR ".join(boundary))
    if area.radius_km is not None:
        parts.append("{d2} <= :ri2")
        params["ri2"] = area.radius_km * area.radius_km
    return " AND ".join(f"({p})" for p in parts) or "0", params


# ---------------------------------------------------------------------------------------------- ranking

_PROVENANCE_FIELDS = tuple(c for c in sql.LEAD_COLUMNS if c not in ("id", "source", "source_date"))
"""The fields of a lead that come from the row (the rest say which row)."""

CLOSENESS_WEIGHT = 0.04
"""Most a short distance adds to a score: less than the 0.05 between relevance levels, so it only orders
businesses of equal relevance."""


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def score(relevance: int, *, distance_km: float | None = None, radius_km: float | None = None) -> float:
    """``relevance`` (hundredths, from the query) plus up to ``CLOSENESS_WEIGHT`` for being near the centre."""
    closeness = 0.0
    if distance_km is not None and radius_km:
        closeness = CLOSENESS_WEIGHT * max(0.0, 1.0 - distance_km / radius_km)
    return round(relevance / 100 + closeness, 4)


def lead_from_row(
    row: sqlite3.Row | dict[str, Any], circle: sql.Circle | None, *, match: LeadMatch | None = None
) -> Lead:
    """One directory row as a ``Lead`` (with its ``match``); every filled field's provenance is the row's source."""
    values = {column: row[column] for column in sql.LEAD_COLUMNS}
    distance = None
    if circle is not None and values["lat"] is not None and values["lon"] is not None:
        distance = round(haversine_km(circle.lat, circle.lon, values["lat"], values["lon"]), 3)
    source = values.pop("source")
    return Lead(
        **{k: v for k, v in values.items() if k != "id"},
        source=source,
        source_id=values["id"],
        distance_km=distance,
        score=score(row["relevance"], distance_km=distance, radius_km=circle.radius_km if circle else None),
        provenance={f: source for f in _PROVENANCE_FIELDS if values.get(f) not in (None, "")},
        match=match,
    )


def dedupe(leads: Iterable[Lead]) -> list[Lead]:
    """Leads in order (best first), each dropped when an earlier one is the same business.

    The same business: the same source id, or the same name at the same postcode as
    ``wyshbone.domain.dedupe.lead_keys`` normalises them ("The Crown & Anchor", "M1 1AA" ≡ "Crown and Anchor",
    "m11aa"). Businesses without a postcode are never merged by name: chains share names.
    """
    seen: set[str] = set()
    kept = []
    for lead in leads:
        keys = lead_keys(lead.source_id, lead.name, lead.postcode)
        if seen.isdisjoint(keys):
            seen.update(keys)
            kept.append(lead)
    return kept
