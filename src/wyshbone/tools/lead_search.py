"""GLOBAL_DB_SEARCH through the embedded directory: persona + region → ranked leads with provenance."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from wyshbone.domain.models import LeadToolExecutionEnv, LeadToolExecutionResult, RegionKind, RegionMatch
from wyshbone.domain.personas import search_terms
from wyshbone.domain.planner import ProviderInfo
from wyshbone.errors import DirectoryNotImportedError, PermanentToolError
from wyshbone.providers.local_directory import directory_info, search_directory
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
        return LeadToolExecutionResult(
            success=True,
            data={
                RESULT_COUNT: len(leads),
                "provider": LOCAL_DIRECTORY,
                "region": region.name,
                "leads": [lead.to_json_dict() for lead in leads],
            },
        )

    return Provider(info, run)


def _region(params: dict[str, Any]) -> RegionMatch:
    raw = params.get("regionMatch")
    if not raw:
        raise PermanentToolError("the search step has no resolved region to search in")
    region = RegionMatch.model_validate(raw)
    if region.kind is RegionKind.WORLD_CITY:
        raise PermanentToolError(
            f"the Wyshbone Global Database covers Great Britain only; {region.name} ({region.country}) "
            "needs an online provider"
        )
    return region
