"""The local business directory (the "Wyshbone Global Database"): import the open data into SQLite, search it.

Import loads ``uk_businesses*.csv.gz`` into one table plus an FTS5 index, placing rows whose postcode is only an
outward code at that district's centre; search turns a persona and a ``RegionMatch`` into one indexed query and
returns ranked, deduplicated ``Lead`` values with provenance.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from wyshbone.domain.dedupe import lead_keys
from wyshbone.domain.models import Lead, RegionKind, RegionMatch
from wyshbone.errors import DirectoryNotImportedError, InputError, PermanentToolError
from wyshbone.providers import _directory_sql as sql

__all__ = [
    "DEFAULT_RADIUS_KM",
    "DISTRICTS_FILE",
    "PHASE_DISTRICTS",
    "PHASE_INDEXING",
    "PHASE_READING",
    "ImportReport",
    "LocalDirectory",
    "PhaseCallback",
    "ProgressCallback",
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

DEFAULT_RADIUS_KM = 5.0
"""Radius searched around a town or area whose ``RegionMatch`` carries none."""

EXCLUDED_UNLESS_ASKED = ("institution",)
"""Categories left out of every search that does not name them (schools, care homes, hospitals)."""

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
            rows_read = sum(_load_file(conn, path, progress) for path in files)
            progress.finish()
            at_district = 0
            if centres:
                phase(PHASE_DISTRICTS)
                at_district = _place_at_districts(conn, centres)
            phase(PHASE_INDEXING)
            conn.execute(sql.CREATE_FTS)
            conn.execute(sql.FILL_FTS)
            conn.execute(sql.OPTIMIZE_FTS)
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
    conn.create_function(sql.TAGS_FUNCTION, 7, sql.row_tags, deterministic=True)


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
) -> list[Lead]:
    """Best ``limit`` businesses for the persona in the region (see ``LocalDirectory.search``)."""
    with LocalDirectory(db_path) as directory:
        return directory.search(categories=categories, terms=terms, region=region, limit=limit)


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
    ) -> list[Lead]:
        """Businesses matching the persona in the region, best first, deduplicated, at most ``limit``.

        Persona: ``category`` in ``categories``, or a term in the name (or, when there are no categories,
        in ``source_type``). Institutions are left out unless asked for. A world city gives [] (the
        directory is British). Raises ``InputError`` for an empty persona or a region it cannot search.
        """
        if region.kind is RegionKind.WORLD_CITY:
            return []
        query = build_query(categories=categories, terms=terms, region=region)
        if limit <= 0:
            return []
        fetch = limit + limit // 2 + 10
        while True:
            rows = self._ranked_rows(query, fetch)
            leads = dedupe(lead_from_row(row, query.circle) for row in rows)
            # Duplicates dropped can leave the page short: ask again for more.
            if len(leads) >= limit or len(rows) < fetch:
                return leads[:limit]
            fetch *= 4

    def _ranked_rows(self, query: sql.SearchQuery, fetch: int) -> list[sqlite3.Row]:
        rows: list[sqlite3.Row] = []
        for tier in query.tiers:
            rows += self._fetch(*sql.tier_statement(tier, query.circle, limit=fetch - len(rows)))
            if len(rows) >= fetch:
                break
        return rows

    def _fetch(self, statement: str, params: dict[str, object]) -> list[sqlite3.Row]:
        with self._lock:
            try:
                cursor = self._conn.execute(statement, params)
                cursor.row_factory = sqlite3.Row
                return cursor.fetchall()
            except sqlite3.DatabaseError as exc:
                raise PermanentToolError(
                    f"The business directory at {self.db_path} cannot be read: {exc}"
                ) from exc


# Relevance, in hundredths: persona signals add up; the postcode bonus (5) separates rows within a tier.
CATEGORY_POINTS, NAME_POINTS, TYPE_POINTS = 100, 60, 30


def build_query(*, categories: Sequence[str], terms: Sequence[str], region: RegionMatch) -> sql.SearchQuery:
    """The persona and region of a search as tiers of FTS5 expressions (pure)."""
    wanted = tuple(dict.fromkeys(c for c in categories if c))
    excluded = [c for c in EXCLUDED_UNLESS_ASKED if c not in wanted]
    term_match = sql.term_query(terms)
    signals = []
    if wanted:
        signals.append((CATEGORY_POINTS, f"tags : ({' OR '.join(sql.tag(sql.CATEGORY, c) for c in wanted)})"))
    if term_match:
        signals.append((NAME_POINTS, f"name : ({term_match})"))
        # The categories are the normalised source_type: a term there only helps a persona without them.
        if not wanted:
            signals.append((TYPE_POINTS, f"source_type : ({term_match})"))
    if not signals:
        raise InputError("A directory search needs categories or search terms.")
    place_match, circle = _place(region)
    excluded_match = sql.any_tag(sql.tag(sql.CATEGORY, c) for c in excluded)
    return sql.SearchQuery(sql.tiers(signals=signals, place=place_match, excluded=excluded_match), circle)


_FIELD_PREFIXES: dict[RegionKind, tuple[str, ...]] = {
    RegionKind.COUNTY: (sql.COUNTY, sql.LOCAL_AUTHORITY),
    RegionKind.LOCAL_AUTHORITY: (sql.COUNTY, sql.LOCAL_AUTHORITY),
    RegionKind.REGION: (sql.REGION,),
    RegionKind.POSTCODE_DISTRICT: (sql.OUTWARD,),
}


def _place(region: RegionMatch) -> tuple[str | None, sql.Circle | None]:
    """The region as a tag expression and, for towns and areas, the circle to test distances against."""
    prefixes = _FIELD_PREFIXES.get(region.kind)
    if prefixes is not None:
        values = region.field_values or (region.field_value or region.name,)
        match = sql.any_tag(sql.field_tags(prefixes, values))
        if match is None:
            raise InputError(f"The region {region.name!r} names no {region.kind.value} to search.")
        return match, None
    if region.lat is None or region.lon is None:
        raise InputError(f"The {region.kind.value} {region.name!r} has no coordinates to search around.")
    circle = sql.Circle(region.lat, region.lon, region.radius_km or DEFAULT_RADIUS_KM)
    cells = sql.cells_covering(lat=circle.lat, lon=circle.lon, radius_km=circle.radius_km)
    return (sql.any_tag(cells) if cells else None), circle


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


def lead_from_row(row: sqlite3.Row | dict[str, Any], circle: sql.Circle | None) -> Lead:
    """One directory row as a ``Lead``; every filled field's provenance is the row's source."""
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
