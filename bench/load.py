"""Issue 10: the API while plans run. 100 sessions each doing start → approve → poll until done, for
LOAD_SECONDS, on the embedded default (SQLite, the imported directory), against the same server with the same
sessions doing start → poll and approving nothing (so no plan runs): the ratio is what execution costs the API.

The load client is one asyncio loop in this process, sharing the machine's cores with the server.
"""

from __future__ import annotations

import asyncio
import math
import os
import resource
import ssl
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.web import Server

SESSIONS = 100
LOAD_SECONDS = 30.0
IDLE_SECONDS = 6.0
"""The baseline: the same sessions start plans and poll them, but approve none."""
IDLE_POLLS = 5
"""Progress polls per started plan in the baseline, at the load's cadence; then one GET /health."""
POLL_SECONDS = 0.2
RAMP_SECONDS = 1.0
"""Sessions begin spread over this long, not all in the same millisecond."""
TIMEOUT_SECONDS = 30.0
GOAL_P99_MS = 1000.0
EVENT_SAMPLE = 10
"""Finished plans whose event logs are read back to count events per plan."""
DONE = frozenset({"completed", "failed", "cancelled"})
GOALS = (
    "Find 20 coffee shops in Manchester",
    "pubs in Leeds",
    "dentists in Bristol",
    "Find 30 restaurants in Edinburgh and email them",
    "cafes in Brighton",
    "Get me thirty breweries in Yorkshire, and keep watching for new ones",
    "50 takeaways in Birmingham",
    "bakeries in Cardiff",
    "Find 25 hotels in York",
    "10 dentists in Glasgow",  # fails: the NHS dental data covers England only (a failed plan is a done plan)
    "coffee shops in Bristol and email them",
    "pubs in Camden",
)
Row = tuple[str, float, str]


@dataclass
class Tally:
    """What one phase saw: latencies per route, errors, finished plans, plans in flight over time."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    finished: Counter[str] = field(default_factory=Counter)
    plan_seconds: list[float] = field(default_factory=list)
    done: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    """(plan id, its session's headers) of every plan seen finished."""
    in_flight: int = 0
    in_flight_samples: list[int] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    """Percent of one core over the phase: the server, its event loop thread on a CPU ("loop") and waiting for
    one ("queued"), this load client, every other process on the machine ("others")."""
    server_seconds: float = 0.0
    """CPU seconds the server used over the phase."""

    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values()) + sum(self.errors.values())


class Session:
    """One caller: its own ``X-Session-Id`` and its own one-connection client; every request timed and every
    failure counted by route.

    One client per session, not one shared pool of SESSIONS connections: httpcore's pool scans all its
    connections on every request and response, and with 100 of them that scan made the load client, not the
    server, the bottleneck (70% of the client loop's time, latencies of seconds at 60 req/s).
    """

    def __init__(self, client: httpx.AsyncClient, tally: Tally, name: str) -> None:
        self.client = client
        self.tally = tally
        self.headers = {"X-Session-Id": name}

    async def call(self, route: str, method: str, url: str, body: Any = None) -> dict[str, Any] | None:
        began = time.perf_counter()
        try:
            response = await self.client.request(method, url, json=body, headers=self.headers)
        except httpx.TimeoutException:
            self.tally.errors[f"{route} timeout"] += 1
            return None
        except httpx.HTTPError as exc:
            self.tally.errors[f"{route} {type(exc).__name__}"] += 1
            return None
        self.tally.latencies[route].append(time.perf_counter() - began)
        if not response.is_success:
            self.tally.errors[f"{route} HTTP {response.status_code}"] += 1
            return None
        found: dict[str, Any] = response.json()
        return found


