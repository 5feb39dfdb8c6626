"""Bring a database to the newest schema: Alembic's ``upgrade head``, run in code on start.

The script directory ships inside the package (``storage/migrations``), so no ``alembic.ini`` is needed;
``alembic_config`` is also what a developer passes to ``alembic.command.revision`` to write the next one.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).with_name("migrations")
"""The Alembic script directory: ``env.py``, ``script.py.mako`` and ``versions/``."""

# Alembic's ``context`` and ``op`` are module-level proxies, so two migrations in one process (two stores
# opening at once, each on its own thread) would trample each other's. Across processes env.py takes turns.
_ONE_AT_A_TIME = threading.Lock()


def alembic_config(*, connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic config for our migrations, run on ``connection`` (or on a new engine for ``url``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(bind: Engine | Connection) -> None:
    """Migrate the database behind ``bind`` to the newest revision; a no-op when it is there already.

    Safe to call from several threads and processes at once: they take turns. On a
    ``Connection`` already inside a transaction the caller commits; otherwise this commits.
    """
    with _ONE_AT_A_TIME:
        if isinstance(bind, Engine):
            with bind.connect() as connection:
                command.upgrade(alembic_config(connection=connection), "head")
        else:
            command.upgrade(alembic_config(connection=bind), "head")
