"""Crash and resume: a ``wyshbone serve`` process killed mid-plan finishes that plan when it starts again.

The servers are real subprocesses on one home and one store; a test plugin makes the domain-lookup step slow
enough to kill the first server (SIGKILL, no shutdown) while that step runs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.postgres import create_database, drop_database

pytestmark = [pytest.mark.data, pytest.mark.timeout(180)]

REPO = Path(__file__).resolve().parents[2]
SESSION = {"X-Session-Id": "session-resume-0001"}
GOAL = {"goal": "Find 20 coffee shops in Manchester"}
SEARCH_STEP = "global_db_search_1"
SLOW_STEP = "hunter_domain_lookup_1"
STARTUP_SECONDS = 45.0
"""How long a server may take to answer ``/health`` (it loads the gazetteer and opens the store first)."""
KILL_WINDOW_SECONDS = 30.0
"""How long the first run may take to reach the slow step (it sleeps 30 s there, so it is still running)."""
RESUME_SECONDS = 30.0
"""How long the restarted server may take to finish the interrupted plan."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """One ``wyshbone serve`` subprocess and where its output goes."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path


@dataclass
class Servers:
    """Starts ``wyshbone serve`` on one home and store; ``kill_all`` ends whatever is still running."""

    env: dict[str, str]
    log_dir: Path
    started: list[Server] = field(default_factory=list)

    def start(self, *, step_seconds: float) -> Server:
        port = _free_port()
        log = self.log_dir / f"server-{len(self.started) + 1}.log"
        env = {**self.env, "WYSHBONE_FAKE_STEP_SECONDS": str(step_seconds)}
        command = [sys.executable, "-m", "wyshbone.cli", "serve", "--port", str(port)]
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        server = Server(process, f"http://127.0.0.1:{port}", log)
        self.started.append(server)
        self._wait_healthy(server)
        return server

    def _wait_healthy(self, server: Server) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise AssertionError(
                    f"the server exited with code {server.process.returncode} before serving"
                )
            try:
                if httpx.get(f"{server.base_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.1)
        raise AssertionError(f"the server did not answer /health within {STARTUP_SECONDS:.0f} s")

    def kill_all(self) -> None:
        for server in self.started:
            if server.process.poll() is None:
                server.process.kill()
            server.process.wait(timeout=10)

    @contextmanager
    def logs_on_failure(self) -> Iterator[None]:
        """Print every server's output when the block fails (pytest shows it under the failure)."""
        try:
            yield
        except BaseException:
            for server in self.started:
                print(f"----- {server.log.name} (exit code {server.process.poll()}) -----")
                print(server.log.read_text(errors="replace"))
            raise


STORES = [
    pytest.param("sqlite", id="sqlite"),  # the default: WYSHBONE_DATABASE_URL unset, SQLite in the home
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),  # a fresh database per test
]


@pytest.fixture(params=STORES)
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """``None`` for the default SQLite store, else the URL of a fresh, empty Postgres database."""
    if request.param == "sqlite":
        yield None
        return
    url = create_database(request.getfixturevalue("postgres_url"))
    yield url
    drop_database(url)


@pytest.fixture
def servers(
    tmp_path: Path, real_db: tuple[Path, object], data_dir: Path, database_url: str | None
) -> Iterator[Servers]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WYSHBONE_")}
    env |= {
        "WYSHBONE_HOME": str(tmp_path / "home"),
        "WYSHBONE_DIRECTORY_PATH": str(real_db[0]),
        "WYSHBONE_OPEN_DATA_DIR": str(data_dir),
        "WYSHBONE_PLUGINS": "tests.fakes.slow_tools:providers",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    if database_url is not None:
        env["WYSHBONE_DATABASE_URL"] = database_url
    running = Servers(env, tmp_path)
    # Killed before the Postgres database is dropped (fixtures tear down in reverse order of setup).
    yield running
    running.kill_all()


def _poll(
    fetch: Callable[[], Any], done: Callable[[Any], bool], *, within: float, what: str, every: float = 0.1
) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {within:.0f} s; last seen: {value}")
        time.sleep(every)


def _events(client: httpx.Client, plan_id: str) -> list[dict[str, Any]]:
    answer = client.get(f"/api/plan/{plan_id}/events")
    assert answer.status_code == 200, answer.text
    events: list[dict[str, Any]] = answer.json()
    return events


def _started(events: list[dict[str, Any]], step_id: str) -> bool:
    return any(e["type"] == "STEP_STARTED" and e["stepId"] == step_id for e in events)


def test_resume_killed_server_finishes_plan_without_rerunning_done_steps(servers: Servers) -> None:
    with servers.logs_on_failure():
        first = servers.start(step_seconds=30)
        with httpx.Client(base_url=first.base_url, headers=SESSION, timeout=10) as client:
            started = client.post("/api/plan/start", json=GOAL)
            assert started.status_code == 201, started.text
            plan_id = started.json()["planId"]
            approved = client.post(f"/api/plan/{plan_id}/approve", json={})
            assert approved.status_code == 200, approved.text
            before = _poll(
                lambda: _events(client, plan_id),
                lambda events: _started(events, SLOW_STEP),
                within=KILL_WINDOW_SECONDS,
                what=f"{SLOW_STEP} did not start",
            )
        # The lookup waits for the search, so the search's success is stored before the kill.
        assert ("STEP_SUCCEEDED", SEARCH_STEP) in [(e["type"], e["stepId"]) for e in before]
        os.kill(first.process.pid, signal.SIGKILL)
        assert first.process.wait(timeout=10) == -signal.SIGKILL

        second = servers.start(step_seconds=0)
        with httpx.Client(base_url=second.base_url, headers=SESSION, timeout=10) as client:
            progress = _poll(
                lambda: client.get(f"/api/plan/{plan_id}/progress").json(),
                lambda p: p["status"] in ("completed", "failed"),
                within=RESUME_SECONDS,
                what="the interrupted plan did not finish after the restart",
            )
            assert (progress["status"], progress["detail"]) == ("completed", "partial"), progress

            events = _events(client, plan_id)
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