async def _idle_cycle(session: Session, goal: str, stop_at: float) -> None:
    """Start a plan and poll it at the load's cadence, then GET /health once, but never approve it."""
    started = await session.call("start", "POST", "/api/plan/start", {"goal": goal})
    if started is None:
        await asyncio.sleep(POLL_SECONDS)
        return
    for _ in range(IDLE_POLLS):
        await asyncio.sleep(POLL_SECONDS)
        if time.perf_counter() >= stop_at:
            return
        await session.call("progress", "GET", f"/api/plan/{started['planId']}/progress")
    await session.call("health", "GET", "/health")


async def _load_cycle(session: Session, goal: str, stop_at: float) -> None:
    """Start → approve → poll every POLL_SECONDS until the plan is done (or the phase is over)."""
    tally = session.tally
    started = await session.call("start", "POST", "/api/plan/start", {"goal": goal})
    if started is None:
        await asyncio.sleep(POLL_SECONDS)
        return
    plan_id = started["planId"]
    approved_at = time.perf_counter()
    if await session.call("approve", "POST", f"/api/plan/{plan_id}/approve", {}) is None:
        await asyncio.sleep(POLL_SECONDS)
        return
    tally.in_flight += 1
    try:
        while time.perf_counter() < stop_at:
            await asyncio.sleep(POLL_SECONDS)
            progress = await session.call("progress", "GET", f"/api/plan/{plan_id}/progress")
            status = (progress or {}).get("overallStatus")
            if status in DONE:
                tally.finished[str(status)] += 1
                tally.plan_seconds.append(time.perf_counter() - approved_at)
                tally.done.append((plan_id, session.headers))
                return
    finally:
        tally.in_flight -= 1


Cycle = Callable[[Session, str, float], Awaitable[None]]


async def _phase(base: str, pid: int, prefix: str, cycle: Cycle, seconds: float) -> Tally:
    """SESSIONS sessions repeating ``cycle`` for ``seconds``, and the CPU the server, the client and the
    machine's other processes used meanwhile."""
    tally = Tally()
    one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    tls = ssl.create_default_context()  # unused over http://, but each client would otherwise load the CAs
    before = (_proc(pid)[2], _own_cpu(), _machine_cpu(), *_loop_thread(pid), time.perf_counter())
    stop_at = before[-1] + seconds

    async def session(n: int) -> None:
        async with httpx.AsyncClient(
            base_url=base, limits=one, timeout=TIMEOUT_SECONDS, verify=tls
        ) as client:
            caller = Session(client, tally, f"{prefix}-{n:04d}")
            await asyncio.sleep(n * RAMP_SECONDS / SESSIONS)
            turn = n
            while time.perf_counter() < stop_at:
                await cycle(caller, GOALS[turn % len(GOALS)], stop_at)
                turn += 1

    async def sample() -> None:
        while time.perf_counter() < stop_at:
            tally.in_flight_samples.append(tally.in_flight)
            await asyncio.sleep(0.5)

    await asyncio.gather(sample(), *(session(n) for n in range(SESSIONS)))
    after = (_proc(pid)[2], _own_cpu(), _machine_cpu(), *_loop_thread(pid), time.perf_counter())
    server, client, machine, on_cpu, queued, wall = (b - a for a, b in zip(before, after, strict=True))
    tally.cpu = {k: v / wall * 100 for k, v in (("server", server), ("client", client), ("loop", on_cpu))}
    tally.cpu["others"] = max(0.0, machine / wall * 100 - tally.cpu["server"] - tally.cpu["client"])
    tally.cpu["queued"] = queued / wall * 100
    tally.server_seconds = server
    return tally


async def _events_per_plan(base: str, done: list[tuple[str, dict[str, str]]]) -> dict[str, float]:
    """How many events of each type a finished plan wrote, averaged over ``done`` (one store write each)."""
    types: Counter[str] = Counter()
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT_SECONDS) as client:
        for plan_id, headers in done:
            response = await client.get(f"/api/plan/{plan_id}/events", headers=headers)
            types.update(event["type"] for event in response.raise_for_status().json())
    return {kind: number / max(len(done), 1) for kind, number in types.items()}


