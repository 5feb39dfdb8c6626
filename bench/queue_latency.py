"""Queue mode's latencies, each against a baseline measured in the same run: one plan's wall time against
embedded mode; the time of one durable step against procrastinate's bare job round trip (a reference: one job runs a whole plan); and
event → SSE client latency across processes with 100 plans running. ``python -m bench.queue_latency``.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import procrastinate
import psycopg
from procrastinate.jobs import Status
from tests.fakes.postgres import create_database, drop_database, find_bin_dir, running_postgres
from tests.queue.cluster import FAST_TOOLS, GOAL, REPO, Cluster, queue_env, start_plans

from wyshbone.config import Settings
from wyshbone.domain.models import (
    Lead,
    LeadToolExecutionEnv,
    LeadToolExecutionResult,
    LeadToolIdentifier,
    PlanEstimate,
)
from wyshbone.domain.planner import ProviderInfo
from wyshbone.domain.steps import OpenParams, SearchOutput, SearchParams
from wyshbone.services.queue import libpq_url
from wyshbone.storage import sql_repositories
from wyshbone.storage.db import Database
from wyshbone.storage.notify import CHANNEL, decode_notice
from wyshbone.storage.queue_schema import ensure_queue_schema
from wyshbone.tools import Provider

Row = tuple[str, float, str]

INSTANT_TOOLS = "bench.queue_latency:instant_tools"
SESSION = {"X-Session-Id": "session-bench-queue-latency-01"}
RUNS = 10
"""Runs of the standard plan alone in each mode; the median counts."""
STEPS = 100
"""Extra instant steps in the long plan whose wall time, less the one-step plan's, gives the per-step cost."""
STEP_RUNS = 5
BARE_JOBS = 100
SSE_PLANS = 100
SSE_WORKERS = 2
SSE_CONCURRENCY = 50
"""Plans each worker runs at once: the two run all 100 together."""
SSE_GOAL_MS = 100.0
_CLEAN_RUN = {"PLAN_STARTED", "STEP_STARTED", "STEP_SUCCEEDED", "PLAN_COMPLETED"}
"""The only events of a run the figures count (no retry, fallback, skip or failure)."""


# --- a plugin whose search and domain lookup return at once (the per-step figure counts no tool time) -------


