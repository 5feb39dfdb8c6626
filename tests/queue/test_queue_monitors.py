"""Queue mode's monitors: the workers look for due monitors (a procrastinate periodic task) and queue one check
job per due monitor; with two workers and two web servers running, a due monitor is checked once, by a worker.
A check asked for by hand ("Run now") is a worker's job too.
"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.processes import poll
from tests.queue.cluster import Cluster, wait_finished

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(150)]

SESSION = {"X-Session-Id": "session-queue-monitors-01"}
GOAL = {"goal": "Find 5 coffee shops in Manchester and check every week for new ones"}
TICK = {"WYSHBONE_MONITOR_TICK_SECONDS": "1"}
SETTLE_SECONDS = 4.0
"""Four more ticks of each worker after a check: time for a second check, were one to be queued."""


def checks(cluster: Cluster) -> list[tuple[str, str, str | None]]:
    """Every monitor run but the set-up's: (kind, status, the check plan's id), oldest first."""
    rows = cluster.query("SELECT kind, status, plan_id FROM monitor_runs WHERE kind <> 'setup' ORDER BY id")
    return [(str(kind), str(status), plan_id) for kind, status, plan_id in rows]


def test_queue_due_monitor_is_checked_once_by_a_worker_with_two_of_each_running(cluster: Cluster) -> None:
    web_a, web_b = cluster.web(**TICK), cluster.web(**TICK)
    workers = [cluster.worker(**TICK), cluster.worker(**TICK)]
    cluster.wait_ready(web_a, web_b, *workers)
    with httpx.Client(base_url=web_a.base_url, headers=SESSION, timeout=30) as client:
        started = client.post("/api/plan/start", json=GOAL)
        assert started.status_code == 201, started.text
        plan_id = started.json()["planId"]
        assert client.post(f"/api/plan/{plan_id}/approve", json={}).status_code == 200
        assert wait_finished(client, [plan_id], within=60) == {plan_id: "succeeded"}
        (monitor,) = client.get("/api/monitors").json()

    # Set up by the plan, the monitor is due at once: its first check (the baseline) is queued and run once.
    poll(lambda: checks(cluster), lambda c: len(c) >= 1, within=30, what="the monitor was not checked")
    time.sleep(SETTLE_SECONDS)
    (first,) = checks(cluster)
    assert first[:2] == ("baseline", "succeeded"), first

    # Due again (its week has passed): checked once more, still once.
    moved = "UPDATE monitors SET next_run_at = '2000-01-01T00:00:00+00:00' WHERE id = %s RETURNING id"
    assert cluster.query(moved, monitor["id"]) == [(monitor["id"],)]
    poll(lambda: checks(cluster), lambda c: len(c) >= 2, within=30, what="the due monitor was not checked")
    time.sleep(SETTLE_SECONDS)
    assert [c[:2] for c in checks(cluster)] == [("baseline", "succeeded"), ("scheduled", "succeeded")]

    # Each check ran as a plan of its own, in a worker: no web server ran one.
    check_ids = [c[2] for c in checks(cluster)]
    assert None not in check_ids and len(set(check_ids)) == 2
    workers_log = "".join(w.output() for w in workers)
    web_log = web_a.output() + web_b.output()
    for check_id in check_ids:
        assert f"(plan {check_id})" in workers_log
        assert str(check_id) not in web_log
    statuses = cluster.query("SELECT status FROM plans WHERE id = ANY(%s)", check_ids)
    assert sorted(s for (s,) in statuses) == ["succeeded", "succeeded"]

    # "Run now" through the other web server: a worker runs it, and the answer is its run.
    with httpx.Client(base_url=web_b.base_url, headers=SESSION, timeout=60) as client:
        answer = client.post(f"/api/monitors/{monitor['id']}/run", json={})
        assert answer.status_code == 200, answer.text
        manual = answer.json()
        assert client.post("/api/monitors/999/run", json={}).status_code == 404
    assert (manual["kind"], manual["status"]) == ("manual", "succeeded"), manual
    assert [c[:2] for c in checks(cluster)][-1] == ("manual", "succeeded")
    assert f"(plan {manual['planId']})" in "".join(w.output() for w in workers)
    assert manual["planId"] not in web_a.output() + web_b.output()
