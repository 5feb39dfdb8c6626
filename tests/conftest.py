"""Shared fixtures: where the open data is, settings isolated in a temporary home, and fresh databases."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.postgres import PostgresServer, create_database, drop_database, find_bin_dir, start_postgres
from wyshbone.domain.gazetteer import Gazetteer
from wyshbone.geodata import load_gazetteer
from wyshbone.providers.http import make_client
from wyshbone.providers.local_directory import ImportReport, default_import_paths, import_directory

REPO = Path(__file__).resolve().parents[1]


def open_data_dir() -> Path:
    return Path(os.environ.get("WYSHBONE_OPEN_DATA_DIR", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real open data; tests that need it are skipped, loudly, where it is absent."""
    path = open_data_dir()
    if not (path / "gb_places.csv").is_file():
        pytest.skip(f"OPEN DATA MISSING: no gb_places.csv in {path}; set WYSHBONE_OPEN_DATA_DIR")
    return path


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the developer's own ~/.local/share/wyshbone."""
    monkeypatch.setenv("WYSHBONE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WYSHBONE_OPEN_DATA_DIR", str(open_data_dir()))


@pytest.fixture(scope="session")
def gazetteer(data_dir: Path) -> Gazetteer:
    """The real gazetteer, loaded once (skipped with the open data)."""
    return load_gazetteer(data_dir)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The providers' shared HTTP client, as the app makes it (tests of the web app override this name)."""
    async with make_client() as http:
        yield http


@pytest.fixture(scope="session")
def real_db(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[tuple[Path, ImportReport]]:
    """The full open data imported once per test session (about 10 s here)."""
    files = default_import_paths(data_dir)
    if not files:
        pytest.skip(f"OPEN DATA MISSING: no uk_businesses*.csv.gz in {data_dir}; set WYSHBONE_OPEN_DATA_DIR")
    path = tmp_path_factory.mktemp("directory") / "directory.sqlite"
    yield path, import_directory(files, path)


_POSTGRES_SERVER = pytest.StashKey[PostgresServer]()


@pytest.fixture(scope="session")
def postgres_url(request: pytest.FixtureRequest) -> str:
    """A throwaway PostgreSQL server, one per session, started on first use; the URL of its empty database.

    Skipped (loudly) only where no Postgres binaries are installed; any other failure to start fails the test.
    """
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip(
            "POSTGRES MISSING: no initdb/pg_ctl/postgres on PATH or in /usr/lib/postgresql/*/bin; "
            "install PostgreSQL 15 (apt-get install postgresql-15) to run the Postgres tests"
        )
    server = start_postgres(bin_dir)
    request.addfinalizer(server.stop)  # runs on failures and Ctrl-C too; atexit is the fallback
    request.config.stash[_POSTGRES_SERVER] = server
    return server.url()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    server = config.stash.get(_POSTGRES_SERVER, None)
    if server is not None:
        terminalreporter.write_line(f"throwaway postgres: started in {server.startup_seconds:.2f} s")


STORE_BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
"""The SQL backends a store test runs on; parametrize ``store_url`` indirectly to add ``"memory"``."""
EVERY_BACKEND = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("memory", id="memory"),  # the in-memory fakes, which must behave as the database does
]
"""Every backend a repository test runs on: parametrize ``store_url`` with it, indirectly."""


@pytest.fixture(params=STORE_BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database per test: a SQLite file, or a new database on the session's Postgres server.

    ``"memory"`` (given through indirect parametrization) yields ``memory://``, the in-memory fakes' URL.
    """
    kind = request.param
    if kind == "memory":
        yield "memory://"
    elif kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
    elif kind == "postgres":
        url = create_database(request.getfixturevalue("postgres_url"))
        yield url
        drop_database(url)
    else:
        raise ValueError(f"unknown store backend {kind!r}: use sqlite, postgres or memory")
