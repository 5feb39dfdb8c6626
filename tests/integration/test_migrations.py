"""Migrations: run when a database opens, idempotent, build exactly ``tables.py``, safe when processes race."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect

from wyshbone.storage import migrate
from wyshbone.storage.db import Database, sync_url
from wyshbone.storage.tables import metadata

SCRIPTS = ScriptDirectory.from_config(migrate.alembic_config())
HEAD = SCRIPTS.get_current_head()


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    the_engine = create_engine(sync_url(store_url))
    yield the_engine
    the_engine.dispose()


def schema_drift(engine: Engine) -> list[object]:
    """What autogenerate would change to make the database match ``tables.metadata`` (nothing, we hope)."""
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))


def revision_and_tables(engine: Engine) -> tuple[tuple[str, ...], set[str]]:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_heads(), set(inspect(conn).get_table_names())


def test_migrations_form_one_line_from_the_initial_schema() -> None:
    # Two heads (two branches written in parallel) would leave "upgrade head" ambiguous: merge them.
    assert SCRIPTS.get_heads() == [HEAD]
    assert [script.revision for script in SCRIPTS.walk_revisions()][-1] == "0001"


async def test_migrate_runs_when_a_database_opens_and_again_changes_nothing(
    store_url: str, engine: Engine
) -> None:
    for _ in range(2):  # a second start finds the database at the newest revision
        database = await Database.connect(store_url)
        await database.close()
    migrate.upgrade(engine)
    assert revision_and_tables(engine) == ((HEAD,), {*metadata.tables, "alembic_version"})


def test_migrate_builds_exactly_the_tables_module(engine: Engine) -> None:
    migrate.upgrade(engine)
    # Empty, or tables.py changed without a migration: write one (see migrate.alembic_config).
    assert schema_drift(engine) == []


def test_migrate_downgrade_to_base_and_back(engine: Engine) -> None:
    migrate.upgrade(engine)
    with engine.connect() as conn:
        command.downgrade(migrate.alembic_config(connection=conn), "base")
    assert revision_and_tables(engine) == ((), {"alembic_version"})
    migrate.upgrade(engine)
    assert schema_drift(engine) == []


def test_migrate_upgrade_on_a_connection_in_a_transaction_leaves_the_commit_to_the_caller(
    engine: Engine,
) -> None:
    with engine.connect() as conn, conn.begin():
        migrate.upgrade(conn)
        assert MigrationContext.configure(conn).get_current_heads() == (HEAD,)
    assert revision_and_tables(engine)[0] == (HEAD,)


async def test_migrate_databases_opening_at_once_in_one_process(store_url: str, engine: Engine) -> None:
    # Each database migrates on its own thread; Alembic's module-level proxies must not be shared between them.
    databases = await asyncio.gather(*(Database.connect(store_url) for _ in range(3)))
    for database in databases:
        await database.close()
    assert schema_drift(engine) == []


# A process that has imported everything and connected, then migrates when a line arrives on stdin.
RACER = """
import sys
from sqlalchemy import create_engine
from wyshbone.storage import migrate
from wyshbone.storage.db import sync_url

engine = create_engine(sync_url(sys.argv[1]))
engine.connect().close()
print("ready", flush=True)
sys.stdin.readline()
migrate.upgrade(engine)
"""


def test_migrate_processes_starting_at_once_take_turns(store_url: str, engine: Engine) -> None:
    # Released together, all succeed and the schema is built once (without the migration lock in env.py,
    # the losers fail on CREATE TABLE or on inserting the alembic_version row).
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, store_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        assert all(racer.stdout and racer.stdout.readline() == "ready\n" for racer in racers)
        for racer in racers:
            assert racer.stdin is not None
            racer.stdin.write("go\n")
            racer.stdin.flush()
        outcomes = [(racer.wait(timeout=60), racer.stderr.read() if racer.stderr else "") for racer in racers]
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()
            racer.communicate()
    assert outcomes == [(0, "")] * len(racers)
    assert revision_and_tables(engine) == ((HEAD,), {*metadata.tables, "alembic_version"})
    assert schema_drift(engine) == []
