"""Enrichment against Hunter's rate limit: 1,000 leads, a fake Hunter answering in 50 ms, limited to 50/s.

Wall time against the limit's bound (1,000 / 50 = 20 s), the most requests the fake saw in any second, and
what the original spec's one-after-another loop would take (measured on 20 calls, scaled to 1,000).
"""

from __future__ import annotations

import asyncio
import time

import httpx
from tests.fakes.hunter import FakeHunter

from wyshbone.domain.models import (
    Lead,
    LeadGenGoal,
    LeadGenPlan,
    LeadGenStepResult,
    LeadGenStepStatus,
    LeadToolExecutionEnv,
    SupervisorUserContext,
)
from wyshbone.domain.planner import ProviderInfo
from wyshbone.domain.steps import EnrichParams
from wyshbone.providers.hunter import DOMAIN_SEARCH_PATH, HunterClient, WindowLimiter, smoothed
from wyshbone.tools.contacts import enrich_provider

LEADS = 1000
RATE = 50
LATENCY = 0.050
SEQUENTIAL_SAMPLE = 20


def _env(n: int) -> LeadToolExecutionEnv:
    leads = [
        Lead(
            name=f"Bench Shop {i}", source="bench", source_id=f"bench:{i}", domain=f"benchshop{i}.co.uk"
        ).to_json_dict()
        for i in range(n)
    ]
    found = LeadGenStepResult(step_id="domains", status=LeadGenStepStatus.SUCCEEDED, data={"leads": leads})
    plan = LeadGenPlan(id="bench", user_id="bench", goal=LeadGenGoal(raw_goal="bench"), steps=[])
    return LeadToolExecutionEnv.model_construct(
        user=SupervisorUserContext(user_id="bench"),
        plan=plan,
        prior_results={"domains": found},
        step_id="enrich",
    )


async def _enrich(fake: FakeHunter, n: int, *, at_once: bool) -> float:
    async with httpx.AsyncClient(timeout=30) as client:
        hunter = HunterClient(
            api_key=fake.api_key,
            base_url=fake.base_url,
            client=client,
            search_limiter=WindowLimiter(smoothed(RATE, 1.0)),
        )
        provider = enrich_provider(ProviderInfo("hunter", True), hunter, client=None, crawl_websites=False)
        env = _env(n)
        start = time.perf_counter()
        if at_once:
            result = await provider.run(EnrichParams(source_step_id="domains", limit=n), env)
            assert result.data is not None and len(result.data["outcomes"]) == n
        else:
            for lead in env.prior_results["domains"].data["leads"]:  # type: ignore[index]
                await hunter.domain_search(domain=lead["domain"], limit=5)
        return time.perf_counter() - start


def run() -> list[tuple[str, float, str]]:
    fake = FakeHunter(delay=LATENCY)
    with fake.running():
        wall = asyncio.run(_enrich(fake, LEADS, at_once=True))
        busiest = fake.max_in_window(DOMAIN_SEARCH_PATH, 1.0)
        fake.requests.clear()
        sample = asyncio.run(_enrich(fake, SEQUENTIAL_SAMPLE, at_once=False))
    bound = LEADS / RATE
    sequential = sample / SEQUENTIAL_SAMPLE * LEADS
    share = bound / wall
    return [
        (
            f"enrich {LEADS} leads, Hunter limited to {RATE}/s, {LATENCY * 1000:.0f} ms per call",
            share,
            f"{wall:.1f} s vs the rate-limit bound {bound:.0f} s: {share:.0%} of the allowed rate (goal ≥ 90%); "
            f"busiest second {busiest} requests (limit {RATE}: {'none' if busiest <= RATE else busiest - RATE} over); "
            f"one after another would take {sequential:.0f} s ({sequential / wall:.1f}× slower)",
        )
    ]


if __name__ == "__main__":
    for name, _, text in run():
        print(f"{name}: {text}")
