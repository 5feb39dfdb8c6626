"""Queue mode through a database outage: Postgres stops for a few seconds mid-plan and starts again; the web
server answers 503 meanwhile, the worker says so and carries on (it does not end), and the plan completes, each
step ending once.

On a Postgres server of its own, as the outage would cut off every other test's database.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.postgres import PostgresServer, find_bin_dir, running_postgres
from tests.processes import event_log
from tests.queue.cluster import (
    Cluster,
    queue_env,
    slow,
    start_plans,
    until_slow_step,
    wait_finished,
)

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]

SESSION = {"X-Session-Id": "session-queue-outage-01"}
STEP_ENDS = {"STEP_SUCCEEDED", "STEP_FAILED", "STEP_SKIPPED"}
OUTAGE_SECONDS = 5.0


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip("POSTGRES MISSING: no initdb/pg_ctl/postgres found")
    with running_postgres(bin_dir) as server:
        yield server


def test_queue_worker_rides_out_a_database_outage_and_the_plan_completes(
    own_postgres: PostgresServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    cluster = Cluster(queue_env(own_postgres.url(), tmp_path / "home"), own_postgres.url(), tmp_path)
    try:
        slow_settings = slow(3)
        web, worker = cluster.web(), cluster.worker(**slow_settings)
        cluster.wait_ready(web, worker)
        with httpx.Client(base_url=web.base_url, headers=SESSION, timeout=30) as client:
            [plan_id] = start_plans(client, 1)
            assert client.post(f"/api/plan/{plan_id}/approve", json={}).status_code == 200
            until_slow_step(client, plan_id, within=30)
            own_postgres.down()
            began = time.monotonic()
            answer = client.get(f"/api/plan/{plan_id}/progress")  # the web server says what is wrong
            assert answer.status_code == 503, answer.text
            assert "database is not answering" in answer.json()["detail"]
            time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - began)))
            assert worker.process.poll() is None, "the worker ended during the outage"
            own_postgres.up()
            assert wait_finished(client, [plan_id], within=120)[plan_id] in {"succeeded", "partial"}
            events = event_log(client, plan_id)
        assert worker.process.poll() is None, "the worker ended after the outage"
        assert "the job queue stopped" in worker.output()
        ended = Counter(e["stepId"] for e in events if e["type"] in STEP_ENDS)
        assert set(ended.values()) == {1}, events
        assert [e["type"] for e in events].count("PLAN_COMPLETED") == 1, events
    finally:
        cluster.stop()
        if getattr(request.node, "failed", False):
            cluster.dump_logs()
