"""GLOBAL_DB_SEARCH providers: the embedded directory, then OpenStreetMap Overpass, then Google Places.

Each turns (persona, qualifiers, region, maxResults) into ranked leads, inside the place first, each with its
``match`` and each field's source; the executor falls back along the chain when one fails or finds nothing
(SUP-011). Each also says before approval what it can deliver (``count``): the directory counts with the query
the step will run, online providers state their cap. A step's data says how many were wanted, how many are
inside and nearby, and, when too few, why (``shortfall``).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from wyshbone.config import Settings
from wyshbone.domain.leads import merge_leads
from wyshbone.domain.matching import Wanted, qualifier_reach, wanted
from wyshbone.domain.models import (
    Lead,
    LeadToolExecutionEnv,
    LeadToolExecutionResult,
    RegionKind,
    RegionMatch,
)
from wyshbone.domain.personas import categories_for, search_terms
from wyshbone.domain.planner import (
    DIRECTORY_LABEL,
    SEARCH_OVERFETCH,
    ProviderInfo,
    SearchCoverage,
    shortfall_clause,
)
from wyshbone.errors import DirectoryNotImportedError, PermanentToolError
from wyshbone.providers.google_places import (
    GOOGLE_PLACES,
    MAX_RESULTS,
    google_places_info,
    search_places,
)
from wyshbone.providers.google_places import SERVICE as PLACES_SERVICE
from wyshbone.providers.local_directory import count_directory, directory_info, search_directory
from wyshbone.providers.overpass import OVERPASS, overpass_info, search_overpass
from wyshbone.providers.overpass import SERVICE as OSM_SERVICE
from wyshbone.providers.website import registrable_domain
from wyshbone.tools.registry import RESULT_COUNT, Provider

LOCAL_DIRECTORY = "local_directory"

LABELS = {LOCAL_DIRECTORY: DIRECTORY_LABEL, OVERPASS: OSM_SERVICE, GOOGLE_PLACES: PLACES_SERVICE}
"""Each search provider as a person knows it."""


@dataclass(frozen=True, slots=True)
class SearchAsk:
    """A search step's params, read once."""

    persona: str
    categories: tuple[str, ...]
    qualifiers: tuple[str, ...]
    region: RegionMatch
    limit: int
    """How many candidates to fetch (``maxResults``)."""
    wanted: int
    """How many leads the goal asked for (``volume``)."""
    nearby_allowed: bool

    @classmethod
    def of(cls, params: dict[str, Any]) -> SearchAsk:
        raw = params.get("regionMatch")
        if not raw:
            raise PermanentToolError("the search step has no resolved region to search in")
        limit = int(params.get("maxResults") or 40)
        return cls(
            persona=str(params.get("persona") or ""),
            categories=tuple(str(c) for c in params.get("categories") or ()),
            qualifiers=tuple(str(q) for q in params.get("qualifiers") or ()),
            region=RegionMatch.model_validate(raw),
            limit=limit,
            wanted=int(params.get("volume") or max(1, limit // SEARCH_OVERFETCH)),
            nearby_allowed=bool(params.get("nearbyAllowed")),
        )

    def want(self) -> Wanted:
        return wanted(persona=self.persona, categories=self.categories, qualifiers=self.qualifiers)

    def british(self) -> RegionMatch:
        """The region, which the directory can only search in Great Britain."""
        if self.region.kind is RegionKind.WORLD_CITY:
            raise PermanentToolError(
                f"the Wyshbone Global Database covers Great Britain only; {self.region.name} "
                f"({self.region.country}) needs an online provider"
            )
        return self.region


def local_directory_provider(db_path: Path, *, online: Sequence[str] = ()) -> Provider:
    """The embedded directory as a search provider; not configured until ``wyshbone db import`` ran.

    ``online`` names the online search providers that are set up (a shortfall says when there are none).
    """
    imported = directory_info(db_path) is not None
    info = ProviderInfo(
        LOCAL_DIRECTORY,
        configured=imported,
        reason=None if imported else "the directory is not imported yet: run `wyshbone db import`",
        external=False,
        countries=("GB",),
        label=DIRECTORY_LABEL,
    )

    async def run(params: dict[str, Any], env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        ask = SearchAsk.of(params)
        try:
            leads = await asyncio.to_thread(
                search_directory,
                db_path,
                categories=ask.categories,
                terms=search_terms(ask.persona) if ask.persona else [],
                region=ask.british(),
                limit=ask.limit,
                persona=ask.persona,
                qualifiers=ask.qualifiers,
            )
        except DirectoryNotImportedError as exc:
            raise PermanentToolError(str(exc)) from exc
        return _found(leads, LOCAL_DIRECTORY, ask, online=bool(online))

    return Provider(info, run, functools.partial(_directory_coverage, db_path))


def _directory_coverage(db_path: Path, params: dict[str, Any]) -> SearchCoverage:
    """What the embedded directory holds for a search step, counted before approval."""
    ask = SearchAsk.of(params)
    want = ask.want()
    found = count_directory(
        db_path,
        categories=ask.categories,
        terms=search_terms(ask.persona) if ask.persona else [],
        region=ask.british(),
        persona=ask.persona,
        qualifiers=ask.qualifiers,
        wanted=ask.wanted,
    )
    name_only, never = qualifier_reach(want.qualifiers)
    return SearchCoverage(
        available=found.inside,
        nearby=found.nearby,
        kind_held=bool(want.categories),
        name_only=name_only,
        unshowable=never,
        gaps=found.gaps,
        dates=found.dates,
    )


def _found(leads: list[Lead], provider: str, ask: SearchAsk, *, online: bool) -> LeadToolExecutionResult:
    return LeadToolExecutionResult(success=True, data=_search_data(leads, [provider], ask, online=online))


def _search_data(leads: list[Lead], providers: list[str], ask: SearchAsk, *, online: bool) -> dict[str, Any]:
    inside = sum(1 for lead in leads if lead.match is not None and lead.match.area == "inside")
    nearby = sum(1 for lead in leads if lead.match is not None and lead.match.area == "nearby")
    asked = ask.want().asked()
    shortfall = None
    if len(leads) < ask.wanted:
        shortfall = shortfall_clause(
            asked=asked,
            place=ask.region.name,
            searched=[LABELS.get(p, p) for p in providers],
            nearby=nearby > 0,
            online=online,
        )
    return {
        RESULT_COUNT: len(leads),
        "provider": "+".join(providers),
        "region": ask.region.name,
        "asked": asked,
        "wanted": ask.wanted,
        "inside": inside,
        "nearby": nearby,
        "shortfall": shortfall,
        "leads": [lead.to_json_dict() for lead in leads],
    }


def overpass_provider(settings: Settings, client: httpx.AsyncClient) -> Provider:
    """OpenStreetMap via Overpass (keyless): configured when ``WYSHBONE_OVERPASS_URL`` is set."""

    async def run(params: dict[str, Any], env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        ask = SearchAsk.of(params)
        leads = await search_overpass(
            client=client,
            url=settings.overpass_url or "",
            persona=ask.persona,
            region=ask.region,
            limit=ask.limit,
            qualifiers=ask.qualifiers,
            categories=ask.categories or categories_for(ask.persona),
        )
        return _found(leads, OVERPASS, ask, online=True)

    def count(params: dict[str, Any]) -> SearchCoverage:
        name_only, never = qualifier_reach(SearchAsk.of(params).want().qualifiers, tags=True)
        return SearchCoverage(name_only=name_only, unshowable=never)

    return Provider(overpass_info(settings), run, count)


def google_places_provider(settings: Settings, client: httpx.AsyncClient) -> Provider:
    """Google Places (New) Text Search: configured when ``WYSHBONE_GOOGLE_PLACES_API_KEY`` is set."""
    key = settings.google_places_api_key

    async def run(params: dict[str, Any], env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        ask = SearchAsk.of(params)
        leads = await search_places(
            client=client,
            api_key=key.get_secret_value() if key else "",
            base_url=settings.google_places_base_url,
            persona=ask.persona,
            region=ask.region,
            limit=ask.limit,
            qualifiers=ask.qualifiers,
            categories=ask.categories or categories_for(ask.persona),
        )
        return _found(leads, GOOGLE_PLACES, ask, online=True)

    def count(params: dict[str, Any]) -> SearchCoverage:
        name_only, never = qualifier_reach(SearchAsk.of(params).want().qualifiers, types=True)
        return SearchCoverage(cap=MAX_RESULTS, name_only=name_only, unshowable=never)

    return Provider(google_places_info(settings), run, count)


def merge_search_results(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Several providers' leads as one list, without duplicates, each field keeping its source; every
    provider's leads inside the place before any nearby one."""
    batches = [[Lead.model_validate(item) for item in data.get("leads", [])] for data in results]
    merged = merge_leads(
        batches, domain_of=lambda lead: lead.domain or registrable_domain(lead.website or "")
    )
    leads = sorted(merged, key=lambda lead: lead.match is not None and lead.match.area == "nearby")
    providers = [str(data.get("provider", "")) for data in results]
    first = results[0] if results else {}
    wanted_count = max((int(data.get("wanted") or 0) for data in results), default=0)
    inside = sum(1 for lead in leads if lead.match is not None and lead.match.area == "inside")
    nearby = sum(1 for lead in leads if lead.match is not None and lead.match.area == "nearby")
    shortfall = None
    if len(leads) < wanted_count:
        shortfall = shortfall_clause(
            asked=str(first.get("asked") or "businesses"),
            place=str(first.get("region") or ""),
            searched=[LABELS.get(p, p) for p in providers],
            nearby=nearby > 0,
            online=True,
        )
    return {
        RESULT_COUNT: len(leads),
        "provider": "+".join(providers),
        "region": first.get("region"),
        "asked": first.get("asked"),
        "wanted": wanted_count,
        "inside": inside,
        "nearby": nearby,
        "shortfall": shortfall,
        "leads": [lead.to_json_dict() for lead in leads],
    }
