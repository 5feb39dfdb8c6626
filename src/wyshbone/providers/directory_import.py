"""Imports the open data into the local directory: ``uk_businesses*.csv.gz`` into one table plus an FTS5 index,
rows whose postcode is only an outward code placed at that district's centre, every council spelling keyed to one
council, and per council and source a record of which kinds of business the open data holds (its coverage)."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from wyshbone.domain.dedupe import name_postcode_key
from wyshbone.errors import InputError
from wyshbone.providers import _directory_sql as sql
from wyshbone.providers._directory_db import council_key, council_name, read_meta

__all__ = [
    "DISTRICTS_FILE",
    "PHASE_DISTRICTS",
    "PHASE_INDEXING",
    "PHASE_READING",
    "ImportReport",
    "PhaseCallback",
    "ProgressCallback",
    "default_import_paths",
    "import_directory",
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


@dataclass(frozen=True, slots=True)
class _Inputs:
    """The files to import, checked, and the district centres to place outward-code-only rows at."""

    files: tuple[Path, ...]
    districts: Path | None
    centres: list[tuple[str, float, float]]


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
    inputs = _inputs(paths, districts)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    progress = _Progress(inputs.files, on_progress)
    with closing(sqlite3.connect(db_path, isolation_level=None)) as conn:
        _prepare_bulk_load(conn)
        with _transaction(conn):
            rows_read, rows_written, at_district = _load(conn, inputs, progress, on_phase or _no_phase)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    seconds = time.perf_counter() - started
    return ImportReport(rows_read, rows_written, inputs.files, seconds, inputs.districts, at_district)


def _inputs(paths: Sequence[Path], districts: Path | None) -> _Inputs:
    files = tuple(Path(p) for p in paths)
    _check_inputs(files)
    districts_path = _districts_path(files, districts)
    return _Inputs(files, districts_path, _read_districts(districts_path) if districts_path else [])


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One transaction: an import that fails leaves the directory as it was."""
    conn.execute("BEGIN")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _load(
    conn: sqlite3.Connection, inputs: _Inputs, progress: _Progress, phase: PhaseCallback
) -> tuple[int, int, int]:
    """Each phase in turn: (rows read, rows in the directory afterwards, rows placed at a district's centre)."""
    phase(PHASE_READING)
    conn.execute(sql.DROP_FTS)
    conn.execute(sql.DROP_DUP_INDEX)
    rows_read = sum(_load_file(conn, path, progress) for path in inputs.files)
    progress.finish()
    at_district = 0
    if inputs.centres:
        phase(PHASE_DISTRICTS)
        at_district = _place_at_districts(conn, inputs.centres)
    phase(PHASE_INDEXING)
    conn.execute(sql.CREATE_DUP_INDEX)
    conn.execute(sql.CREATE_FTS)
    conn.execute(sql.FILL_FTS)
    conn.execute(sql.OPTIMIZE_FTS)
    _record_coverage(conn)
    return rows_read, _write_meta(conn, files=inputs.files, districts=inputs.districts), at_district


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
    meta = read_meta(conn, any_version=True)
    if meta is not None and meta.get("schema_version") != sql.SCHEMA_VERSION:
        conn.executescript(sql.DROP_TABLES)
    conn.executescript(sql.CREATE_TABLES)
    conn.create_function(sql.TAGS_FUNCTION, 9, sql.row_tags, deterministic=True)
    conn.create_function(sql.COUNCIL_FUNCTION, 1, council_key, deterministic=True)
    conn.create_function(sql.DUP_KEY_FUNCTION, 2, _dup_key, deterministic=True)


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


_BATCH_ROWS = 50_000
"""Rows written per ``executemany``."""


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