def _pct(values: list[float], q: float) -> float:
    """The q-quantile by nearest rank, in ms (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _machine_cpu() -> float:
    """CPU seconds every core of the machine has spent busy since boot (all processes, not only ours)."""
    user, nice, system, _, _, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _loop_thread(pid: int) -> tuple[float, float]:
    """Seconds the server's main (event loop) thread has been on a CPU, and waiting in the run queue for one."""
    on_cpu, queued = Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()[:2]
    return int(on_cpu) / 1e9, int(queued) / 1e9


def _proc(pid: int) -> tuple[float, float, float]:
    """The process's (VmRSS MB, VmHWM MB, CPU seconds) from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024, cpu


def _route(tally: Tally, route: str) -> str:
    values = tally.latencies[route]
    return f"p50 {_pct(values, 0.5):,.1f} ms, p99 {_pct(values, 0.99):,.1f} ms"


def _api(tally: Tally) -> list[float]:
    return [v for route in ("start", "approve", "progress") for v in tally.latencies[route]]


def _ratio(loaded: float, idle: float) -> str:
    return f"×{loaded / idle:,.1f}" if idle > 0 else "×∞"


def _errors(tally: Tally) -> str:
    total = sum(tally.errors.values())
    kinds = ", ".join(f"{n} {kind}" for kind, n in tally.errors.most_common())
    return f"{total} of {tally.requests():,} requests" + (f" ({kinds})" if kinds else "")


def _cpu(tally: Tally) -> str:
    cpu = tally.cpu
    return (
        f"server {cpu['server']:.0f}% (its event loop thread on a CPU {cpu['loop']:.0f}% of the time, "
        f"waiting for a free one {cpu['queued']:.0f}%), load client {cpu['client']:.0f}%, "
        f"other processes {cpu['others']:.0f}%"
    )


def _cost(idle: Tally, load: Tally, completed: int) -> Row:
    """What one plan costs the server in CPU, beyond the requests that start, approve and poll it."""
    per_request = idle.server_seconds / max(idle.requests(), 1)
    per_plan = (load.server_seconds - per_request * load.requests()) / max(completed, 1)
    polls = len(load.latencies["progress"]) / max(completed, 1)
    return (
        "server CPU per plan",
        per_plan * 1000,
        f"{per_plan * 1000:.1f} ms of CPU per plan run beyond its requests, which cost "
        f"{per_request * 1000:.2f} ms each at baseline ({polls:.0f} progress polls per finished plan)",
    )


def _route_rows(idle: Tally, load: Tally) -> list[Row]:
    """The baseline, then each route's p99 under load against it."""
    idle_api = _pct(_api(idle), 0.99)
    rows: list[Row] = [
        (
            "baseline: start → poll, nothing approved (no plan runs)",
            idle_api,
            f"{SESSIONS} sessions, {IDLE_SECONDS:.0f} s, {idle.requests() / IDLE_SECONDS:,.0f} req/s: "
            f"start {_route(idle, 'start')}; progress {_route(idle, 'progress')}; "
            f"/health {_route(idle, 'health')}; errors {_errors(idle)}",
        )
    ]
    for route, what in (
        ("start", "POST /api/plan/start"),
        ("approve", "POST /api/plan/{id}/approve"),
        ("progress", "GET /api/plan/{id}/progress"),
    ):
        base = _pct(idle.latencies[route], 0.99) if idle.latencies[route] else idle_api
        against = "the idle p99" if idle.latencies[route] else "the idle API p99: no idle approve"
        p99 = _pct(load.latencies[route], 0.99)
        rows.append((f"{what} under load", p99, f"{_route(load, route)} ({_ratio(p99, base)} {against})"))
    return rows


