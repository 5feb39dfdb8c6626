"""Crash and resume: a ``wyshbone serve`` process killed mid-plan finishes that plan when it starts again.

The servers are real subprocesses on one home and one store; a test plugin makes the domain-lookup step slow
enough to kill the first server (SIGKILL, no shutdown) while that step runs.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

import httpx
import pytest

from tests.processes import Servers, event_log, poll, step_started

pytestmark = [pytest.mark.data, pytest.mark.timeout(180)]

SESSION = {"X-Session-Id": "session-resume-0001"}
GOAL = {"goal": "Find 20 coffee shops in Manchester"}
SEARCH_STEP = "global_db_search_1"
SLOW_STEP = "hunter_domain_lookup_1"
KILL_WINDOW_SECONDS = 30.0
"""How long the first run may take to reach the slow step (it sleeps 30 s there, so it is still running)."""
RESUME_SECONDS = 30.0
"""How long the restarted server may take to finish the interrupted plan."""


def test_resume_killed_server_finishes_plan_without_rerunning_done_steps(servers: Servers) -> None:
    with servers.logs_on_failure():
        first = servers.start(step_seconds=30)
        with httpx.Client(base_url=first.base_url, headers=SESSION, timeout=10) as client:
            started = client.post("/api/plan/start", json=GOAL)
            assert started.status_code == 201, started.text
            plan_id = started.json()["planId"]
            approved = client.post(f"/api/plan/{plan_id}/approve", json={})
            assert approved.status_code == 200, approved.text
            before = poll(
                lambda: event_log(client, plan_id),
                lambda log: step_started(log, SLOW_STEP),
                within=KILL_WINDOW_SECONDS,
                what=f"{SLOW_STEP} did not start",
            )
        # The lookup waits for the search, so the search's success is stored before the kill.
        assert ("STEP_SUCCEEDED", SEARCH_STEP) in [(e["type"], e["stepId"]) for e in before]
        os.kill(first.process.pid, signal.SIGKILL)
        assert first.process.wait(timeout=10) == -signal.SIGKILL

        second = servers.start(step_seconds=0)
        with httpx.Client(base_url=second.base_url, headers=SESSION, timeout=10) as client:
            progress = poll(
                lambda: client.get(f"/api/plan/{plan_id}/progress").json(),
                lambda p: p["status"] in ("completed", "failed"),
                within=RESUME_SECONDS,
                what="the interrupted plan did not finish after the restart",
            )
            assert (progress["status"], progress["detail"]) == ("completed", "partial"), progress

            events = event_log(client, plan_id)
            started_steps = Counter(e["stepId"] for e in events if e["type"] == "STEP_STARTED")
            types = Counter(e["type"] for e in events)
            assert started_steps[SEARCH_STEP] == 1, events  # done before the kill: not run again
            assert started_steps[SLOW_STEP] == 2, events  # interrupted, then run again by the resume
            assert (types["PLAN_STARTED"], types["PLAN_COMPLETED"]) == (2, 1), events
            resumed = [e for e in events if e["type"] == "PLAN_STARTED"][1]
            assert resumed["data"]["resumed"] is True

            leads = client.get(f"/api/plan/{plan_id}/leads")
            assert leads.status_code == 200, leads.text
            assert len(leads.json()) == 20
            assert len({lead["sourceId"] for lead in leads.json()}) == 20

            result = client.get(f"/api/plan/{plan_id}/result")
            assert result.status_code == 200, result.text
            assert (result.json()["planId"], result.json()["overallStatus"]) == (plan_id, "partial")
