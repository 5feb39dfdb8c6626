"""Live progress across web servers in queue mode: an SSE client on one server sees, live and exactly once,
the events of a plan that a worker runs after another server approved it; a client that connects mid-run gets
the earlier events replayed, then the live ones.

The worker's domain-lookup step waits for a gate file (``gated_lookup``, loaded by the worker as a plugin), so
the test decides when the plan moves on instead of racing a timer.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import event_log, poll, step_started
from tests.queue.cluster import FAST_TOOLS, Cluster, Process, start_plans
from wyshbone.config import Settings
from wyshbone.domain.models import LeadToolExecutionEnv, LeadToolExecutionResult, LeadToolIdentifier
from wyshbone.domain.planner import ProviderInfo
from wyshbone.domain.steps import OpenParams
from wyshbone.tools import Provider

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

SESSION = {"X-Session-Id": "session-live-0000001"}
SLOW_STEP = "hunter_domain_lookup_1"
GATE_ENV = "WYSHBONE_TEST_GATE"
GATED_LOOKUP = "tests.queue.test_live_progress:gated_lookup"
EVENT_LINE = "[LEAD_GEN_PLAN] "
STREAM_TIMEOUT = httpx.Timeout(10, read=60)
"""The gate may hold a stream silent for a while (keepalives come every 15 s): read patiently."""


# --- the worker's plugin: a domain lookup that waits for the test to open its gate --------------------------


def gated_lookup(settings: Settings) -> Iterable[tuple[str, Provider[OpenParams]]]:
    """``WYSHBONE_PLUGINS=...,tests.queue.test_live_progress:gated_lookup``: the domain lookup waits until the
    file named by ``WYSHBONE_TEST_GATE`` exists, then reports that it looked nothing up."""
    gate = Path(os.environ[GATE_ENV])

    async def lookup(params: OpenParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        # The gate is a file the test process creates: there is no event to await, only the file to look for.
        while not await asyncio.to_thread(gate.exists):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        return LeadToolExecutionResult(
            success=True, data={"lookedUp": 0, "note": "test fake: made no lookups"}
        )

    yield (
        LeadToolIdentifier.HUNTER_DOMAIN_LOOKUP,
        Provider(ProviderInfo("gated_test_fake", True, external=False), lookup),
    )


# --- an SSE client ------------------------------------------------------------------------------------------


def sse_messages(lines: Iterable[str]) -> Iterator[dict[str, str]]:
    """The messages of a server-sent event stream, each as its fields (comments skipped)."""
    fields: dict[str, str] = {}
    for line in lines:
        if not line:
            if fields:
                yield fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
    if fields:
        yield fields


@dataclass
class StreamReader:
    """One client of ``GET /api/plan/{id}/stream`` on one server, read on a daemon thread to the stream's end
    (a stream that never ends cannot hang the test: stopping the cluster ends it)."""

    server: Process
    plan_id: str
    last_event_id: int | None = None
    connected: threading.Event = field(default_factory=threading.Event)
    """Set once the server has sent the stream's first message."""
    events: list[dict[str, Any]] = field(default_factory=list)
    """The events received so far, in the order they came."""
    error: BaseException | None = None
    _thread: threading.Thread | None = None

    def open(self) -> StreamReader:
        self._thread = threading.Thread(target=self._run, name=f"sse-{self.server.name}", daemon=True)
        self._thread.start()
        poll(lambda: self._healthy().connected.is_set(), bool, within=20, what="the stream did not open")
        return self

    def received(self, n: int) -> list[dict[str, Any]]:
        """The first ``n`` events received, once they have come."""
        got: list[dict[str, Any]] = poll(
            lambda: list(self._healthy().events),
            lambda events: len(events) >= n,
            within=30,
            what=f"the stream did not deliver {n} events",
        )
        return got[:n]

    def finish(self) -> list[dict[str, Any]]:
        """Every event received, once the stream has ended."""
        assert self._thread is not None
        self._thread.join(timeout=60)
        assert not self._thread.is_alive(), f"the stream did not end; received: {self.events}"
        return list(self._healthy().events)

    def _healthy(self) -> StreamReader:
        if self.error is not None:
            raise AssertionError("the stream reader failed") from self.error
        return self

    def _run(self) -> None:
        try:
            self._read()
        except BaseException as exc:  # handed to the test's thread by _healthy
            self.error = exc

    def _read(self) -> None:
        headers = dict(SESSION)
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = str(self.last_event_id)
        with (
            httpx.Client(base_url=self.server.base_url, headers=headers, timeout=STREAM_TIMEOUT) as client,
            client.stream("GET", f"/api/plan/{self.plan_id}/stream") as response,
        ):
            assert response.status_code == 200, response.read()
            for message in sse_messages(response.iter_lines()):
                self.connected.set()
                if "data" in message:
                    event = json.loads(message["data"])
                    # The SSE framing agrees with the event it carries (a reconnect resumes from ``id``).
                    assert (message["id"], message["event"]) == (str(event["seq"]), event["type"]), message
                    self.events.append(event)


