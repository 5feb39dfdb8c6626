"""Per-host politeness and paced rates, pure: the in-memory keyed limiter on a fake clock (each host waits only
on itself; idle hosts are forgotten), the host a URL is counted by, and what ``smoothed`` lets through in the
worst second (a pause of the process holding back the group granted just before it)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from wyshbone.providers import keyed_limits
from wyshbone.providers.keyed_limits import InMemoryKeyedLimiter, host_key, host_politeness
from wyshbone.providers.limits import smoothed, windows


@dataclass
class MsClock:
    """Milliseconds that pass only when someone sleeps (at once), each sleep recorded."""

    now_ms: int = 0
    sleeps: list[float] = field(default_factory=list)

    def now(self) -> int:
        return self.now_ms

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_ms += round(seconds * 1000)
        await asyncio.sleep(0)


async def test_keyed_limiter_spaces_each_host_and_no_host_waits_on_another() -> None:
    clock = MsClock()
    limiter = InMemoryKeyedLimiter("hosts", windows((1, 1.0)), clock=clock.now, sleep=clock.sleep)
    granted: list[tuple[str, int]] = []

    for host in ["a.example", "a.example", "b.example", "a.example", "b.example", "c.example"]:
        await limiter.acquire(host)
        granted.append((host, clock.now_ms))

    # One request per second to each host (the window counts its lower bound: 1,001 ms); b and c never wait.
    assert granted == [
        ("a.example", 0),
        ("a.example", 1001),
        ("b.example", 1001),
        ("a.example", 2002),
        ("b.example", 2002),
        ("c.example", 2002),
    ]
    assert clock.sleeps == [1.001, 1.001]


async def test_keyed_limiter_forgets_hosts_no_window_sees(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyed_limits, "KEYS_BEFORE_SWEEP", 3)
    clock = MsClock()
    limiter = InMemoryKeyedLimiter("hosts", windows((1, 1.0)), clock=clock.now, sleep=clock.sleep)
    for host in ["a", "b", "c"]:
        await limiter.acquire(host)
    clock.now_ms = 500
    await limiter.acquire("d")  # three held: a sweep, but a, b and c are still in their window, so kept
    assert len(limiter) == 4

    clock.now_ms = 1600
    await limiter.acquire("e")  # below twice the last sweep's size: no sweep
    await limiter.acquire("f")
    await limiter.acquire("g")  # six held: a..d are out of every window and dropped; e and f are in it
    await limiter.acquire("h")

    assert len(limiter) == 4
    await limiter.acquire("a")  # forgotten, so granted at once, as it would have been anyway
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://Example.com/contact", "example.com"),  # the host, lower-cased
        ("https://www.example.com:8443/x?y#z", "www.example.com:8443"),  # with its port, as robots.txt is
        ("http://127.0.0.1:8123/", "127.0.0.1:8123"),  # each fake site of the tests is a host of its own
        ("mailto:jo@example.com", None),  # not http(s): never requested, never counted
        ("http://example.com:99999/", None),  # no such port
    ],
)
def test_host_key_cases(url: str, key: str | None) -> None:
    assert host_key(url) == key


def test_host_politeness_is_one_limiter_per_process_and_off_at_zero() -> None:
    assert host_politeness(0.0) is None
    limiter = host_politeness(1.0)
    assert isinstance(limiter, InMemoryKeyedLimiter)
    assert host_politeness(1.0) is limiter


def _worst_second(rates: list[object], per_ms: int, horizon_ms: int) -> int:
    """Grants as early as ``rates`` allow (a greedy caller), then the most in any ``per_ms``."""
    from pyrate_limiter import InMemoryBucket, RateItem

    bucket = InMemoryBucket(rates)  # type: ignore[arg-type]
    grants = [t for t in range(horizon_ms) if bucket.put(RateItem("x", t))]
    return max(sum(1 for g in grants if start <= g < start + per_ms) for start in grants)


@pytest.mark.parametrize(
    ("rate", "per", "group"),
    [
        (50, 1.0, 2),  # the bench's fake Hunter: two at a time, 24 pairs a second at most
        (15, 1.0, 1),  # Hunter's domain search
        (10, 1.0, 1),  # Hunter's verifier
        (600, 60.0, 24),  # Google Places' default quota
    ],
)
def test_smoothed_keeps_a_group_of_room_for_a_paused_process(rate: int, per: float, group: int) -> None:
    rates = smoothed(rate, per)
    assert rates[0].limit == group

    # However a pause holds back the group granted just before it, the server's busiest window stays in limit.
    assert _worst_second(rates, round(per * 1000), round(per * 3000)) + group <= rate


def test_smoothed_refuses_a_rate_below_one() -> None:
    with pytest.raises(ValueError, match="at least one request"):
        smoothed(0, 1.0)
