"""Enrichment against Hunter's rate limit: 1,000 leads, a fake Hunter answering in 50 ms, limited to 50/s.

Wall time against the limit's bound (1,000 / 50 = 20 s), the most requests the fake saw in any second, and
what the original spec's one-after-another loop would take (measured on 20 calls, scaled to 1,000). Then the
queue mode's limit kept in Postgres: two OS processes enriching 500 leads each against the same fake (skipped
where no PostgreSQL binaries are installed).
"""

from __future__ import annotations

import asyncio
import time

import httpx
from tests.fakes.hunter import FakeHunter
from tests.fakes.hunter_load import enrich, enrichment_env, spawn
from tests.fakes.postgres import find_bin_dir, running_postgres

from wyshbone.providers.hunter import DOMAIN_SEARCH_PATH, HunterClient
from wyshbone.providers.limits import InMemoryLimiter, smoothed

LEADS = 1000
RATE = 50
LATENCY = 0.050
SEQUENTIAL_SAMPLE = 20


async def _one_after_another(fake: FakeHunter, n: int) -> float:
    async with httpx.AsyncClient(timeout=30) as client:
        limiter = InMemoryLimiter("bench_search", smoothed(RATE, 1.0))
        hunter = HunterClient(
            api_key=fake.api_key, base_url=fake.base_url, client=client, search_limiter=limiter
        )
        start = time.perf_counter()
        for lead in enrichment_env(n).prior_results["domains"].data["leads"]:  # type: ignore[index]
            await hunter.domain_search(domain=lead["domain"], limit=5)
        return time.perf_counter() - start


def _busiest(busiest: int) -> str:
    return f"busiest second {busiest} requests (limit {RATE}: {'none' if busiest <= RATE else busiest - RATE} over)"


def _two_processes() -> tuple[str, float, str] | None:
    """Two processes sharing one limit kept in Postgres, as two workers in queue mode do."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        return None
    fake = FakeHunter(delay=LATENCY)
    with running_postgres(bin_dir) as server, fake.running():
        start_at = time.time() + 4.0
        processes = [
            spawn(
                base_url=fake.base_url,
                api_key=fake.api_key,
                rate=RATE,
                leads=LEADS // 2,
                prefix=f"p{i}",
                start_at=start_at,
                postgres_url=server.url(),
            )
            for i in range(2)
        ]
        for process in processes:
            out, _ = process.communicate(timeout=300)
            assert process.returncode == 0, out.decode(errors="replace")
        arrivals = sorted(r.at for r in fake.requests)
        busiest = fake.max_in_window(DOMAIN_SEARCH_PATH, 1.0)
    wall = arrivals[-1] - arrivals[0] + LATENCY
    share = LEADS / RATE / wall
    return (
        f"enrich {LEADS} leads in 2 processes, one limit of {RATE}/s kept in Postgres",
        share,
        f"{wall:.1f} s: {share:.0%} of the allowed rate; {_busiest(busiest)}",
    )


def run() -> list[tuple[str, float, str]]:
    fake = FakeHunter(delay=LATENCY)
    with fake.running():
        limiter = InMemoryLimiter("bench_search", smoothed(RATE, 1.0))
        wall = asyncio.run(enrich(base_url=fake.base_url, api_key=fake.api_key, limiter=limiter, leads=LEADS))
        busiest = fake.max_in_window(DOMAIN_SEARCH_PATH, 1.0)
        fake.requests.clear()
        sample = asyncio.run(_one_after_another(fake, SEQUENTIAL_SAMPLE))
    bound = LEADS / RATE
    sequential = sample / SEQUENTIAL_SAMPLE * LEADS
    share = bound / wall
    rows = [
        (
            f"enrich {LEADS} leads, Hunter limited to {RATE}/s, {LATENCY * 1000:.0f} ms per call",
            share,
            f"{wall:.1f} s vs the rate-limit bound {bound:.0f} s: {share:.0%} of the allowed rate (goal ≥ 90%); "
            f"{_busiest(busiest)}; one after another would take {sequential:.0f} s ({sequential / wall:.1f}× slower)",
        )
    ]
    shared = _two_processes()
    return rows if shared is None else [*rows, shared]


if __name__ == "__main__":
    for name, _, text in run():
        print(f"{name}: {text}")
