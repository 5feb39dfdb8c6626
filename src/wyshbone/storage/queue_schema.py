"""Procrastinate's tables in our Postgres database (queue mode): applied once, by whichever process gets there
first, never by hand; a database that has them is left as it is.
"""

from __future__ import annotations

import psycopg
from procrastinate.schema import SchemaManager

from wyshbone.errors import SetupError
from wyshbone.storage.db import shown_url

__all__ = ["ensure_queue_schema"]

_LOCK_KEY = 0x57595348_51554555 % 2**63
"""The advisory lock two processes applying the schema at once take turns on ("WYSH", "QUEUE")."""


async def ensure_queue_schema(conninfo: str) -> bool:
    """Apply procrastinate's schema to the database at ``conninfo`` (a libpq URL) unless it is there; whether
    it was applied now. Safe to call from any number of processes at once: they take turns. ``SetupError`` when
    the database cannot be reached."""
    try:
        connection = await psycopg.AsyncConnection.connect(conninfo)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SetupError(
            f"cannot reach the database at {shown_url(conninfo)} ({reason}); check WYSHBONE_DATABASE_URL"
        ) from exc
    async with connection as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        found = await (await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).fetchone()
        if found is not None and found[0]:
            return False
        await conn.execute(SchemaManager.get_schema())
    return True