def _report(idle: Tally, load: Tally, rss: tuple[float, float, float], events: dict[str, float]) -> list[Row]:
    idle_api = _pct(_api(idle), 0.99)
    api50, api99 = _pct(_api(load), 0.5), _pct(_api(load), 0.99)
    rows = _route_rows(idle, load)
    completed = sum(load.finished.values())
    mean_flight = sum(load.in_flight_samples) / max(len(load.in_flight_samples), 1)
    per_plan = sum(events.values())
    kinds = ", ".join(f"{kind} {n:.1f}" for kind, n in sorted(events.items(), key=lambda kv: -kv[1]))
    rows += [
        (
            "API under load (start, approve, progress)",
            api99,
            f"p50 {api50:,.1f} ms, p99 {api99:,.1f} ms ({_ratio(api99, idle_api)} the idle API p99 of "
            f"{idle_api:,.1f} ms; goal ≤ {GOAL_P99_MS:,.0f} ms: ratio {api99 / GOAL_P99_MS:.2f}); "
            f"{load.requests() / LOAD_SECONDS:,.0f} req/s",
        ),
        ("errors under load (non-2xx, timeouts, connection)", sum(load.errors.values()), _errors(load)),
        (
            "plans completed",
            completed / LOAD_SECONDS,
            f"{completed / LOAD_SECONDS:.2f} plans/s ({completed} in {LOAD_SECONDS:.0f} s: "
            + ", ".join(f"{n} {status}" for status, n in load.finished.most_common())
            + f"); approve → seen done p50 {_pct(load.plan_seconds, 0.5) / 1000:.2f} s, "
            f"p99 {_pct(load.plan_seconds, 0.99) / 1000:.2f} s; plans in flight (approved, not yet seen done) "
            f"mean {mean_flight:.0f}, max {max(load.in_flight_samples, default=0)}",
        ),
        (
            "events per plan",
            per_plan,
            f"{per_plan:.1f} ({kinds}), read back from {min(len(load.done), EVENT_SAMPLE)} finished plans",
        ),
        _cost(idle, load, completed),
        (
            "server RSS",
            rss[1] - rss[0],
            f"{rss[0]:,.0f} MB before the load → {rss[1]:,.0f} MB after (peak {rss[2]:,.0f} MB)",
        ),
        (
            "CPU, % of one core",
            load.cpu["server"],
            f"under load {_cpu(load)}; baseline {_cpu(idle)} ({os.cpu_count()} cores shared by the server, "
            "this one-loop Python load client and whatever else runs: the latencies are upper bounds)",
        ),
    ]
    return rows


def measure(env: dict[str, str]) -> list[Row]:
    server = Server(env)
    try:
        server.wait_ready()
        pid = server.proc.pid
        idle = asyncio.run(_phase(server.base, pid, "idle", _idle_cycle, IDLE_SECONDS))
        rss_before = _proc(pid)[0]
        load = asyncio.run(_phase(server.base, pid, "load", _load_cycle, LOAD_SECONDS))
        rss_after, peak, _ = _proc(pid)
        events = asyncio.run(_events_per_plan(server.base, load.done[:EVENT_SAMPLE]))
    finally:
        server.stop()
    return _report(idle, load, (rss_before, rss_after, peak), events)


def run(directory: Path, open_data: Path) -> list[Row]:
    """The figures for a server on ``directory`` (an imported directory) and ``open_data`` (the gazetteer)."""
    with tempfile.TemporaryDirectory() as home:
        paths = {"HOME": home, "DIRECTORY_PATH": str(directory), "OPEN_DATA_DIR": str(open_data)}
        return measure({f"WYSHBONE_{key}": value for key, value in paths.items()})


def main() -> None:
    from wyshbone.config import Settings

    settings = Settings()
    directory = Path(sys.argv[1]) if sys.argv[1:] else settings.directory_file
    for name, _, text in run(directory, settings.open_data_dir):
        print(f"{name}: {text}", flush=True)


if __name__ == "__main__":
    main()
