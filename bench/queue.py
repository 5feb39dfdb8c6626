"""Queue mode's throughput: plans completed per second with 1, 2 and 4 workers (8 plans at once each) over one
throwaway Postgres, fake 20 ms tools, plans approved over HTTP through one web server; and the scaling ratio.

``python -m bench.queue``. On a machine with fewer cores than processes the ratio says more about the cores.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import httpx
from tests.fakes.postgres import create_database, drop_database, find_bin_dir, running_postgres
from tests.queue.cluster import Cluster, queue_env, start_plans

PLANS = 60
WORKER_COUNTS = (1, 2, 4)
CONCURRENCY = 8
SESSION = {"X-Session-Id": "session-bench-queue-01"}


def _plans_per_second(server_url: str, work_dir: Path, workers: int) -> float:
    url = create_database(server_url)
    cluster = Cluster(queue_env(url, work_dir / f"home-{workers}"), url, work_dir)
    try:
        web = cluster.web()
        started = [cluster.worker(concurrency=CONCURRENCY) for _ in range(workers)]
        cluster.wait_ready(web, *started)
        with httpx.Client(base_url=web.base_url, headers=SESSION, timeout=30) as client:
            plan_ids = start_plans(client, PLANS)
            began = time.perf_counter()
            for plan_id in plan_ids:
                client.post(f"/api/plan/{plan_id}/approve", json={}).raise_for_status()
            while cluster.query("SELECT count(*) FROM plans WHERE status = 'executing'")[0][0]:
                time.sleep(0.02)
            return PLANS / (time.perf_counter() - began)
    finally:
        cluster.stop()
        drop_database(url)


def run() -> list[tuple[str, float, str]]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        return [("queue mode", 0.0, "skipped: no Postgres binaries")]
    rows: list[tuple[str, float, str]] = []
    with running_postgres(bin_dir) as server, tempfile.TemporaryDirectory() as tmp:
        rates = {n: _plans_per_second(server.url("postgres"), Path(tmp), n) for n in WORKER_COUNTS}
    for n, rate in rates.items():
        rows.append(
            (f"queue mode, {n} worker(s)", rate, f"{rate:.1f} plans/s ({PLANS} plans, 4 steps of 20 ms)")
        )
    ratio = rates[WORKER_COUNTS[-1]] / rates[WORKER_COUNTS[0]]
    rows.append(("queue mode scaling", ratio, f"{WORKER_COUNTS[-1]} workers / 1 worker: ×{ratio:.2f}"))
    return rows


if __name__ == "__main__":
    for name, _, text in run():
        print(f"{name}: {text}", flush=True)
