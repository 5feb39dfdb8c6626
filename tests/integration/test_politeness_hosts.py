"""Per-host politeness held in total: two keyed limiters on two connection pools (two workers in queue mode) over
one Postgres keep every host's grants an interval apart in ONE table, and a host at its limit holds up no other;
then the crawler itself, on the fake websites, asks each request's host for its turn first."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import psycopg
import pytest

from tests.fakes.postgres import create_database, drop_database
from tests.fakes.websites import FakeWebsites, running_websites
from wyshbone.providers.keyed_limits import (
    InMemoryKeyedLimiter,
    PostgresKeyedLimiter,
    host_key,
    keyed_limiter_for,
)
from wyshbone.providers.limits import libpq_url, smoothed, windows
from wyshbone.providers.website import discover_contacts

INTERVAL_MS = 300
"""The tests' interval between two requests to one host (the default is a second)."""


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    url = create_database(postgres_url)
    yield url
    drop_database(url)


def _grants(url: str) -> dict[str, list[int]]:
    """Each host's grants as the database recorded them (its own clock, milliseconds), in order."""
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT name, (extract(epoch FROM item_timestamp::timestamptz) * 1000)::bigint "
            "FROM ratelimit___hosts ORDER BY item_timestamp"
        ).fetchall()
    found: dict[str, list[int]] = {}
    for name, at in rows:
        found.setdefault(name, []).append(at)
    return found


@pytest.mark.postgres
async def test_postgres_keyed_limiter_holds_each_host_across_two_pools_in_one_table(database: str) -> None:
    limiters = [
        keyed_limiter_for("hosts", windows((1, INTERVAL_MS / 1000)), postgres_url=database) for _ in range(2)
    ]
    assert all(isinstance(limiter, PostgresKeyedLimiter) for limiter in limiters)
    try:
        # Each "process" asks for a.example three times and b.example twice, all at once.
        await asyncio.gather(
            *(limiter.acquire(host) for limiter in limiters for host in ["a.example"] * 3 + ["b.example"] * 2)
        )
    finally:
        for limiter in limiters:
            limiter.close()

    grants = _grants(database)
    with psycopg.connect(libpq_url(database)) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'ratelimit%'").fetchall()
    assert tables == [("ratelimit___hosts",)]  # one table, whatever the number of hosts
    assert {host: len(times) for host, times in grants.items()} == {"a.example": 6, "b.example": 4}
    for times in grants.values():
        assert all(later - earlier > INTERVAL_MS for earlier, later in itertools.pairwise(times))
    # b.example's first turn did not wait for a.example's second (which came an interval after its first).
    assert grants["b.example"][0] < grants["a.example"][1]


@dataclass
class Recorded:
    """A keyed limiter that notes each host's turn on the fake clock it runs on."""

    limiter: InMemoryKeyedLimiter
    clock: list[int]
    turns: list[tuple[str, int]] = field(default_factory=list)

    async def acquire(self, key: str) -> None:
        await self.limiter.acquire(key)
        self.turns.append((key, self.clock[0]))


def _on_fake_clock() -> Recorded:
    clock = [0]

    async def sleep(seconds: float) -> None:
        clock[0] += round(seconds * 1000)
        await asyncio.sleep(0)

    limiter = InMemoryKeyedLimiter(
        "hosts", smoothed(1, INTERVAL_MS / 1000), clock=lambda: clock[0], sleep=sleep
    )
    return Recorded(limiter, clock)


@pytest.fixture
def sites() -> Iterator[FakeWebsites]:
    with running_websites() as running:
        yield running


async def test_discover_contacts_takes_each_hosts_turn_before_every_request(
    sites: FakeWebsites, client: httpx.AsyncClient
) -> None:
    politeness = _on_fake_clock()
    # Two leads on the same site and one on another, crawled side by side as the enrich step does.
    urls = [sites.url("mailto"), sites.url("mailto"), sites.url("obfuscated")]

    results = await asyncio.gather(
        *(discover_contacts(url, client=client, allow_private=True, politeness=politeness) for url in urls)
    )

    assert [[e.value for e in r.emails] for r in results] == [
        ["hello@thebeanery.co.uk"],
        ["hello@thebeanery.co.uk"],
        ["bookings@crumbandcoffee.co.uk", "jobs@crumbandcoffee.co.uk"],
    ]
    turns: dict[str, list[int]] = {}
    for key, at in politeness.turns:
        turns.setdefault(key, []).append(at)
    # Every request a site received was one turn of its host, and no host's turns came closer than the interval.
    hosts = {name: host_key(sites.url(name)) for name in ("mailto", "obfuscated")}
    assert {name: len(turns[host or ""]) for name, host in hosts.items()} == {
        name: len(sites.requests[name]) for name in hosts
    }
    for times in turns.values():
        assert all(later - earlier > INTERVAL_MS for earlier, later in itertools.pairwise(times))
    # The second site's first turn came before the first site's second (the fake clock has no "at once": the
    # order in which the turns were given shows that the other site's wait held up nobody else).
    order = [key for key, _ in politeness.turns]
    assert order.index(hosts["obfuscated"]) < order.index(hosts["mailto"], order.index(hosts["mailto"]) + 1)
