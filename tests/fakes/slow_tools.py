"""A test plugin (``WYSHBONE_PLUGINS=tests.fakes.slow_tools:providers``): a slow step to interrupt.

It gives the domain-lookup step a provider that waits ``WYSHBONE_FAKE_STEP_SECONDS`` and then reports that
it looked nothing up (it never invents domains), so a test can kill the server while a plan is mid-run.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from typing import Any

from wyshbone.config import Settings
from wyshbone.domain.models import LeadToolExecutionEnv, LeadToolExecutionResult, LeadToolIdentifier
from wyshbone.domain.planner import ProviderInfo
from wyshbone.tools import Provider

NAME = "slow_test_fake"


async def _slow(params: dict[str, Any], env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
    await asyncio.sleep(float(os.environ.get("WYSHBONE_FAKE_STEP_SECONDS", "0")))
    return LeadToolExecutionResult(success=True, data={"lookedUp": 0, "note": "test fake: made no lookups"})


def providers(settings: Settings) -> Iterable[tuple[str, Provider]]:
    yield LeadToolIdentifier.HUNTER_DOMAIN_LOOKUP, Provider(ProviderInfo(NAME, True, external=False), _slow)
