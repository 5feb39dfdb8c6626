"""Queue mode's sends: a list's send is a job a worker runs (one per list at a time, keyed by the list), over
the real providers (the cafés' directory, a fake Hunter) and a local SMTP server; each message goes once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.cafes import GOAL, World, cafe_world, list_id_of
from tests.fakes.postgres import create_database, drop_database
from tests.processes import poll
from tests.queue.cluster import Cluster, queue_env, wait_finished

pytestmark = [pytest.mark.postgres, pytest.mark.data, pytest.mark.timeout(150)]

SESSION = {"X-Session-Id": "session-queue-sends-0001"}


@pytest.fixture
def world_cluster(
    postgres_url: str,
    tmp_path: Path,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[tuple[World, Cluster]]:
    url = create_database(postgres_url)
    with cafe_world(tmp_path, data_dir, url, monkeypatch) as world:
        env = queue_env(url, tmp_path / "home")  # after the world: its settings are in the environment
        del env["WYSHBONE_PLUGINS"]  # the real tools, over the fakes
        env["WYSHBONE_OUTREACH_GAP_SECONDS"] = "1"  # a send lasts a few seconds
        cluster = Cluster(env, url, tmp_path)
        try:
            yield world, cluster
        finally:
            cluster.stop()
            if getattr(request.node, "failed", False):
                cluster.dump_logs()
            drop_database(url)


def outreach(client: httpx.Client, list_id: int) -> dict[str, Any]:
    shown = client.get(f"/api/lists/{list_id}/outreach")
    assert shown.status_code == 200, shown.text
    found: dict[str, Any] = shown.json()
    return found


def test_queue_a_lists_send_runs_once_on_a_worker_and_each_message_goes_once(
    world_cluster: tuple[World, Cluster],
) -> None:
    world, cluster = world_cluster
    web_a, web_b = cluster.web(), cluster.web()
    workers = [cluster.worker(), cluster.worker()]
    cluster.wait_ready(web_a, web_b, *workers)
    a = httpx.Client(base_url=web_a.base_url, headers=SESSION, timeout=30)
    b = httpx.Client(base_url=web_b.base_url, headers=SESSION, timeout=30)
    with a, b:
        plan_id = a.post("/api/plan/start", json={"goal": GOAL}).json()["planId"]
        assert a.post(f"/api/plan/{plan_id}/approve", json={}).status_code == 200
        assert wait_finished(a, [plan_id], within=90)[plan_id] in {"succeeded", "partial"}
        list_id = list_id_of(a.get(f"/api/plan/{plan_id}/result").json())
        assert outreach(a, list_id)["sending"] is False

        started = a.post(f"/api/lists/{list_id}/outreach/send", json={})
        assert started.status_code == 202, started.text
        due = started.json()["due"]
        assert due > 1
        # The same list through the other server while the first send is queued or running: refused.
        again = b.post(f"/api/lists/{list_id}/outreach/send", json={})
        assert again.status_code == 409 and "already being sent" in again.json()["detail"], again.text
        assert outreach(b, list_id)["sending"] is True

        poll(lambda: outreach(b, list_id), lambda o: not o["sending"], within=60, what="the send did not end")
        statuses = Counter(m["status"] for m in outreach(a, list_id)["messages"])
        assert statuses["sent"] == due, statuses
        # A second send finds nothing due: nothing goes twice.
        assert a.post(f"/api/lists/{list_id}/outreach/send", json={}).json()["due"] == 0
        poll(lambda: outreach(a, list_id), lambda o: not o["sending"], within=30, what="the send did not end")

    recipients = Counter(to for message in world.smtp.fake.received for to in message.rcpt_tos)
    assert len(world.smtp.fake.received) == due and set(recipients.values()) == {1}, recipients
    assert "outreach send for list" in "".join(w.output() for w in workers)
    assert "outreach send for list" not in web_a.output() + web_b.output()
