"""Web service figures: progress-route throughput vs the health route, SSE latency under load,
and 200 plans executing at once in one process.

Each figure is a ratio against a baseline measured in the same run.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
SESSION = {"X-Session-Id": "bench-session-0001"}
LOAD_SECONDS = 4.0
LOAD_CONNECTIONS = 16


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``wyshbone serve`` in a subprocess on a free port."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "wyshbone.cli", "serve", "--port", str(self.port)]
        full_env = {**os.environ, **env, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _load(url: str, headers: dict[str, str]) -> tuple[float, float, str]:
    """Requests/s and p99 latency (ms) with LOAD_CONNECTIONS keep-alive connections, and the tool used.

    ``wrk`` (Debian's package) when installed: a C load generator leaves the server as the bottleneck.
    Without it, a Python client shares the two cores with the server and caps both rates alike.
    """
    if shutil.which("wrk"):
        return (*_wrk(url, headers), "wrk")
    return (*asyncio.run(_python_load(url, headers)), "python httpx (install wrk for a truer figure)")


def _wrk(url: str, headers: dict[str, str]) -> tuple[float, float]:
    cmd = ["wrk", "-t1", f"-c{LOAD_CONNECTIONS}", f"-d{LOAD_SECONDS:.0f}s", "--latency"]
    for key, value in headers.items():
        cmd += ["-H", f"{key}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return rps, float(p99) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def _python_load(url: str, headers: dict[str, str]) -> tuple[float, float]:
    latencies: list[float] = []
    stop_at = time.perf_counter() + LOAD_SECONDS
    limits = httpx.Limits(max_connections=LOAD_CONNECTIONS, max_keepalive_connections=LOAD_CONNECTIONS)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=10) as client:

        async def worker() -> None:
            while time.perf_counter() < stop_at:
                start = time.perf_counter()
                response = await client.get(url)
                response.raise_for_status()
                latencies.append(time.perf_counter() - start)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(LOAD_CONNECTIONS)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99) - 1] * 1000


def progress_throughput(env: dict[str, str]) -> list[tuple[str, float, str]]:
    server = Server(env)
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.base, headers=SESSION, timeout=30) as client:
            plan_id = client.post(
                "/api/plan/start", json={"goal": "Find 20 coffee shops in Manchester"}
            ).json()["planId"]
            client.post(f"/api/plan/{plan_id}/approve", json={})
            for _ in range(200):
                if client.get(f"/api/plan/{plan_id}/progress").json()["status"] != "executing":
                    break
                time.sleep(0.05)
        health_rps, health_p99, tool = _load(f"{server.base}/health", SESSION)
        progress_rps, progress_p99, _ = _load(f"{server.base}/api/plan/progress", SESSION)
    finally:
        server.stop()
    ratio = progress_rps / health_rps
    return [
        (
            "GET /api/plan/progress throughput",
            ratio,
            f"{progress_rps:.0f} req/s (p99 {progress_p99:.1f} ms) vs GET /health {health_rps:.0f} req/s "
            f"(p99 {health_p99:.1f} ms): ratio {ratio:.2f} (goal ≥ 0.70; load from {tool})",
        )
    ]


async def _sse_latency(base: str, plans: int) -> list[float]:
    """Start ``plans`` plans, follow each one's stream, and measure event timestamp → client receipt."""
    lags: list[float] = []
    limits = httpx.Limits(max_connections=plans + 20)
    async with httpx.AsyncClient(base_url=base, headers=SESSION, timeout=60, limits=limits) as client:
        ids = []
        for _ in range(plans):
            started = await client.post(
                "/api/plan/start", json={"goal": "Find 20 coffee shops in Manchester"}
            )
            ids.append(started.json()["planId"])

        async def follow(plan_id: str) -> None:
            async with client.stream("GET", f"/api/plan/{plan_id}/stream") as stream:
                async for line in stream.aiter_lines():
                    if line.startswith("data: "):
                        received = time.time()
                        event: dict[str, Any] = json.loads(line[6:])
                        stamp = event["timestamp"].replace("Z", "+00:00")
                        lags.append(received - datetime.fromisoformat(stamp).timestamp())

        followers = [asyncio.create_task(follow(pid)) for pid in ids]
        await asyncio.sleep(0.5)
        await asyncio.gather(*(client.post(f"/api/plan/{pid}/approve", json={}) for pid in ids))
        await asyncio.wait_for(asyncio.gather(*followers), 120)
    return lags


def sse_latency(env: dict[str, str]) -> list[tuple[str, float, str]]:
    server = Server({**env, "WYSHBONE_PLUGINS": "bench.fake_tools:providers"})
    try:
        server.wait_ready()
        lags = asyncio.run(_sse_latency(server.base, 100))
    finally:
        server.stop()
    lags_ms = sorted(lag * 1000 for lag in lags)
    p50 = statistics.median(lags_ms)
    p95 = lags_ms[int(len(lags_ms) * 0.95) - 1]
    return [
        (
            "event → SSE client latency, 100 plans running (fake 20 ms tools)",
            p95,
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(lags_ms)} events (goal p95 ≤ 100 ms: ratio {p95 / 100:.2f})",
        )
    ]


def run(directory: Path, open_data: Path) -> list[tuple[str, float, str]]:
    with tempfile.TemporaryDirectory() as home:
        env = {
            "WYSHBONE_HOME": home,
            "WYSHBONE_DIRECTORY_PATH": str(directory),
            "WYSHBONE_OPEN_DATA_DIR": str(open_data),
        }
        return [*progress_throughput(env), *sse_latency(env)]


if __name__ == "__main__":
    from wyshbone.config import Settings

    settings = Settings()
    for name, _, text in run(
        Path(sys.argv[1]) if len(sys.argv) > 1 else settings.directory_file, settings.open_data_dir
    ):
        print(f"{name}: {text}")
