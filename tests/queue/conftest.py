"""Fixtures for queue mode's process tests: a ``Cluster`` on a fresh database of the session's throwaway
Postgres, stopped (and its logs printed when the test failed) afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.postgres import create_database, drop_database
from tests.queue.cluster import Cluster, queue_env


@pytest.fixture
def cluster(postgres_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    url = create_database(postgres_url)
    running = Cluster(queue_env(url, tmp_path / "home"), url, tmp_path)
    try:
        yield running
    finally:
        running.stop()
        if getattr(request.node, "failed", False):
            running.dump_logs()
        drop_database(url)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    if report.when == "call" and report.failed:
        item.failed = True  # type: ignore[attr-defined]
    return report
