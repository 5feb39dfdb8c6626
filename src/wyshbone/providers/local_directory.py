"""The local business directory (the "Wyshbone Global Database"): search the open data imported into SQLite.

Search turns what is asked (``domain.matching``: kind, qualifiers) and a ``RegionMatch`` into indexed queries
(``directory_query``), inside the place first, then nearby, and returns ranked, deduplicated ``Lead`` values with
provenance and their ``match``; ``count`` runs the same queries to count them. The import is
``directory_import``'s; its names are re-exported here for the callers that import them from this module.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from wyshbone.domain import areas
from wyshbone.domain.areas import Area, Where, area_for
from wyshbone.domain.coverage import CouncilGap
from wyshbone.domain.curated_places import council_keys
from wyshbone.domain.dedupe import lead_keys
from wyshbone.domain.kind_rules import KIND_RULES
from wyshbone.domain.matching import Business, Wanted, match_business
from wyshbone.domain.matching import wanted as read_wanted
from wyshbone.domain.models import Lead, LeadMatch, RegionKind, RegionMatch
from wyshbone.errors import PermanentToolError
from wyshbone.providers import _directory_sql as sql
from wyshbone.providers._directory_db import council_key, council_name, directory_info, open_imported
from wyshbone.providers.directory_import import (
    DISTRICTS_FILE,
    PHASE_DISTRICTS,
    PHASE_INDEXING,
    PHASE_READING,
    ImportReport,
    PhaseCallback,
    ProgressCallback,
    default_import_paths,
    import_directory,
)
from wyshbone.providers.directory_query import build_query

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

DEFAULT_RADIUS_KM = areas.DEFAULT_RADIUS_KM
"""Radius searched around a town or area whose ``RegionMatch`` carries none."""


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
        self._conn = open_imported(db_path)
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
