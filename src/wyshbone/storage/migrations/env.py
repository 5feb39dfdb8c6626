"""Alembic's entry point: runs ``versions/`` on the connection ``wyshbone.storage.migrate`` hands over.

Processes starting at once take turns: Postgres holds an advisory lock, SQLite a write lock, for the whole
migration transaction, so the second one reads the revision the first one wrote and has nothing to do.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, text

from wyshbone.storage.db import sync_url
from wyshbone.storage.tables import metadata

MIGRATION_LOCK_ID = 0x7779_7368_6D69_6772
"""The Postgres advisory lock key migrations hold ("wyshmigr" in ASCII)."""


def _take_turns(connection: Connection) -> None:
    """Wait until no other process is migrating this database, and keep it that way until commit."""
    if connection.dialect.name == "postgresql":
        # Transaction-scoped: released by the commit or rollback that ends the migration, even on a crash.
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
    elif connection.dialect.name == "sqlite" and not _sqlite_in_transaction(connection):
        # pysqlite begins a transaction only at the first INSERT, after Alembic has read the revision.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_in_transaction(connection: Connection) -> bool:
    """Whether the caller's transaction has already begun on the database (so holds or will take its lock)."""
    return bool(getattr(connection.connection.driver_connection, "in_transaction", False))


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # One transaction for the lock, the revision check and the DDL: SQLite can roll DDL back too.
        transactional_ddl=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        _take_turns(connection)
        context.run_migrations()


def main() -> None:
    config = context.config
    if context.is_offline_mode():
        raise SystemExit("wyshbone migrations run online only: drop --sql")
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    # Run from the alembic CLI while writing a migration: the URL comes from -x url=... or sqlalchemy.url.
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no database: pass -x url=sqlite:///path or postgresql://...")
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            run_migrations(conn)
    finally:
        engine.dispose()


main()