async def _instant_search(params: SearchParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
    lead = Lead(name="Bench Lead", source="bench", source_id=f"bench:{env.plan.id}", score=1.0)
    return LeadToolExecutionResult(success=True, output=SearchOutput(result_count=1, leads=[lead]))


async def _instant_step(params: OpenParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
    return LeadToolExecutionResult(success=True, data={"bench": True})


def instant_tools(settings: Settings) -> Iterable[tuple[str, Provider[Any]]]:
    """``WYSHBONE_PLUGINS=bench.queue_latency:instant_tools``: no tool time at all."""
    info = ProviderInfo("bench_instant", True, external=False)
    yield LeadToolIdentifier.GLOBAL_DB_SEARCH, Provider(info, _instant_search)
    yield LeadToolIdentifier.HUNTER_DOMAIN_LOOKUP, Provider(info, _instant_step)


# --- one plan at a time: approval → its final event's timestamp ------------------------------------------


def _stamp(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00")).timestamp()


def _wall_seconds(client: httpx.Client, plan_id: str) -> float:
    """Approve the plan and wait for it; from just before the approval to its final event's timestamp."""
    began = time.time()
    client.post(f"/api/plan/{plan_id}/approve", json={}).raise_for_status()
    while client.get(f"/api/plan/{plan_id}").json()["status"] == "executing":
        time.sleep(0.05)  # the figure is the final event's own timestamp: polling less keeps the CPU free
    events = client.get(f"/api/plan/{plan_id}/events").json()
    types = [e["type"] for e in events]
    if types[-1] != "PLAN_COMPLETED" or set(types) - _CLEAN_RUN:
        raise RuntimeError(f"plan {plan_id} did not run every step cleanly: {sorted(set(types))}")
    return _stamp(events[-1]) - began


def _median_wall(client: httpx.Client, plan_ids: list[str]) -> float:
    """The median over ``plan_ids`` run one after another, less the first (a warm-up)."""
    return statistics.median([_wall_seconds(client, p) for p in plan_ids][1:])


async def _save_chains(store_url: str, template_id: str, lengths: list[int]) -> list[str]:
    """Copies of the stored plan ``template_id``, in its session: its search, then ``n`` domain lookups one
    after another, for each ``n`` in ``lengths``."""
    repos = sql_repositories(await Database.connect(store_url))
    try:
        template = await repos.plans.get(template_id)
        assert template is not None
        session_id = await repos.plans.session_of(template_id)
        search, lookup = template.steps[0], template.steps[1]
        ids = []
        for n in lengths:
            steps = [search]
            for i in range(n):
                steps.append(lookup.model_copy(update={"id": f"lookup_{i}", "depends_on": [steps[-1].id]}))
            plan = template.model_copy(
                update={"id": uuid.uuid4().hex, "steps": steps, "estimate": PlanEstimate()}
            )
            await repos.plans.save(plan, session_id=session_id)
            ids.append(plan.id)
        return ids
    finally:
        await repos.close()


def _per_step_ms(base_url: str, store_url: str) -> float:
    """(median wall time of search + STEPS lookups − that of the search alone) / STEPS, in ms."""
    with httpx.Client(base_url=base_url, headers=SESSION, timeout=60) as client:
        template = start_plans(client, 1)[0]
        ids = asyncio.run(_save_chains(store_url, template, [0, STEPS] * (STEP_RUNS + 1)))
        short, long = _median_wall(client, ids[0::2]), _median_wall(client, ids[1::2])
    return (long - short) / STEPS * 1000


def _embedded(work_dir: Path, name: str, plugins: str) -> Cluster:
    """A cluster of embedded ``wyshbone serve``s: default execution on a SQLite home of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WYSHBONE_")}
    home = work_dir / name
    env.update(
        PYTHONPATH=str(REPO),
        WYSHBONE_HOME=str(home),
        WYSHBONE_PLUGINS=plugins,
        WYSHBONE_MONITOR_TICK_SECONDS="0",
    )
    log_dir = work_dir / f"{name}-logs"
    log_dir.mkdir()
    return Cluster(env, f"sqlite:///{home / 'wyshbone.sqlite'}", log_dir)


TEST_TIMINGS = (
    "WYSHBONE_QUEUE_HEARTBEAT_SECONDS",
    "WYSHBONE_QUEUE_STALLED_SECONDS",
    "WYSHBONE_RUN_LEASE_SECONDS",
)
"""Shortened by the tests (a killed worker's plans move on within seconds); nothing is killed here, so the
product's defaults apply (a 1 s lease alone is 150 renewals a second for 50 plans)."""


def _new_cluster(server_url: str, work_dir: Path, name: str, plugins: str) -> Cluster:
    url = create_database(server_url)
    log_dir = work_dir / f"{name}-logs"
    log_dir.mkdir()
    env = {k: v for k, v in queue_env(url, work_dir / name).items() if k not in TEST_TIMINGS}
    return Cluster({**env, "WYSHBONE_PLUGINS": plugins}, url, log_dir)


# --- procrastinate's bare job, for reference: defer → a worker picks the job → done -----------------------------------------


async def _bare_round_trips_ms(conninfo: str) -> list[float]:
    """BARE_JOBS no-op jobs, one at a time, through an in-process worker on the queue database ``conninfo``."""
    await ensure_queue_schema(conninfo)
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo, max_size=4))

    @app.task(name="bench.noop", queue="bench")
    async def noop() -> None:
        return None

    trips: list[float] = []
    async with app.open_async():
        worker = asyncio.create_task(
            app.run_worker_async(queues=["bench"], concurrency=1, install_signal_handlers=False)
        )
        await asyncio.sleep(0.5)  # listening for new jobs
        for _ in range(BARE_JOBS + 5):
            began = time.perf_counter()
            job_id = await noop.defer_async()
            # Done is the status procrastinate committed, which nothing announces: look for it.
            while await app.job_manager.get_job_status_async(job_id) is not Status.SUCCEEDED:  # noqa: ASYNC110
                await asyncio.sleep(0.0005)
            trips.append((time.perf_counter() - began) * 1000)
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    return trips[5:]  # the first few open connections


# --- event → SSE client across processes -------------------------------------------------------------------


@dataclass
class _Heard:
    """What the bench process saw of each event (keyed by seq): its timestamp, when its SSE line arrived, and
    when its NOTIFY did (queue mode only)."""

    stamps: dict[int, float] = field(default_factory=dict)
    streamed: dict[int, float] = field(default_factory=dict)
    notified: dict[int, float] = field(default_factory=dict)
    per_plan: dict[str, int] = field(default_factory=dict)


async def _listen(conninfo: str, heard: _Heard) -> None:
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute(f"LISTEN {CHANNEL}")
        async for notify in conn.notifies():
            notice = decode_notice(notify.payload)
            if notice is not None and notice.seq is not None:
                heard.notified.setdefault(notice.seq, time.time())


async def _sse_lags(sse_url: str, approve_url: str, conninfo: str | None) -> _Heard:
    """Start SSE_PLANS plans through ``approve_url``, follow each one's stream on ``sse_url`` (and the relay's
    NOTIFYs on ``conninfo``), approve them all through ``approve_url``, and wait for every final event."""
    heard = _Heard()
    limits = httpx.Limits(max_connections=SSE_PLANS + 20)
    listener = asyncio.create_task(_listen(conninfo, heard)) if conninfo else None
    async with (
        httpx.AsyncClient(base_url=sse_url, headers=SESSION, timeout=60, limits=limits) as reader,
        httpx.AsyncClient(base_url=approve_url, headers=SESSION, timeout=60) as writer,
    ):
        ids = []
        for _ in range(SSE_PLANS):
            started = await writer.post("/api/plan/start", json=GOAL)
            ids.append(started.json()["planId"])

        async def follow(plan_id: str) -> None:
            heard.per_plan[plan_id] = 0
            async with reader.stream("GET", f"/api/plan/{plan_id}/stream") as stream:
                async for line in stream.aiter_lines():
                    if line.startswith("data: "):
                        now, event = time.time(), json.loads(line[6:])
                        heard.streamed[event["seq"]], heard.stamps[event["seq"]] = now, _stamp(event)
                        heard.per_plan[plan_id] += 1

        followers = [asyncio.create_task(follow(p)) for p in ids]
        await asyncio.sleep(0.5)
        await asyncio.gather(*(writer.post(f"/api/plan/{p}/approve", json={}) for p in ids))
        await asyncio.wait_for(asyncio.gather(*followers), 120)
    if listener is not None:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
    return heard


def _percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[max(0, int(len(sorted_values) * q) - 1)]


# --- the figures ----------------------------------------------------------------------------------------------


def _wall_rows(queue_s: float, embedded_s: float) -> list[Row]:
    ratio = queue_s / embedded_s
    return [
        (
            "one plan alone, approval → completion: queue vs embedded",
            ratio,
            f"queue mode (1 web + 1 worker, Postgres) {queue_s * 1000:.0f} ms vs embedded (SQLite) "
            f"{embedded_s * 1000:.0f} ms: ×{ratio:.2f} (median of {RUNS}, 4 steps, fake 20 ms tools)",
        )
    ]


def _step_rows(queue_ms: float, embedded_ms: float, trips: list[float]) -> list[Row]:
    bare = statistics.median(trips)
    ratio = queue_ms / bare
    return [
        (
            "queue mode time per durable step vs procrastinate's bare job round trip",
            ratio,
            f"{queue_ms:.2f} ms/step (instant tools; (plan of 1+{STEPS} steps − plan of 1) / {STEPS}, "
            f"median of {STEP_RUNS}; embedded {embedded_ms:.2f} ms/step) vs bare job defer → done "
            f"{bare:.2f} ms (median of {BARE_JOBS}, p95 {_percentile(sorted(trips), 0.95):.2f} ms): "
            f"×{ratio:.2f}",
        )
    ]


def _ms(values: list[float]) -> str:
    ordered = sorted(v * 1000 for v in values)
    return f"p50 {statistics.median(ordered):.1f} ms, p95 {_percentile(ordered, 0.95):.1f} ms"


def _sse_rows(queue: _Heard, embedded: _Heard, stored: dict[str, int]) -> list[Row]:
    lags = sorted((queue.streamed[s] - queue.stamps[s]) * 1000 for s in queue.streamed)
    p95 = _percentile(lags, 0.95)
    alone = _percentile(sorted(embedded.streamed[s] - embedded.stamps[s] for s in embedded.streamed), 0.95)
    short = {p: (queue.per_plan.get(p, 0), n) for p, n in stored.items() if queue.per_plan.get(p, 0) != n}
    missed = f"; {len(short)} stream(s) short of the store, e.g. {next(iter(short.items()))}" if short else ""
    both = [s for s in queue.streamed if s in queue.notified]
    # Both arrive on this process's one loop: only a clear lead means the web server read the event from the store.
    polled = sum(queue.notified[s] - queue.streamed[s] > 0.05 for s in both)
    return [
        (
            f"event → SSE client across processes, {SSE_PLANS} plans running (queue mode)",
            p95,
            f"{_ms([lag / 1000 for lag in lags])}, max {lags[-1]:.0f} ms over {len(lags)} events "
            f"(stored {sum(stored.values())}){missed}; streams on web A, plans approved on web B, "
            f"{SSE_WORKERS} workers × {SSE_CONCURRENCY}; same load in one embedded process p95 "
            f"{alone * 1000:.1f} ms: ×{p95 / (alone * 1000):.2f} (goal p95 ≤ {SSE_GOAL_MS:.0f} ms: "
            f"ratio {p95 / SSE_GOAL_MS:.2f})",
        ),
        (
            "  where the cross-process lag goes",
            _percentile(sorted(queue.streamed[s] - queue.notified[s] for s in both), 0.95) * 1000,
            f"event timestamp → its NOTIFY heard {_ms([queue.notified[s] - queue.stamps[s] for s in both])}; "
            f"NOTIFY → SSE client {_ms([queue.streamed[s] - queue.notified[s] for s in both])}; "
            f"{polled} event(s) reached the client > 50 ms before their NOTIFY (read from the store, not relayed)",
        ),
    ]


def _queue_walls_and_sse(server_url: str, work_dir: Path) -> tuple[float, _Heard, dict[str, int]]:
    """The standard plan's median wall time on 1 web + 1 worker; then, with a second web server and worker
    added, the SSE lags and each plan's stored events."""
    cluster = _new_cluster(server_url, work_dir, "queue", FAST_TOOLS)
    try:
        web_a = cluster.web()
        cluster.wait_ready(web_a, cluster.worker(concurrency=SSE_CONCURRENCY))
        with httpx.Client(base_url=web_a.base_url, headers=SESSION, timeout=60) as client:
            wall = _median_wall(client, start_plans(client, RUNS + 1))
        web_b = cluster.web()
        cluster.wait_ready(
            web_b, *(cluster.worker(concurrency=SSE_CONCURRENCY) for _ in range(SSE_WORKERS - 1))
        )
        heard = asyncio.run(_sse_lags(web_a.base_url, web_b.base_url, libpq_url(cluster.url)))
        counts = cluster.query(
            "SELECT plan_id, count(*) FROM plan_events WHERE plan_id = ANY(%s) GROUP BY plan_id",
            list(heard.per_plan),
        )
        return wall, heard, {str(p): int(n) for p, n in counts}
    finally:
        cluster.stop()
        drop_database(cluster.url)


def _queue_steps(server_url: str, work_dir: Path) -> tuple[float, list[float]]:
    """Per-step ms on 1 web + 1 worker with instant tools; then the bare job round trips on the same database."""
    cluster = _new_cluster(server_url, work_dir, "steps", INSTANT_TOOLS)
    try:
        web = cluster.web()
        cluster.wait_ready(web, cluster.worker(concurrency=1))
        per_step = _per_step_ms(web.base_url, cluster.url)
        cluster.stop()  # its worker listens on every queue: the bare jobs must meet only ours
        trips = asyncio.run(_bare_round_trips_ms(libpq_url(cluster.url)))
        return per_step, trips
    finally:
        cluster.stop()
        drop_database(cluster.url)


def _embedded_figures(work_dir: Path) -> tuple[float, float, _Heard]:
    """The standard plan's median wall time, then the SSE lags, on one embedded server; the per-step ms on
    another (with instant tools)."""
    walls, steps = _embedded(work_dir, "embedded", FAST_TOOLS), _embedded(work_dir, "instant", INSTANT_TOOLS)
    try:
        web, instant = walls.web(), steps.web()
        walls.wait_ready(web, instant)
        with httpx.Client(base_url=web.base_url, headers=SESSION, timeout=60) as client:
            wall = _median_wall(client, start_plans(client, RUNS + 1))
        heard = asyncio.run(_sse_lags(web.base_url, web.base_url, None))
        return wall, _per_step_ms(instant.base_url, steps.url), heard
    finally:
        walls.stop()
        steps.stop()


def run() -> list[Row]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        return [("queue mode latencies", 0.0, "skipped: no Postgres binaries")]
    with running_postgres(bin_dir) as server, tempfile.TemporaryDirectory() as tmp:
        work_dir = Path(tmp)
        embedded_wall, embedded_step, embedded_sse = _embedded_figures(work_dir)
        queue_wall, queue_sse, stored = _queue_walls_and_sse(server.url("postgres"), work_dir)
        queue_step, trips = _queue_steps(server.url("postgres"), work_dir)
    return [
        *_wall_rows(queue_wall, embedded_wall),
        *_step_rows(queue_step, embedded_step, trips),
        *_sse_rows(queue_sse, embedded_sse, stored),
    ]


if __name__ == "__main__":
    for name, _, text in run():
        print(f"{name}: {text}", flush=True)
