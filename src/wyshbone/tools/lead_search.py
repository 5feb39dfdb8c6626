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
from wyshbone.domain.steps import SearchOutput, SearchParams
from wyshbone.errors import DirectoryNotImportedError, PermanentToolError
from wyshbone.providers.google_places import (
    GOOGLE_PLACES,
    MAX_RESULTS,
    google_places_info,
    places_limiter,
    search_places,
)
from wyshbone.providers.google_places import SERVICE as PLACES_SERVICE
from wyshbone.providers.limits import shared_limits_url
from wyshbone.providers.local_directory import count_directory, directory_info, search_directory
from wyshbone.providers.overpass import OVERPASS, overpass_info, search_overpass
from wyshbone.providers.overpass import SERVICE as OSM_SERVICE
from wyshbone.providers.website import registrable_domain
from wyshbone.tools.registry import Provider

LOCAL_DIRECTORY = "local_directory"

LABELS = {LOCAL_DIRECTORY: DIRECTORY_LABEL, OVERPASS: OSM_SERVICE, GOOGLE_PLACES: PLACES_SERVICE}
"""Each search provider as a person knows it."""


@dataclass(frozen=True, slots=True)
class SearchAsk:
    """A search step's params, with what they leave unsaid worked out."""

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
    def of(cls, params: SearchParams) -> SearchAsk:
        if params.region_match is None:
            raise PermanentToolError("the search step has no resolved region to search in")
        limit = params.max_results
        return cls(
            persona=params.persona or "",
            categories=tuple(params.categories),
            qualifiers=tuple(params.qualifiers),
            region=params.region_match,
            limit=limit,
            wanted=params.volume or max(1, limit // SEARCH_OVERFETCH),
            nearby_allowed=params.nearby_allowed,
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

    def directory_terms(self) -> dict[str, Any]:
        """What the directory's search and its count are both asked: the same kind, words, place and qualifiers."""
        return {
            "categories": self.categories,
            "terms": search_terms(self.persona) if self.persona else [],
            "region": self.british(),
            "persona": self.persona,
            "qualifiers": self.qualifiers,
        }


def local_directory_provider(db_path: Path, *, online: Sequence[str] = ()) -> Provider[SearchParams]:
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

    async def run(params: SearchParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        ask = SearchAsk.of(params)
        try:
            leads = await asyncio.to_thread(
                functools.partial(search_directory, db_path, limit=ask.limit, **ask.directory_terms())
            )
        except DirectoryNotImportedError as exc:
            raise PermanentToolError(str(exc)) from exc
        return _found(leads, LOCAL_DIRECTORY, ask, online=bool(online))

    return Provider(info, run, functools.partial(_directory_coverage, db_path))


def _directory_coverage(db_path: Path, params: SearchParams) -> SearchCoverage:
    """What the embedded directory holds for a search step, counted before approval."""
    ask = SearchAsk.of(params)
    want = ask.want()
    found = count_directory(db_path, wanted=ask.wanted, **ask.directory_terms())
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
    output = _search_output(
        leads, [provider], asked=ask.want().asked(), region=ask.region.name, wanted=ask.wanted, online=online
    )
    return LeadToolExecutionResult(success=True, output=output)


def _search_output(
    leads: list[Lead],
    providers: list[str],
    *,
    asked: str | None,
    region: str | None,
    wanted: int,
    online: bool,
) -> SearchOutput:
    """The leads found, counted inside and nearby, with why there are fewer than ``wanted`` when there are."""
    inside = sum(1 for lead in leads if lead.match is not None and lead.match.area == "inside")
    nearby = sum(1 for lead in leads if lead.match is not None and lead.match.area == "nearby")
    shortfall = None
    if len(leads) < wanted:
        shortfall = shortfall_clause(
            asked=asked or "businesses",
            place=region or "",
            searched=[LABELS.get(p, p) for p in providers],
            nearby=nearby > 0,
            online=online,
        )
    return SearchOutput(
        result_count=len(leads),
        provider="+".join(providers),
        region=region,
        asked=asked,
        wanted=wanted,
        inside=inside,
        nearby=nearby,
        shortfall=shortfall,
        leads=leads,
    )


def overpass_provider(settings: Settings, client: httpx.AsyncClient) -> Provider[SearchParams]:
    """OpenStreetMap via Overpass (keyless): configured when ``WYSHBONE_OVERPASS_URL`` is set."""

    async def run(params: SearchParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
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

    def count(params: SearchParams) -> SearchCoverage:
        name_only, never = qualifier_reach(SearchAsk.of(params).want().qualifiers, tags=True)
        return SearchCoverage(name_only=name_only, unshowable=never)

    return Provider(overpass_info(settings), run, count)


def google_places_provider(settings: Settings, client: httpx.AsyncClient) -> Provider[SearchParams]:
    """Google Places (New) Text Search: configured when ``WYSHBONE_GOOGLE_PLACES_API_KEY`` is set; every request
    within ``WYSHBONE_GOOGLE_PLACES_PER_MINUTE``, held in total by every process (through Postgres in queue mode)."""
    key = settings.google_places_api_key
    limiter = places_limiter(settings.google_places_per_minute, shared_limits_url(settings))

    async def run(params: SearchParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        ask = SearchAsk.of(params)
        leads = await search_places(
            client=client,
            api_key=key.get_secret_value() if key else "",
            base_url=settings.google_places_base_url,
            persona=ask.persona,
            region=ask.region,
            limit=ask.limit,
            limiter=limiter,
            qualifiers=ask.qualifiers,
            categories=ask.categories or categories_for(ask.persona),
        )
        return _found(leads, GOOGLE_PLACES, ask, online=True)

    def count(params: SearchParams) -> SearchCoverage:
        name_only, never = qualifier_reach(SearchAsk.of(params).want().qualifiers, types=True)
        return SearchCoverage(cap=MAX_RESULTS, name_only=name_only, unshowable=never)

    return Provider(google_places_info(settings), run, count)


def merge_search_results(results: list[SearchOutput]) -> SearchOutput:
    """Several providers' leads as one list, without duplicates, each field keeping its source; every
    provider's leads inside the place before any nearby one."""
    merged = merge_leads(
        [r.leads for r in results],
        domain_of=lambda lead: lead.domain or registrable_domain(lead.website or ""),
    )
    leads = sorted(merged, key=lambda lead: lead.match is not None and lead.match.area == "nearby")
    first = results[0] if results else SearchOutput()
    return _search_output(
        leads,
        [r.provider for r in results],
        asked=first.asked,
        region=first.region,
        wanted=max((r.wanted for r in results), default=0),
        online=True,
    )
