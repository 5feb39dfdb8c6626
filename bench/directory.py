"""Local directory: full import time against a plain CSV read of the same files, and search latency over
20 typical goals against an unranked fetch of the same candidates, each with its goal and ratio.
"""

from __future__ import annotations

import csv
import functools
import gzip
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wyshbone.config import Settings
from wyshbone.domain.models import RegionKind, RegionMatch
from wyshbone.providers.local_directory import (
    build_query,
    default_import_paths,
    import_directory,
    search_directory,
)

IMPORT_GOAL_S = 60.0
SEARCH_GOAL_MS = 20.0
REPEATS = 5
LIMIT = 40
TOWN_RADIUS_KM = 6.0

Row = tuple[str, float, str]


@dataclass(frozen=True, slots=True)
class Goal:
    text: str
    categories: tuple[str, ...]
    terms: tuple[str, ...]
    region: RegionMatch


def _town(
    places: dict[str, tuple[float, float]], name: str, kind: RegionKind = RegionKind.TOWN
) -> RegionMatch:
    lat, lon = places[name]
    return RegionMatch(name=name, kind=kind, country="GB", lat=lat, lon=lon, radius_km=TOWN_RADIUS_KM)


def _field(kind: RegionKind, *values: str) -> RegionMatch:
    return RegionMatch(name=values[0], kind=kind, country="GB", field_value=values[0], field_values=values)


def _places(open_data_dir: Path) -> dict[str, tuple[float, float]]:
    """Town → (lat, lon) from the gazetteer, the most populous where a name repeats."""
    best: dict[str, tuple[int, float, float]] = {}
    with (open_data_dir / "gb_places.csv").open(encoding="utf-8", newline="") as f:
        for place in csv.DictReader(f):
            population = int(place["population"] or 0)
            if place["name"] not in best or population > best[place["name"]][0]:
                best[place["name"]] = (population, float(place["lat"]), float(place["lon"]))
    return {name: (lat, lon) for name, (_, lat, lon) in best.items()}


COFFEE = (("cafe",), ("coffee", "cafe", "café"))
PUBS = (("pub_bar",), ("pub", "inn", "tavern", "arms"))
DENTISTS = (("dentist",), ("dental", "dentist", "dentistry", "orthodontic"))
RESTAURANTS = (("restaurant",), ("restaurant", "bistro", "brasserie", "kitchen", "grill"))


def goals(open_data_dir: Path) -> list[Goal]:
    """Twenty goals people type: towns, counties, regions, a postcode district and an area."""
    p = _places(open_data_dir)
    C, LA, R, PD = (
        RegionKind.COUNTY,
        RegionKind.LOCAL_AUTHORITY,
        RegionKind.REGION,
        RegionKind.POSTCODE_DISTRICT,
    )
    cotswolds = RegionMatch(
        name="Cotswolds", kind=RegionKind.AREA, country="GB", lat=51.83, lon=-1.83, radius_km=20
    )
    specs: list[tuple[str, tuple[tuple[str, ...], tuple[str, ...]], RegionMatch]] = [
        ("coffee shops in Manchester", COFFEE, _town(p, "Manchester")),
        ("pubs in Leeds", PUBS, _town(p, "Leeds")),
        ("dentists in Bristol", DENTISTS, _town(p, "Bristol")),
        ("breweries in Yorkshire", (("brewery",), ("brewery", "brewing", "brewers", "brew")), _field(R, "Yorkshire and The Humber")),
        ("restaurants in Kent", RESTAURANTS, _field(C, "Kent")),
        ("cafes near LS6", COFFEE, _field(PD, "LS6")),
        ("coffee shops in London", COFFEE, _town(p, "London")),
        ("restaurants in London", RESTAURANTS, _field(R, "London")),
        ("hotels in Edinburgh", (("hotel",), ("hotel",)), _town(p, "Edinburgh")),
        ("pubs in Birmingham", PUBS, _town(p, "Birmingham")),
        ("pubs in Glasgow", PUBS, _town(p, "Glasgow")),
        ("dentists in Cardiff", DENTISTS, _town(p, "Cardiff")),
        ("restaurants in Brighton", RESTAURANTS, _town(p, "Brighton")),
        ("distilleries in Scotland", (("distillery",), ("distillery", "distillers", "gin", "whisky")), _field(R, "Scotland")),
        ("pubs in Cornwall", PUBS, _field(LA, "Cornwall")),
        ("vineyards in the South East", (("winery_cidery",), ("vineyard", "winery", "wine estate")), _field(R, "South East")),
        ("chip shops in Newcastle", (("takeaway",), ("fish", "chips", "chippy", "fish bar")), _town(p, "Newcastle upon Tyne")),
        ("pubs in the Cotswolds", PUBS, cotswolds),
        ("farm shops in Devon", (("shop",), ("farm shop", "farm")), _field(C, "Devon")),
        ("delis in Oxford", (("shop",), ("deli", "delicatessen")), _town(p, "Oxford")),
    ]  # fmt: skip
    return [Goal(text, cats, terms, region) for text, (cats, terms), region in specs]


