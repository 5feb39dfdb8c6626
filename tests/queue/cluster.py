"""Queue mode with real processes: ``wyshbone worker`` and ``wyshbone serve`` subprocesses sharing one
Postgres database, with fake 20 ms tools (``bench.fake_tools``); used by tests/queue and bench/queue.py.

``queue_env`` keeps heartbeats, stalled-worker timeouts and leases short, so a killed worker's plans move on
within seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

from tests.fakes.server import free_port
from tests.processes import event_log, poll, step_started

REPO = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 45.0
READY_LINE = "wyshbone worker ready"
GOAL = {"goal": "Find 20 coffee shops in Manchester"}
FAST_TOOLS = "bench.fake_tools:providers"
SLOW_LOOKUP = "tests.fakes.slow_tools:providers"
SLOW_STEP = "hunter_domain_lookup_1"
"""The step ``SLOW_LOOKUP`` makes slow."""


@dataclass
class Process:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    base_url: str = ""

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Cluster:
    """Web servers and workers on one store; ``stop`` ends whatever still runs (SIGTERM, then SIGKILL)."""

    env: dict[str, str]
    url: str
    log_dir: Path
    started: list[Process] = field(default_factory=list)

    def _spawn(self, name: str, args: list[str], extra: dict[str, str]) -> Process:
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "wyshbone.cli", *args],
                cwd=REPO,
                env={**self.env, **extra},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        started = Process(name, process, log)
        self.started.append(started)
        return started

    def worker(self, *, concurrency: int = 4, **extra: str) -> Process:
        n = sum(p.name.startswith("worker") for p in self.started) + 1
        return self._spawn(f"worker-{n}", ["worker", "--concurrency", str(concurrency)], extra)

    def web(self, **extra: str) -> Process:
        n = sum(p.name.startswith("web") for p in self.started) + 1
        port = free_port()
        web = self._spawn(f"web-{n}", ["serve", "--port", str(port)], extra)
        web.base_url = f"http://127.0.0.1:{port}"
        return web

    def wait_ready(self, *processes: Process) -> None:
        """Wait until each web server answers /health and each worker says it is ready."""
        for started in processes:
            poll(
                lambda p=started: _ready(p),  # type: ignore[misc]
                bool,
                within=STARTUP_SECONDS,
                what=f"{started.name} was not ready",
            )

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        target = make_url(self.url)
        with psycopg.connect(
            host=target.host, port=target.port, user=target.username, dbname=target.database
        ) as conn:
            return list(conn.execute(sql, params).fetchall())  # type: ignore[arg-type]

    def stop(self) -> None:
        for started in self.started:
            if started.process.poll() is None:
                started.process.terminate()
        for started in self.started:
            try:
                started.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                started.process.kill()
                started.process.wait(timeout=10)

    def dump_logs(self) -> None:
        for started in self.started:
            print(f"----- {started.name} (exit code {started.process.poll()}) -----")
            print(started.output()[-20000:])


def _ready(started: Process) -> bool:
    if started.process.poll() is not None:
        raise AssertionError(
            f"{started.name} exited with code {started.process.returncode}:\n{started.output()}"
        )
    if not started.base_url:
        return READY_LINE in started.output()
    try:
        return httpx.get(f"{started.base_url}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def queue_env(url: str, home: Path) -> dict[str, str]:
    """The environment of every process of a test cluster on the database at ``url``."""
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "WYSHBONE_HOME": str(home),
        "WYSHBONE_EXECUTION": "queue",
        "WYSHBONE_DATABASE_URL": url,
        "WYSHBONE_PLUGINS": FAST_TOOLS,
        "WYSHBONE_QUEUE_HEARTBEAT_SECONDS": "0.5",
        "WYSHBONE_QUEUE_STALLED_SECONDS": "3",
        "WYSHBONE_RUN_LEASE_SECONDS": "1",
        "WYSHBONE_MONITOR_TICK_SECONDS": "0",
    }


def start_plans(client: httpx.Client, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        started = client.post("/api/plan/start", json=GOAL)
        assert started.status_code == 201, started.text
        ids.append(started.json()["planId"])
    return ids


def wait_finished(client: httpx.Client, plan_ids: list[str], *, within: float) -> dict[str, str]:
    """Each plan's final status, once none is executing."""

    def statuses() -> dict[str, str]:
        return {p: client.get(f"/api/plan/{p}").json()["status"] for p in plan_ids}

    found: dict[str, str] = poll(
        statuses,
        lambda s: "executing" not in s.values(),
        within=within,
        what="the plans did not finish",
        every=0.25,
    )
    return found


def started_at(start: float) -> float:
    return time.monotonic() - start


def slow(seconds: float) -> dict[str, str]:
    """A process's settings whose ``SLOW_STEP`` takes ``seconds`` (the other tools 20 ms)."""
    return {"WYSHBONE_PLUGINS": f"{FAST_TOOLS},{SLOW_LOOKUP}", "WYSHBONE_FAKE_STEP_SECONDS": str(seconds)}


def until_slow_step(client: httpx.Client, plan_id: str, *, within: float = 20) -> None:
    """Wait until the plan's ``SLOW_STEP`` has started (it runs on a worker with ``slow`` settings)."""
    poll(
        lambda: event_log(client, plan_id),
        lambda log: step_started(log, SLOW_STEP),
        within=within,
        what=f"{SLOW_STEP} did not start",
    )
