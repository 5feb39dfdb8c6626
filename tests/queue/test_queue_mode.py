"""Queue mode end to end: approvals over HTTP become procrastinate jobs that worker processes run; a worker
killed mid-plan has its plans resumed by another; a plan approved through two web servers at once runs once,
and a cancel through either stops it where it runs.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.processes import event_log
from tests.queue.cluster import (
    SLOW_STEP,
    Cluster,
    slow,
    start_plans,
    until_slow_step,
    wait_finished,
)

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

SESSION = {"X-Session-Id": "session-queue-000001"}
SEARCH_STEP = "global_db_search_1"
STEPS = [SEARCH_STEP, SLOW_STEP, "hunter_enrich_1", "lead_list_save_1"]
FINISHED_OK = {"succeeded", "partial"}
STEP_ENDS = {"STEP_SUCCEEDED", "STEP_FAILED", "STEP_SKIPPED"}


def assert_whole_log(events: list[dict[str, Any]], *, end: str = "PLAN_COMPLETED") -> None:
    """One plan's log, as one writer at a time leaves it: ``seq`` strictly increasing (it is global to the
    store, so a plan's numbers are not adjacent), started first, ended last and once, and each step ending
    exactly once (a step interrupted by a kill starts again, and still ends once)."""
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs)), events
    assert (events[0]["type"], events[-1]["type"]) == ("PLAN_STARTED", end), events
    assert [e["type"] for e in events].count(end) == 1, events
    ended = Counter(e["stepId"] for e in events if e["type"] in STEP_ENDS)
    assert set(ended.values()) == {1}, events


def assert_leads_once(client: httpx.Client, plan_id: str) -> None:
    leads = client.get(f"/api/plan/{plan_id}/leads")
    assert leads.status_code == 200, leads.text
    assert len(leads.json()) == 20
    assert len({lead["sourceId"] for lead in leads.json()}) == 20


def test_queue_two_workers_run_twenty_plans_each_step_once(cluster: Cluster) -> None:
    web, *workers = cluster.web(), cluster.worker(), cluster.worker()
    cluster.wait_ready(web, *workers)
    with httpx.Client(base_url=web.base_url, headers=SESSION, timeout=10) as client:
        plan_ids = start_plans(client, 20)
        for plan_id in plan_ids:
            approved = client.post(f"/api/plan/{plan_id}/approve", json={})
            assert (approved.status_code, approved.json()["status"]) == (200, "executing"), approved.text
        statuses = wait_finished(client, plan_ids, within=30)
        assert set(statuses.values()) <= FINISHED_OK, statuses
        for plan_id in plan_ids:
            events = event_log(client, plan_id)
            assert_whole_log(events)
            started = Counter(e["stepId"] for e in events if e["type"] == "STEP_STARTED")
            assert started == Counter(STEPS), events  # each step ran exactly once
            types = Counter(e["type"] for e in events)
            assert (types["PLAN_STARTED"], types["PLAN_COMPLETED"]) == (1, 1), events
            assert_leads_once(client, plan_id)
    # One job per plan, each done once.
    jobs = cluster.query(
        "SELECT status, attempts FROM procrastinate_jobs WHERE task_name = 'wyshbone.run_plan'"
    )
    assert sorted(jobs) == [("succeeded", 1)] * 20  # attempts counts the finished run


def test_queue_killed_worker_plans_resume_on_the_other(cluster: Cluster) -> None:
    slow_settings = slow(2)
    web, doomed, survivor = cluster.web(), cluster.worker(**slow_settings), cluster.worker(**slow_settings)
    cluster.wait_ready(web, doomed, survivor)
    with httpx.Client(base_url=web.base_url, headers=SESSION, timeout=10) as client:
        plan_ids = start_plans(client, 8)
        for plan_id in plan_ids:
            assert client.post(f"/api/plan/{plan_id}/approve", json={}).status_code == 200
        # Eight slots over two workers: every plan is in its slow step, half of them on the doomed worker.
        for plan_id in plan_ids:
            until_slow_step(client, plan_id)
        os.kill(doomed.process.pid, signal.SIGKILL)
        assert doomed.process.wait(timeout=10) == -signal.SIGKILL
        statuses = wait_finished(client, plan_ids, within=40)
        assert set(statuses.values()) <= FINISHED_OK, statuses
        resumed = 0
        for plan_id in plan_ids:
            events = event_log(client, plan_id)
            assert_whole_log(events)
            started = Counter(e["stepId"] for e in events if e["type"] == "STEP_STARTED")
            assert started[SEARCH_STEP] == 1, events  # finished before the kill: not run again
            types = Counter(e["type"] for e in events)
            assert types["PLAN_COMPLETED"] == 1, events
            resumed += types["PLAN_STARTED"] - 1
            assert_leads_once(client, plan_id)
    assert resumed >= 1, "no plan was running on the killed worker"
    assert "its worker stopped beating" in survivor.output()


def test_queue_racing_approvals_through_two_servers_run_once_and_cancel_reaches_the_worker(
    cluster: Cluster,
) -> None:
    slow_settings = slow(30)
    first, second, worker = cluster.web(), cluster.web(), cluster.worker(**slow_settings)
    cluster.wait_ready(first, second, worker)
    with (
        httpx.Client(base_url=first.base_url, headers=SESSION, timeout=10) as a,
        httpx.Client(base_url=second.base_url, headers=SESSION, timeout=10) as b,
    ):
        [plan_id] = start_plans(a, 1)
        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(
                pool.map(lambda n: (a, b)[n % 2].post(f"/api/plan/{plan_id}/approve", json={}), range(20))
            )
        assert sorted(r.status_code for r in answers) == [200] + [409] * 19, [r.text for r in answers]
        until_slow_step(b, plan_id)
        # The worker runs it; a cancel through either server stops it there.
        cancelled = b.post(f"/api/plan/{plan_id}/cancel", json={})
        assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled"), cancelled.text
        events = event_log(a, plan_id)
        assert_whole_log(events, end="PLAN_CANCELLED")
        types = Counter(e["type"] for e in events)
        assert (types["PLAN_STARTED"], types["PLAN_CANCELLED"], types["STEP_STARTED"]) == (1, 1, 2), events
        assert a.get(f"/api/plan/{plan_id}").json()["status"] == "cancelled"
    jobs = cluster.query("SELECT status FROM procrastinate_jobs WHERE lock = %s", plan_id)
    assert jobs == [("succeeded",)]


def test_queue_cancel_before_any_worker_and_a_stopped_worker_hands_its_plan_on(cluster: Cluster) -> None:
    web = cluster.web()
    cluster.wait_ready(web)
    with httpx.Client(base_url=web.base_url, headers=SESSION, timeout=20) as client:
        # No worker yet: the plan waits in the queue, and a cancel ends it at once, nothing of it run.
        waiting, handed_on = start_plans(client, 2)
        assert client.post(f"/api/plan/{waiting}/approve", json={}).status_code == 200
        cancelled = client.post(f"/api/plan/{waiting}/cancel", json={})
        assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled"), cancelled.text
        assert [e["type"] for e in event_log(client, waiting)] == ["PLAN_CANCELLED"]

        stopping = cluster.worker(**slow(30))
        cluster.wait_ready(stopping)
        assert client.post(f"/api/plan/{handed_on}/approve", json={}).status_code == 200
        until_slow_step(client, handed_on)
        # SIGTERM: a short grace, then the plan is interrupted, its lease released, its job retried at once.
        stopping.process.terminate()
        cluster.worker()
        assert stopping.process.wait(timeout=20) == 0
        assert wait_finished(client, [handed_on], within=30)[handed_on] in FINISHED_OK
        events = event_log(client, handed_on)
        assert_whole_log(events)
        assert [e["type"] for e in events].count("PLAN_STARTED") == 2, events
        assert Counter(e["stepId"] for e in events if e["type"] == "STEP_STARTED")[SEARCH_STEP] == 1, events
        assert_leads_once(client, handed_on)
        # The cancelled plan never ran (its job, queued just before or after the cancel, found nothing to do).
        assert [e["type"] for e in event_log(client, waiting)] == ["PLAN_CANCELLED"]
    jobs = dict(
        cluster.query("SELECT lock, status FROM procrastinate_jobs WHERE task_name = 'wyshbone.run_plan'")
    )
    assert jobs[handed_on] == "succeeded"
    assert jobs[waiting] in ("cancelled", "succeeded")
