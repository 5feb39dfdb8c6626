"""``wyshbone worker`` (queue mode: run plan, send and monitor jobs from the shared Postgres) and ``wyshbone db migrate``."""

from __future__ import annotations

import asyncio
import logging
import sys

from wyshbone.cli.common import settings, store_reachable, warn_if_no_directory
from wyshbone.cli.output import err, fail
from wyshbone.errors import WyshboneError


def work(*, concurrency: int, queues: list[str] | None) -> None:
    chosen = settings()
    if chosen.execution != "queue":
        raise fail(
            "a worker runs plans only in queue mode: set WYSHBONE_EXECUTION=queue and "
            "WYSHBONE_DATABASE_URL=postgresql://… (embedded mode runs plans inside `wyshbone serve`)"
        )
    names = [q.strip() for value in queues or [] for q in value.split(",") if q.strip()]
    from wyshbone.services.queue import QUEUES
    from wyshbone.worker import run_worker

    if unknown := [name for name in names if name not in QUEUES]:
        raise fail(f"no such queue: {', '.join(unknown)} (the queues are {', '.join(QUEUES)})")
    warn_if_no_directory(chosen)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    # procrastinate logs every job, the sweep's each second or so too: its warnings, and our own lines, say enough.
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    try:
        asyncio.run(run_worker(chosen, concurrency=concurrency, queues=names or None))
    except WyshboneError as exc:  # the database cannot be reached, say
        raise fail(str(exc)) from None


def migrate() -> None:
    chosen = settings()
    store_reachable(chosen)  # connects and migrates our tables; a database that does not answer: exit 2
    with_queue = chosen.execution == "queue" and chosen.database_url is not None
    if with_queue:
        from wyshbone.providers.limits import libpq_url
        from wyshbone.storage.queue_schema import ensure_queue_schema

        assert chosen.database_url is not None
        try:
            asyncio.run(ensure_queue_schema(libpq_url(chosen.database_url)))
        except WyshboneError as exc:
            raise fail(str(exc)) from None
    err.print(f"The store is at the newest schema{' (with the job queue)' if with_queue else ''}.")
