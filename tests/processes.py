"""Real ``wyshbone serve`` subprocesses for tests: start them on one home and one store, poll them, kill them.

A test plugin (``tests.fakes.slow_tools``) can make the domain-lookup step slow, so a test can act while a plan
is mid-run (kill its server, start another beside it).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.fakes.server import free_port

REPO = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 45.0
"""How long a server may take to answer ``/health`` (it loads the gazetteer and opens the store first)."""


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
        port = free_port()
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


def poll(
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


def event_log(client: httpx.Client, plan_id: str) -> list[dict[str, Any]]:
    answer = client.get(f"/api/plan/{plan_id}/events")
    assert answer.status_code == 200, answer.text
    events: list[dict[str, Any]] = answer.json()
    return events


def step_started(events: list[dict[str, Any]], step_id: str) -> bool:
    return any(e["type"] == "STEP_STARTED" and e["stepId"] == step_id for e in events)
