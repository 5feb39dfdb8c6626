"""A benchmark plugin (``WYSHBONE_PLUGINS=bench.fake_tools:providers``): every tool takes 20 ms.

The search returns synthetic leads named "Bench Lead n" so that the save step has work to do; this lives
in bench/ only and never in a real configuration.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from wyshbone.config import Settings
from wyshbone.domain.models import LeadToolExecutionEnv, LeadToolExecutionResult, LeadToolIdentifier
from wyshbone.domain.planner import ProviderInfo
from wyshbone.tools import RESULT_COUNT, Provider

STEP_SECONDS = 0.020


async def _search(params: dict[str, Any], env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
    await asyncio.sleep(STEP_SECONDS)
    n = int(params.get("maxResults") or 20)
    leads = [
        {
            "name": f"Bench Lead {i}",
            "source": "bench",
            "sourceId": f"bench:{env.plan.id}:{i}",
            "score": 1.0 - i / n,
        }
        for i in range(n)
    ]
    return LeadToolExecutionResult(success=True, data={RESULT_COUNT: n, "leads": leads})


async def _step(params: dict[str, Any], env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
    await asyncio.sleep(STEP_SECONDS)
    return LeadToolExecutionResult(success=True, data={"bench": True})


def providers(settings: Settings) -> Iterable[tuple[str, Provider]]:
    info = ProviderInfo("bench_fake", True, external=False)
    yield LeadToolIdentifier.GLOBAL_DB_SEARCH, Provider(info, _search)
    yield LeadToolIdentifier.HUNTER_DOMAIN_LOOKUP, Provider(info, _step)
    yield LeadToolIdentifier.HUNTER_ENRICH, Provider(info, _step)
