"""Fixtures of the integration tests: real server processes on one store; the made-up cafés with their fakes."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.fakes.cafes import World, cafe_world
from tests.fakes.postgres import create_database, drop_database
from tests.processes import REPO, Servers
from wyshbone.bootstrap import AppContext, open_context
from wyshbone.config import Settings
from wyshbone.storage import Repositories, open_repositories

RUN_LEASE_SECONDS = 3
"""Short leases, so a killed server's plans are taken over within seconds (renewed every second)."""


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
        "WYSHBONE_RUN_LEASE_SECONDS": str(RUN_LEASE_SECONDS),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    if database_url is not None:
        env["WYSHBONE_DATABASE_URL"] = database_url
    running = Servers(env, tmp_path)
    # Killed before the Postgres database is dropped (fixtures tear down in reverse order of setup).
    yield running
    running.kill_all()


@pytest.fixture
def world(tmp_path: Path, data_dir: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The cafés imported as the directory, fake Hunter and SMTP running, settings pointing at them."""
    with cafe_world(tmp_path, data_dir, store_url, monkeypatch) as the_world:
        yield the_world


@pytest.fixture
async def sup(world: World) -> AsyncIterator[AppContext]:
    """The application context on the cafés' settings (a test module may define its own ``sup``)."""
    context = await open_context(Settings())
    try:
        yield context
    finally:
        await context.close()


@pytest.fixture
async def repos(store_url: str) -> AsyncIterator[Repositories]:
    """The repositories at ``store_url`` (a test module parametrizes it with ``EVERY_BACKEND``)."""
    opened = open_repositories(store_url)
    try:
        yield opened
    finally:
        await opened.close()
