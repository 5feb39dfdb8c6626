"""One plan runs in one process: approvals race to one winner, and a live server's runs are never taken over.

Real ``wyshbone serve`` processes on one store (a SQLite file, or one Postgres database); a test plugin makes
the domain-lookup step slow, so plans are still running while a second server starts beside the first.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.integration.conftest import RUN_LEASE_SECONDS
from tests.processes import Servers, event_log, poll, step_started

pytestmark = [pytest.mark.data, pytest.mark.timeout(180)]

SESSION = {"X-Session-Id": "session-ownership-0001"}
GOAL = {"goal": "Find 5 coffee shops in Manchester"}
SLOW_STEP = "hunter_domain_lookup_1"


def _finished(client: httpx.Client, plan_id: str, *, within: float) -> dict[str, Any]:
    progress: dict[str, Any] = poll(
        lambda: client.get(f"/api/plan/{plan_id}/progress").json(),
        lambda p: p["status"] in ("completed", "failed"),
        within=within,
        what=f"plan {plan_id} did not finish",
    )
    return progress


def _ran_once(events: list[dict[str, Any]]) -> None:
    """The event log of one run: started once, completed once, every step started at most once."""
    types = Counter(e["type"] for e in events)
    assert (types["PLAN_STARTED"], types["PLAN_COMPLETED"]) == (1, 1), events
    steps = Counter(e["stepId"] for e in events if e["type"] == "STEP_STARTED")
    assert set(steps.values()) == {1}, events
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs), events


async def _approve_at_once(urls: list[str], plan_id: str, *, each: int) -> list[int]:
    """``each`` approvals of the plan to every server, all released at the same instant; their statuses."""
    gate = asyncio.Event()
    async with httpx.AsyncClient(
        headers=SESSION, timeout=30, limits=httpx.Limits(max_connections=100)
    ) as http:
        # Connect first, so the requests leave together rather than in connection order.
        await asyncio.gather(*(http.get(f"{url}/health") for url in urls for _ in range(each)))

        async def approve(url: str) -> int:
            await gate.wait()
            answer = await http.post(f"{url}/api/plan/{plan_id}/approve", json={})
            assert answer.status_code in (200, 409), answer.text
            if answer.status_code == 409:
                assert answer.json()["detail"] == "this plan has already been approved and is running"
            return answer.status_code

        tasks = [asyncio.ensure_future(approve(url)) for url in urls for _ in range(each)]
        await asyncio.sleep(0.05)
        gate.set()
        return list(await asyncio.gather(*tasks))


def test_approvals_at_once_on_two_servers_run_the_plan_once(servers: Servers) -> None:
    with servers.logs_on_failure():
        first, second = servers.start(step_seconds=0.5), servers.start(step_seconds=0.5)
        with httpx.Client(base_url=first.base_url, headers=SESSION, timeout=10) as client:
            started = client.post("/api/plan/start", json=GOAL)
            assert started.status_code == 201, started.text
            plan_id = started.json()["planId"]
            statuses = asyncio.run(_approve_at_once([first.base_url, second.base_url], plan_id, each=10))
            # Exactly one approval wins, whichever server it reached; the other 19 are told why not.
            assert sorted(statuses) == [200] + [409] * 19
            assert _finished(client, plan_id, within=30)["detail"] == "partial"
            _ran_once(event_log(client, plan_id))
            leads = client.get(f"/api/plan/{plan_id}/leads").json()
            assert len(leads) == len({lead["sourceId"] for lead in leads}) == 5


def test_a_server_started_beside_a_busy_one_leaves_its_plans_alone(servers: Servers) -> None:
    slow = RUN_LEASE_SECONDS * 3  # the new server's take-over check runs several times meanwhile
    with servers.logs_on_failure():
        busy = servers.start(step_seconds=slow)
        with httpx.Client(base_url=busy.base_url, headers=SESSION, timeout=10) as client:
            plan_ids = []
            for _ in range(3):
                started = client.post("/api/plan/start", json=GOAL)
                assert started.status_code == 201, started.text
                plan_ids.append(started.json()["planId"])
                assert client.post(f"/api/plan/{plan_ids[-1]}/approve", json={}).status_code == 200
            for plan_id in plan_ids:
                poll(
                    lambda plan_id=plan_id: event_log(client, plan_id),  # type: ignore[misc]
                    lambda log: step_started(log, SLOW_STEP),
                    within=30,
                    what=f"{SLOW_STEP} did not start",
                )
            servers.start(step_seconds=0)  # resumes nothing: every plan's lease is being renewed
            for plan_id in plan_ids:
                assert _finished(client, plan_id, within=slow + 30)["detail"] == "partial"
                _ran_once(event_log(client, plan_id))
