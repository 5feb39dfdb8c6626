"""Google Places' per-minute quota held before each request: the fake answers 429 RESOURCE_EXHAUSTED once a rolling
window holds its quota, and counts what it received; a search within ``places_rates`` never meets that answer, in
one process (memory) or across two pools sharing the limit in Postgres (queue mode). The "minute" is one second
here, so a quota's worth of requests takes seconds; assertions are on counts the fake recorded, not on time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from tests.fakes.google_places import FakeGooglePlaces, sample_places
from tests.fakes.places import MANCHESTER_10KM as MANCHESTER
from tests.fakes.postgres import create_database, drop_database
from wyshbone.config import Settings
from wyshbone.errors import RetryableToolError
from wyshbone.providers.google_places import places_limiter, places_rates, search_places
from wyshbone.providers.limits import InMemoryLimiter, Limiter, PostgresLimiter, limiter_for, windows

QUOTA = 6
"""Requests per window the fake admits (Google's default is 600 a minute)."""
WINDOW = 1.0
"""The fake's "minute", in seconds."""


@pytest.fixture
def fake() -> Iterator[FakeGooglePlaces]:
    # 45 places: a search for all of them is three requests (20, 20, 5).
    with FakeGooglePlaces(places=sample_places(45), quota=QUOTA, quota_seconds=WINDOW).running() as running:
        yield running


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    url = create_database(postgres_url)
    yield url
    drop_database(url)


async def _searches(fake: FakeGooglePlaces, limiters: list[Limiter], each: int) -> list[int]:
    """``each`` searches of three pages per limiter, all at once; how many leads each found."""
    async with httpx.AsyncClient(timeout=30) as client:
        found = await asyncio.gather(
            *(
                search_places(
                    client=client,
                    api_key=fake.api_key,
                    base_url=fake.base_url,
                    persona="coffee shop",
                    region=MANCHESTER,
                    limit=45,
                    limiter=limiter,
                )
                for limiter in limiters
                for _ in range(each)
            )
        )
    return [len(leads) for leads in found]


async def test_places_quota_fake_refuses_what_a_loose_limit_lets_through(fake: FakeGooglePlaces) -> None:
    # The control: a limit far above the quota meets Google's 429, translated as a per-minute rate limit.
    loose = InMemoryLimiter("places_loose", windows((100, WINDOW)))

    with pytest.raises(RetryableToolError) as caught:
        await _searches(fake, [loose], each=4)

    assert fake.refused >= 1
    assert "rate limited SearchTextRequestsPerMinutePerProject" in str(caught.value)


async def test_places_quota_held_in_one_process(fake: FakeGooglePlaces) -> None:
    limiter = limiter_for("google_places", places_rates(QUOTA, minute=WINDOW), postgres_url=None)

    found = await _searches(fake, [limiter], each=4)

    # 45 places, every tenth closed: 41 leads per search; 12 requests, none refused, never over the quota.
    assert found == [41] * 4
    assert (len(fake.requests), fake.refused) == (12, 0)
    assert fake.max_in_window(WINDOW) <= QUOTA


@pytest.mark.postgres
async def test_places_quota_held_in_total_by_two_pools_on_one_postgres(
    fake: FakeGooglePlaces, database: str
) -> None:
    # Two limiters of one name, each with its own thread and connection pool: two workers in queue mode.
    limiters = [
        limiter_for("google_places", places_rates(QUOTA, minute=WINDOW), postgres_url=database)
        for _ in range(2)
    ]
    assert all(isinstance(limiter, PostgresLimiter) for limiter in limiters)
    try:
        found = await _searches(fake, list(limiters), each=2)
    finally:
        for limiter in limiters:
            limiter.close()

    assert found == [41] * 4
    assert (len(fake.requests), fake.refused) == (12, 0)
    assert fake.max_in_window(WINDOW) <= QUOTA


def test_places_limiter_follows_the_setting_one_per_process() -> None:
    embedded = Settings(google_places_api_key=SecretStr("AIza-test"))
    limiter = places_limiter(embedded.google_places_per_minute)

    assert embedded.google_places_per_minute == 600  # Google's default Text Search quota per minute
    assert isinstance(limiter, InMemoryLimiter)
    assert [(r.limit, r.interval) for r in limiter.rates] == [
        (r.limit, r.interval) for r in places_rates(600)
    ]
    assert places_limiter(600) is limiter  # every provider of the process shares it
