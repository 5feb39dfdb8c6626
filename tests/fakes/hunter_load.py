"""Enrichment load against a (fake) Hunter: the real enrich step and Hunter client, within a rate limit kept in
memory or in Postgres, run here or as separate OS processes (``python -m tests.fakes.hunter_load …``), so tests
and bench/enrich.py can count what the fake saw per rolling second.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path

import httpx

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
from wyshbone.providers.hunter import HunterClient
from wyshbone.providers.limits import Limiter, limiter_for, smoothed
from wyshbone.tools.contacts import enrich_provider

REPO = Path(__file__).resolve().parents[2]
LIMITER_NAME = "load_search"


def enrichment_env(n: int, *, prefix: str = "bench") -> LeadToolExecutionEnv:
    """An enrich step's environment whose prior step found ``n`` leads, each with its own domain."""
    leads = [
        Lead(
            name=f"Shop {prefix} {i}",
            source="bench",
            source_id=f"{prefix}:{i}",
            domain=f"{prefix}shop{i}.co.uk",
        ).to_json_dict()
        for i in range(n)
    ]
    found = LeadGenStepResult(step_id="domains", status=LeadGenStepStatus.SUCCEEDED, data={"leads": leads})
    plan = LeadGenPlan(id=prefix, user_id="bench", goal=LeadGenGoal(raw_goal="bench"), steps=[])
    return LeadToolExecutionEnv.model_construct(
        user=SupervisorUserContext(user_id="bench"),
        plan=plan,
        prior_results={"domains": found},
        step_id="enrich",
    )


async def enrich(
    *, base_url: str, api_key: str, limiter: Limiter, leads: int, prefix: str = "bench"
) -> float:
    """Enrich ``leads`` leads at once (one Hunter domain search each) within ``limiter``; the wall time."""
    async with httpx.AsyncClient(timeout=60) as client:
        hunter = HunterClient(api_key=api_key, base_url=base_url, client=client, search_limiter=limiter)
        provider = enrich_provider(ProviderInfo("hunter", True), hunter, client=None, crawl_websites=False)
        env = enrichment_env(leads, prefix=prefix)  # built before the clock starts: not what is timed
        start = time.perf_counter()
        result = await provider.run(EnrichParams(source_step_id="domains", limit=leads), env)
        assert result.data is not None and len(result.data["outcomes"]) == leads
        return time.perf_counter() - start


def spawn(
    *,
    base_url: str,
    api_key: str,
    rate: int,
    leads: int,
    prefix: str,
    start_at: float,
    postgres_url: str | None,
) -> subprocess.Popen[bytes]:
    """One OS process enriching ``leads`` leads from wall-clock time ``start_at``, within ``rate``/s kept in
    Postgres (shared by every process given the same URL) or, without a URL, in its own memory."""
    command = [
        sys.executable,
        "-m",
        "tests.fakes.hunter_load",
        base_url,
        api_key,
        str(rate),
        str(leads),
        prefix,
    ]
    command += [f"{start_at:.3f}", *([postgres_url] if postgres_url else [])]
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


async def _main(args: argparse.Namespace) -> None:
    limiter = limiter_for(LIMITER_NAME, smoothed(args.rate, 1.0), postgres_url=args.postgres_url)
    try:
        await asyncio.sleep(max(0.0, args.start_at - time.time()))
        await enrich(
            base_url=args.base_url,
            api_key=args.api_key,
            limiter=limiter,
            leads=args.leads,
            prefix=args.prefix,
        )
    finally:
        limiter.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    for name, kind in (("base_url", str), ("api_key", str), ("rate", int), ("leads", int), ("prefix", str)):
        parser.add_argument(name, type=kind)
    parser.add_argument("start_at", type=float, help="wall-clock time (time.time()) to start at")
    parser.add_argument("postgres_url", nargs="?", default=None)
    asyncio.run(_main(parser.parse_args()))