def _plain_read(paths: Sequence[Path]) -> tuple[int, float]:
    started = time.perf_counter()
    rows = 0
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
            rows += sum(1 for _ in csv.reader(f)) - 1
    return rows, time.perf_counter() - started


def _timed(fn: Callable[[], object]) -> float:
    """Milliseconds one call takes."""
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _unranked(conn: sqlite3.Connection, goal: Goal) -> Callable[[], object]:
    """The same candidates straight from the FTS5 index, without tiers, ranking, dedupe or ``Lead``s."""
    query = build_query(categories=goal.categories, terms=goal.terms, region=goal.region)
    match = " OR ".join(f"({tier.match})" for tier in query.tiers)
    statement = (
        "SELECT b.* FROM business_fts JOIN business AS b ON b.rowid = business_fts.rowid"
        " WHERE business_fts MATCH ? LIMIT ?"
    )
    return lambda: conn.execute(statement, (match, LIMIT)).fetchall()


def _p95(samples: Sequence[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[94]


def _measure_import(paths: Sequence[Path], db: Path) -> Row:
    plain_rows, plain_s = _plain_read(paths)
    starts: list[tuple[str, float]] = []
    report = import_directory(paths, db, on_phase=lambda phase: starts.append((phase, time.perf_counter())))
    ended = time.perf_counter()
    assert report.rows_read == plain_rows, (report.rows_read, plain_rows)
    bounds = [t for _, t in starts[1:]] + [ended]
    phases = ", ".join(
        f"{phase} {end - start:.1f} s" for (phase, start), end in zip(starts, bounds, strict=True)
    )
    return (
        f"directory import ({report.rows_read:,} rows, {len(paths)} files)",
        report.seconds,
        f"{report.seconds:.1f} s (goal ≤ {IMPORT_GOAL_S:.0f} s: ratio {report.seconds / IMPORT_GOAL_S:.2f}); "
        f"plain csv read of the same gzipped files {plain_s:.1f} s (ratio {report.seconds / plain_s:.1f}×); "
        f"{phases}; {report.rows_at_district:,} outward-code-only rows placed at their district's centre",
    )


def _measure_search(db: Path, all_goals: Sequence[Goal]) -> list[Row]:
    ours: list[float] = []
    bare: list[float] = []
    per_goal: list[Row] = []
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        for goal in all_goals:
            search = functools.partial(
                search_directory,
                db,
                categories=goal.categories,
                terms=goal.terms,
                region=goal.region,
                limit=LIMIT,
            )
            unranked = _unranked(conn, goal)
            leads = search()  # warm-up: the first touch of this goal's pages
            unranked()
            times = [_timed(search) for _ in range(REPEATS)]
            bare += [_timed(unranked) for _ in range(REPEATS)]
            ours += times
            median = statistics.median(times)
            per_goal.append((f"  search: {goal.text}", median, f"{len(leads)} leads, median {median:.1f} ms"))
    finally:
        conn.close()
    p50, p95, bare95 = statistics.median(ours), _p95(ours), _p95(bare)
    n = f"{len(all_goals)} goals × {REPEATS}, limit {LIMIT}"
    summary = [
        (f"directory search p50 ({n})", p50, f"{p50:.1f} ms (goal ≤ {SEARCH_GOAL_MS:.0f} ms: ratio {p50 / SEARCH_GOAL_MS:.2f})"),
        (
            f"directory search p95 ({n})",
            p95,
            f"{p95:.1f} ms (goal ≤ {SEARCH_GOAL_MS:.0f} ms: ratio {p95 / SEARCH_GOAL_MS:.2f}); "
            f"unranked FTS fetch of the same candidates p95 {bare95:.1f} ms (ratio {p95 / bare95:.1f}×)",
        ),
    ]  # fmt: skip
    return summary + per_goal


def run(open_data_dir: Path, work_dir: Path) -> list[Row]:
    """Import the open data into ``work_dir`` and time it, then time 20 searches against it."""
    paths = default_import_paths(open_data_dir)
    if not paths:
        raise FileNotFoundError(f"no uk_businesses*.csv.gz in {open_data_dir} (set WYSHBONE_OPEN_DATA_DIR)")
    db = work_dir / "directory.sqlite"
    rows = [_measure_import(paths, db)]
    rows += _measure_search(db, goals(open_data_dir))
    return rows


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        for name, _, text in run(Settings().open_data_dir, Path(tmp)):
            print(f"{name}: {text}", flush=True)
