"""Queue mode: a cancel asked for just before the worker running the plan dies is not lost. The workers' sweep
finds the dead worker's job with its abort asked for, and ends the plan cancelled instead of running it again.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.processes import event_log, poll
from tests.queue.cluster import Cluster, slow, start_plans, until_slow_step

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

SESSION = {"X-Session-Id": "session-queue-cancel-01"}


def test_queue_a_cancel_asked_just_before_its_worker_dies_ends_the_plan_cancelled(cluster: Cluster) -> None:
    slow_settings = slow(30)
    web, doomed = cluster.web(), cluster.worker(**slow_settings)
    cluster.wait_ready(web, doomed)
    with httpx.Client(base_url=web.base_url, headers=SESSION, timeout=30) as client:
        [plan_id] = start_plans(client, 1)
        assert client.post(f"/api/plan/{plan_id}/approve", json={}).status_code == 200
        until_slow_step(client, plan_id)
        # Frozen, the worker cannot hear the cancel; it dies once the cancel is stored.
        os.kill(doomed.process.pid, signal.SIGSTOP)
        with ThreadPoolExecutor(1) as pool:
            cancelling = pool.submit(client.post, f"/api/plan/{plan_id}/cancel", json={})
            poll(
                lambda: cluster.query(
                    "SELECT abort_requested FROM procrastinate_jobs WHERE lock = %s", plan_id
                ),
                lambda rows: rows == [(True,)],
                within=10,
                what="the cancel was not stored",
            )
            os.kill(doomed.process.pid, signal.SIGKILL)
            assert doomed.process.wait(timeout=10) == -signal.SIGKILL
            survivor = cluster.worker(**slow_settings)
            cluster.wait_ready(survivor)
            cancelled = cancelling.result(timeout=30)
        assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled"), cancelled.text
        events = event_log(client, plan_id)
        types = Counter(e["type"] for e in events)
        assert (types["PLAN_STARTED"], types["PLAN_CANCELLED"], types["PLAN_COMPLETED"]) == (1, 1, 0), events
        assert events[-1]["type"] == "PLAN_CANCELLED"
        assert events[-1]["data"]["reason"] == "cancelled; the worker running it had stopped"
    assert cluster.query("SELECT status FROM procrastinate_jobs WHERE lock = %s", plan_id) == [("aborted",)]
    assert "cancelled, and the worker running it stopped beating" in survivor.output()
