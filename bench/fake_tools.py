"""A benchmark plugin (``WYSHBONE_PLUGINS=bench.fake_tools:providers``): every tool takes 20 ms.

The search returns synthetic leads named "Bench Lead n" so that the save step has work to do; this lives
in bench/ only and never in a real configuration.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from wyshbone.config import Settings
from wyshbone.domain.models import Lead, LeadToolExecutionEnv, LeadToolExecutionResult, LeadToolIdentifier
from wyshbone.domain.planner import ProviderInfo
from wyshbone.domain.steps import OpenParams, SearchOutput, SearchParams
from wyshbone.tools import Provider

STEP_SECONDS = 0.020


async def _search(params: SearchParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
    await asyncio.sleep(STEP_SECONDS)
    n = params.max_results or 20
    leads = [
        Lead(name=f"Bench Lead {i}", source="bench", source_id=f"bench:{env.plan.id}:{i}", score=1.0 - i / n)
        for i in range(n)
    ]
    return LeadToolExecutionResult(success=True, output=SearchOutput(result_count=n, leads=leads))


async def _step(params: OpenParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
    await asyncio.sleep(STEP_SECONDS)
    return LeadToolExecutionResult(success=True, data={"bench": True})


def providers(settings: Settings) -> Iterable[tuple[str, Provider]]:
    info = ProviderInfo("bench_fake", True, external=False)
    yield LeadToolIdentifier.GLOBAL_DB_SEARCH, Provider(info, _search)
    yield LeadToolIdentifier.HUNTER_DOMAIN_LOOKUP, Provider(info, _step)
    yield LeadToolIdentifier.HUNTER_ENRICH, Provider(info, _step)
