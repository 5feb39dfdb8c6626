"""GLOBAL_DB_SEARCH providers: the embedded directory, then OpenStreetMap Overpass, then Google Places.

Each turns (persona, region, maxResults) into ranked leads with each field's source; the executor falls back
along the chain when one fails or finds nothing (SUP-011).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from wyshbone.config import Settings
from wyshbone.domain.leads import merge_leads
from wyshbone.domain.models import (
    Lead,
    LeadToolExecutionEnv,
    LeadToolExecutionResult,
    RegionKind,
    RegionMatch,
)
from wyshbone.domain.personas import search_terms
from wyshbone.domain.planner import ProviderInfo
from wyshbone.errors import DirectoryNotImportedError, PermanentToolError
from wyshbone.providers.google_places import GOOGLE_PLACES, google_places_info, search_places
from wyshbone.providers.local_directory import directory_info, search_directory
from wyshbone.providers.overpass import OVERPASS, overpass_info, search_overpass
from wyshbone.providers.website import registrable_domain
from wyshbone.tools.registry import RESULT_COUNT, Provider

LOCAL_DIRECTORY = "local_directory"


def local_directory_provider(db_path: Path) -> Provider:
    """The embedded directory as a search provider; not configured until ``wyshbone db import`` ran."""
    imported = directory_info(db_path) is not None
    info = ProviderInfo(
        LOCAL_DIRECTORY,
        configured=imported,
        reason=None if imported else "the directory is not imported yet: run `wyshbone db import`",
        external=False,
        countries=("GB",),
    )

    async def run(params: dict[str, Any], env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        region = _region(params)
        persona = str(params.get("persona") or "")
        try:
            leads = await asyncio.to_thread(
                search_directory,
                db_path,
                categories=list(params.get("categories") or []),
                terms=search_terms(persona),
                region=region,
                limit=int(params.get("maxResults") or 40),
            )
        except DirectoryNotImportedError as exc:
            raise PermanentToolError(str(exc)) from exc
        return _found(leads, LOCAL_DIRECTORY, region)

    return Provider(info, run)


def _found(leads: list[Lead], provider: str, region: RegionMatch) -> LeadToolExecutionResult:
    data = {
        RESULT_COUNT: len(leads),
        "provider": provider,
        "region": region.name,
        "leads": [lead.to_json_dict() for lead in leads],
    }
    return LeadToolExecutionResult(success=True, data=data)


def overpass_provider(settings: Settings, client: httpx.AsyncClient) -> Provider:
    """OpenStreetMap via Overpass (keyless): configured when ``WYSHBONE_OVERPASS_URL`` is set."""

    async def run(params: dict[str, Any], env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        region = _any_region(params)
        leads = await search_overpass(
            client=client,
            url=settings.overpass_url or "",
            persona=str(params.get("persona") or ""),
            region=region,
            limit=int(params.get("maxResults") or 40),
        )
        return _found(leads, OVERPASS, region)

    return Provider(overpass_info(settings), run)


def google_places_provider(settings: Settings, client: httpx.AsyncClient) -> Provider:
    """Google Places (New) Text Search: configured when ``WYSHBONE_GOOGLE_PLACES_API_KEY`` is set."""
    key = settings.google_places_api_key

    async def run(params: dict[str, Any], env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        region = _any_region(params)
        leads = await search_places(
            client=client,
            api_key=key.get_secret_value() if key else "",
            base_url=settings.google_places_base_url,
            persona=str(params.get("persona") or ""),
            region=region,
            limit=int(params.get("maxResults") or 40),
        )
        return _found(leads, GOOGLE_PLACES, region)

    return Provider(google_places_info(settings), run)


def _any_region(params: dict[str, Any]) -> RegionMatch:
    raw = params.get("regionMatch")
    if not raw:
        raise PermanentToolError("the search step has no resolved region to search in")
    return RegionMatch.model_validate(raw)


def _region(params: dict[str, Any]) -> RegionMatch:
    region = _any_region(params)
    if region.kind is RegionKind.WORLD_CITY:
        raise PermanentToolError(
            f"the Wyshbone Global Database covers Great Britain only; {region.name} ({region.country}) "
            "needs an online provider"
        )
    return region


def merge_search_results(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Several providers' leads as one list, without duplicates, each field keeping its source."""
    batches = [[Lead.model_validate(item) for item in data.get("leads", [])] for data in results]
    leads = merge_leads(batches, domain_of=lambda lead: lead.domain or registrable_domain(lead.website or ""))
    providers = [str(data.get("provider", "")) for data in results]
    return {
        RESULT_COUNT: len(leads),
        "provider": "+".join(providers),
        "region": results[0].get("region"),
        "leads": [lead.to_json_dict() for lead in leads],
    }
