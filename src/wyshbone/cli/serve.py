"""``wyshbone serve``: the web app and API under uvicorn, its log lines written by a thread."""

from __future__ import annotations

import logging
import queue
import sys
from logging.handlers import QueueHandler, QueueListener

import uvicorn

from wyshbone.cli.common import settings, store_reachable, warn_if_no_directory
from wyshbone.web import create_app


def serve(host: str | None, port: int | None) -> None:
    chosen = settings()
    # Log lines are written by a thread, not on the event loop that serves the API and runs the plans.
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    writer = QueueListener(lines, logging.StreamHandler(sys.stderr))
    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[QueueHandler(lines)], force=True)
    # Their routine lines (tasks loaded, schema checked) say nothing to whoever reads this terminal.
    for chatty in ("procrastinate", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    warn_if_no_directory(chosen)
    store_reachable(chosen)
    writer.start()
    try:
        uvicorn.run(create_app(chosen), host=host or chosen.host, port=port or chosen.port, log_level="info")
    finally:
        writer.stop()
