"""Provider rate limits held in total: a fake Hunter counts requests per rolling second while one process (the
in-memory limiter) or two OS processes (a limiter kept in Postgres) enrich leads against it."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import psycopg
import pytest

from tests.fakes.hunter import DOMAIN_SEARCH_PATH, FakeHunter
from tests.fakes.hunter_load import enrich, spawn
from tests.fakes.postgres import create_database, drop_database
from wyshbone.errors import RetryableToolError
from wyshbone.providers.limits import (
    InMemoryLimiter,
    PostgresLimiter,
    libpq_url,
    limiter_for,
    smoothed,
    windows,
)

RATE = 20
"""The limit the tests hold the limiter to, counted per rolling second at the fake (which answers every request:
Hunter's own limit is 15 a second; a little higher keeps the tests short)."""
LEADS_PER_PROCESS = 60
"""Two processes × 60 at 20/s: about 6.5 s of requests, each process able to take the whole limit alone."""


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    url = create_database(postgres_url)
    yield url
    drop_database(url)


@pytest.fixture
def fake() -> Iterator[FakeHunter]:
    with FakeHunter(delay=0.02).running() as running:
        yield running


def _run_processes(fake: FakeHunter, *, postgres_url: str | None) -> list[tuple[int, str]]:
    """Two processes enriching ``LEADS_PER_PROCESS`` leads each from the same moment; each one's exit code and
    output."""
    start_at = time.time() + 4.0  # both are importing by then
    processes = [
        spawn(
            base_url=fake.base_url,
            api_key=fake.api_key,
            rate=RATE,
            leads=LEADS_PER_PROCESS,
            prefix=f"p{i}",
            start_at=start_at,
            postgres_url=postgres_url,
        )
        for i in range(2)
    ]
    finished = []
    for process in processes:
        try:
            out, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
        finished.append((process.returncode, out.decode(errors="replace")))
    return finished


def _overlap(fake: FakeHunter) -> float:
    """Seconds during which both processes' requests were arriving."""
    spans = [[r.at for r in fake.requests if r.query.get("domain", "").startswith(f"p{i}")] for i in range(2)]
    return min(max(s) for s in spans) - max(min(s) for s in spans)


@pytest.mark.postgres
def test_postgres_limiter_holds_two_processes_to_one_limit_together(fake: FakeHunter, database: str) -> None:
    finished = _run_processes(fake, postgres_url=database)

    assert [code for code, _ in finished] == [0, 0], finished
    busiest = fake.max_in_window(DOMAIN_SEARCH_PATH, 1.0)
    print(f"two processes, one limit kept in Postgres: busiest second {busiest} requests (limit {RATE})")
    assert len(fake.requests) == 2 * LEADS_PER_PROCESS
    assert _overlap(fake) > 3.0  # the two ran side by side, sharing the limit
    assert busiest <= RATE
    assert busiest >= RATE * 0.75  # and used it: the limit is shared, not split in halves


def test_limiters_in_memory_do_not_hold_two_processes(fake: FakeHunter) -> None:
    # The control (no Postgres: each process keeps its own count): the two together go far over the limit,
    # which is what the Postgres test above would see if its limit were not shared.
    finished = _run_processes(fake, postgres_url=None)

    assert [code for code, _ in finished] == [0, 0], finished
    assert len(fake.requests) == 2 * LEADS_PER_PROCESS
    assert _overlap(fake) > 3.0
    assert fake.max_in_window(DOMAIN_SEARCH_PATH, 1.0) > RATE * 1.5


async def test_in_memory_limiter_holds_one_process(fake: FakeHunter) -> None:
    limiter = limiter_for("hunter_search", smoothed(RATE, 1.0), postgres_url=None)
    assert isinstance(limiter, InMemoryLimiter)

    await enrich(base_url=fake.base_url, api_key=fake.api_key, limiter=limiter, leads=100)

    busiest = fake.max_in_window(DOMAIN_SEARCH_PATH, 1.0)
    print(f"one process, limit in memory: busiest second {busiest} requests (limit {RATE})")
    assert len(fake.requests) == 100
    assert RATE * 0.75 <= busiest <= RATE


@pytest.mark.postgres
async def test_postgres_limiter_keeps_its_grants_in_a_table_of_its_name(database: str) -> None:
    limiter = limiter_for("places_search", windows((3, 60.0)), postgres_url=database)
    assert isinstance(limiter, PostgresLimiter)
    try:
        for _ in range(3):
            await limiter.acquire()
    finally:
        limiter.close()

    with psycopg.connect(libpq_url(database)) as conn:
        row = conn.execute("SELECT count(*) FROM ratelimit___places_search").fetchone()
    assert row == (3,)


async def test_postgres_limiter_unreachable_is_a_retryable_step_error() -> None:
    limiter = limiter_for(
        "hunter_search", windows((3, 1.0)), postgres_url="postgresql://nobody@127.0.0.1:1/none"
    )
    try:
        with pytest.raises(RetryableToolError) as caught:
            await limiter.acquire()
    finally:
        limiter.close()

    assert caught.value.retry_after == 1.0
    assert str(caught.value).startswith("hunter_search: the shared rate limit could not be read")