# --- the tests ----------------------------------------------------------------------------------------------


def assert_one_run(events: list[dict[str, Any]], plan_id: str) -> None:
    """One plan's whole log of one uninterrupted run: started first, completed last, ``seq`` increasing."""
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs)), events
    assert {e["planId"] for e in events} == {plan_id}, events
    types = [e["type"] for e in events]
    assert (types[0], types[-1]) == ("PLAN_STARTED", "PLAN_COMPLETED"), types
    assert (types.count("PLAN_STARTED"), types.count("PLAN_COMPLETED")) == (1, 1), types


def logged_seqs(process: Process, plan_id: str) -> list[int]:
    """The seqs of the events of ``plan_id`` that ``process`` stored (it logs each one it appends)."""
    seqs = []
    for line in process.output().splitlines():
        _, marker, logged = line.partition(EVENT_LINE)
        if marker and (event := json.loads(logged))["planId"] == plan_id:
            seqs.append(event["seq"])
    return seqs


def test_live_progress_stream_on_one_server_follows_a_worker_run_approved_through_another(
    cluster: Cluster, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    worker = cluster.worker(WYSHBONE_PLUGINS=f"{FAST_TOOLS},{GATED_LOOKUP}", WYSHBONE_TEST_GATE=str(gate))
    a, b = cluster.web(), cluster.web()
    cluster.wait_ready(a, b, worker)
    with httpx.Client(base_url=b.base_url, headers=SESSION, timeout=10) as via_b:
        [plan_id] = start_plans(via_b, 1)
        # Before approval: A's client follows the plan from its start.
        from_start = StreamReader(a, plan_id).open()
        approved = via_b.post(f"/api/plan/{plan_id}/approve", json={})
        assert (approved.status_code, approved.json()["status"]) == (200, "executing"), approved.text

        # The run stops at the gate, held by the worker; A's client has had everything so far.
        before = poll(
            lambda: event_log(via_b, plan_id),
            lambda log: step_started(log, SLOW_STEP),
            within=30,
            what=f"{SLOW_STEP} did not start",
        )
        [(owner,)] = cluster.query("SELECT owner FROM plans WHERE id = %s", plan_id)
        assert owner.split(":")[1] == str(worker.process.pid), owner  # host:pid:token#job.attempt
        assert from_start.received(len(before)) == before

        # Mid-run on A: a new client gets the earlier events replayed, a resuming one those after its
        # Last-Event-ID, both while the run still waits...
        replayed = StreamReader(a, plan_id).open()
        resumed = StreamReader(a, plan_id, last_event_id=before[0]["seq"]).open()
        assert replayed.received(len(before)) == before
        assert resumed.received(len(before) - 1) == before[1:]
        assert event_log(via_b, plan_id) == before  # nothing more was stored meanwhile

        # ... then all three the rest, live, to the plan's final event.
        gate.touch()
        streamed = {"from start": from_start.finish(), "replayed": replayed.finish()}
        after_resume = resumed.finish()
        stored = event_log(via_b, plan_id)

    assert_one_run(stored, plan_id)
    assert len(stored) > len(before), stored
    for name, events in streamed.items():
        assert events == stored, name  # every event once, in seq order, no gap, nothing after the end
    assert after_resume == stored[1:]
    # The worker appended every event (it logs each one it stores); the web servers none.
    assert f"plan {plan_id}: running here" in worker.output()
    worker_stored = poll(  # it logs an event just after storing it: a reader may be a moment ahead
        lambda: logged_seqs(worker, plan_id),
        lambda seqs: len(seqs) >= len(stored),
        within=10,
        what="the worker did not log every event",
    )
    assert worker_stored == [e["seq"] for e in stored]
    assert (logged_seqs(a, plan_id), logged_seqs(b, plan_id)) == ([], [])
