"""Local directory: full import time against a plain CSV read of the same files, search latency over 20 typical
goals against an unranked fetch of the same candidates, and the coverage count (what the plan shows before
approval, with the search's own queries) against the search, each with its goal and ratio.
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
from wyshbone.domain.matching import wanted
from wyshbone.domain.models import RegionKind, RegionMatch
from wyshbone.providers.local_directory import (
    LocalDirectory,
    build_query,
    count_directory,
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
    persona: str = ""


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


COFFEE = (("cafe",), ("coffee", "cafe", "café"), "coffee shop")
PUBS = (("pub_bar",), ("pub", "inn", "tavern", "arms"), "pub")
DENTISTS = (("dentist",), ("dental", "dentist", "dentistry", "orthodontic"), "dentist")
RESTAURANTS = (("restaurant",), ("restaurant", "bistro", "brasserie", "kitchen", "grill"), "restaurant")


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
    specs: list[tuple[str, tuple[tuple[str, ...], tuple[str, ...], str], RegionMatch]] = [
        ("coffee shops in Manchester", COFFEE, _town(p, "Manchester")),
        ("pubs in Leeds", PUBS, _town(p, "Leeds")),
        ("dentists in Bristol", DENTISTS, _town(p, "Bristol")),
        ("breweries in Yorkshire", (("brewery",), ("brewery", "brewing", "brewers", "brew"), "brewery"), _field(R, "Yorkshire and The Humber")),
        ("restaurants in Kent", RESTAURANTS, _field(C, "Kent")),
        ("cafes near LS6", COFFEE, _field(PD, "LS6")),
        ("coffee shops in London", COFFEE, _town(p, "London")),
        ("restaurants in London", RESTAURANTS, _field(R, "London")),
        ("hotels in Edinburgh", (("hotel",), ("hotel",), "hotel"), _town(p, "Edinburgh")),
        ("pubs in Birmingham", PUBS, _town(p, "Birmingham")),
        ("pubs in Glasgow", PUBS, _town(p, "Glasgow")),
        ("dentists in Cardiff", DENTISTS, _town(p, "Cardiff")),
        ("restaurants in Brighton", RESTAURANTS, _town(p, "Brighton")),
        ("distilleries in Scotland", (("distillery",), ("distillery", "distillers", "gin", "whisky"), "distillery"), _field(R, "Scotland")),
        ("pubs in Cornwall", PUBS, _field(LA, "Cornwall")),
        ("vineyards in the South East", (("winery_cidery",), ("vineyard", "winery", "wine estate"), "vineyard"), _field(R, "South East")),
        ("chip shops in Newcastle", (("takeaway",), ("fish", "chips", "chippy", "fish bar"), "chip shop"), _town(p, "Newcastle upon Tyne")),
        ("pubs in the Cotswolds", PUBS, cotswolds),
        ("farm shops in Devon", (("shop",), ("farm shop", "farm"), "farm shop"), _field(C, "Devon")),
        ("delis in Oxford", (("shop",), ("deli", "delicatessen"), "deli"), _town(p, "Oxford")),
    ]  # fmt: skip
    return [Goal(text, cats, terms, region, persona) for text, (cats, terms, persona), region in specs]


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


def _unranked(conn: sqlite3.Connection, directory: LocalDirectory, goal: Goal) -> Callable[[], object]:
    """The same candidates straight from the FTS5 index (inside the place), without tiers, distances, ranking,
    dedupe, matching or ``Lead``s."""
    want = wanted(persona=goal.persona, categories=goal.categories, terms=goal.terms)
    query = build_query(want, directory.area(goal.region))
    zone = query.zones[0]
    match = f"({query.accept}) AND ({zone.place})" if zone.place else query.accept
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
    counts: list[float] = []
    per_goal: list[Row] = []
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    directory = LocalDirectory(db)
    try:
        for goal in all_goals:
            asked = {
                "categories": goal.categories,
                "terms": goal.terms,
                "region": goal.region,
                "persona": goal.persona,
            }
            search = functools.partial(search_directory, db, **asked, limit=LIMIT)
            # What the plan runs before approval: a fresh handle, as the provider's count hook opens one.
            count = functools.partial(count_directory, db, **asked, wanted=LIMIT // 2)
            unranked = _unranked(conn, directory, goal)
            leads = search()  # warm-up: the first touch of this goal's pages
            counted = count()
            unranked()
            times = [_timed(search) for _ in range(REPEATS)]
            bare += [_timed(unranked) for _ in range(REPEATS)]
            count_times = [_timed(count) for _ in range(REPEATS)]
            ours += times
            counts += count_times
            median, count_median = statistics.median(times), statistics.median(count_times)
            inside = sum(1 for lead in leads if lead.match and lead.match.area == "inside")
            per_goal.append(
                (
                    f"  search: {goal.text}",
                    median,
                    f"{len(leads)} leads ({inside} inside), median {median:.1f} ms; counted {counted.inside} "
                    f"inside{f', {counted.nearby} nearby' if counted.nearby is not None else ''}, median "
                    f"{count_median:.1f} ms",
                )
            )
    finally:
        conn.close()
        directory.close()
    p50, p95, bare95 = statistics.median(ours), _p95(ours), _p95(bare)
    c50, c95 = statistics.median(counts), _p95(counts)
    n = f"{len(all_goals)} goals × {REPEATS}, limit {LIMIT}"
    summary = [
        (f"directory search p50 ({n})", p50, f"{p50:.1f} ms (goal ≤ {SEARCH_GOAL_MS:.0f} ms: ratio {p50 / SEARCH_GOAL_MS:.2f})"),
        (
            f"directory search p95 ({n})",
            p95,
            f"{p95:.1f} ms (goal ≤ {SEARCH_GOAL_MS:.0f} ms: ratio {p95 / SEARCH_GOAL_MS:.2f}); "
            f"unranked FTS fetch of the same candidates p95 {bare95:.1f} ms (ratio {p95 / bare95:.1f}×)",
        ),
        (f"coverage count p50 ({len(all_goals)} goals × {REPEATS})", c50, f"{c50:.1f} ms (goal ≤ {SEARCH_GOAL_MS:.0f} ms: ratio {c50 / SEARCH_GOAL_MS:.2f})"),
        (
            f"coverage count p95 ({len(all_goals)} goals × {REPEATS})",
            c95,
            f"{c95:.1f} ms (goal ≤ {SEARCH_GOAL_MS:.0f} ms: ratio {c95 / SEARCH_GOAL_MS:.2f}); "
            f"the search's own p95 {p95:.1f} ms (ratio {c95 / p95:.2f})",
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
