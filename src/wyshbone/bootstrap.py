"""The composition root: builds the application's named dependencies once (settings, clock, repositories, tool
registry, HTTP client, gazetteer, mailer, event bus, run queue) and the use cases over them, and closes them in
order. The web app's lifespan and the CLI open it; nothing else decides what is wired to what.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import httpx

from wyshbone.clock import system_clock
from wyshbone.config import Settings
from wyshbone.domain.gazetteer import Gazetteer
from wyshbone.geodata import load_gazetteer
from wyshbone.providers.http import make_client
from wyshbone.providers.limits import close_postgres_limiters
from wyshbone.providers.smtp import Mailer, SmtpMailer
from wyshbone.services import Clock, EventBus, InProcessRunQueue, Monitors, Outreach, Plans, RunQueue
from wyshbone.services.bus import PgEventRelay
from wyshbone.services.monitors import CheckRunner
from wyshbone.services.sending import InProcessSends, SendQueue
from wyshbone.signing import OptOutLinks
from wyshbone.storage import Repositories, open_repositories
from wyshbone.tools.builtin import build_registry
from wyshbone.tools.registry import ToolRegistry

__all__ = [
    "AppContext",
    "assemble",
    "new_owner_id",
    "open_app",
    "open_context",
    "smtp_mailer",
    "system_clock",
]


def new_owner_id() -> str:
    """Who this process is when it holds a plan run or a monitor: host, pid and a random part (a restarted
    process with a recycled pid is still someone else)."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class AppContext:
    """The application, opened once: its dependencies, and the use cases built over them."""

    settings: Settings
    clock: Clock
    """The one clock every use case reads."""
    repos: Repositories
    registry: ToolRegistry
    gazetteer: Gazetteer
    http: httpx.AsyncClient | None
    """The one HTTP client every online provider shares (closed with the context)."""
    mailer: Mailer
    bus: EventBus
    owner: str
    """Who this process is when it holds a plan's or a monitor's run."""
    opt_out_links: OptOutLinks
    plans: Plans
    runs: RunQueue
    """Where approved plans go: this process's loop (``embedded``), or worker processes (``queue``)."""
    outreach: Outreach
    sends: SendQueue
    """Where a list's send runs: a task here (``embedded``), or a worker's job (``queue``)."""
    checks: CheckRunner
    """Where "check this monitor now" runs: here (``embedded``), or a worker's job (``queue``)."""
    monitors: Monitors
    relay: PgEventRelay | None = None
    """Queue mode: the bus joined to every other process's over Postgres LISTEN/NOTIFY (None: embedded)."""

    async def close(self) -> None:
        """Stop the runs going on here (they resume elsewhere), then the relay and the shared rate limits, then
        close the HTTP client, then the store."""
        await self.sends.shutdown()
        await self.runs.shutdown()
        if self.relay is not None:
            await self.relay.stop()
            close_postgres_limiters()
        if self.http is not None:
            await self.http.aclose()
        await self.repos.close()


def assemble(
    settings: Settings,
    *,
    repos: Repositories,
    registry: ToolRegistry,
    gazetteer: Gazetteer,
    http: httpx.AsyncClient | None = None,
    mailer: Mailer | None = None,
    clock: Clock = system_clock,
    owner: str | None = None,
    adopt: bool = False,
) -> AppContext:
    """Wire the use cases over the given parts (no I/O). ``adopt``: the run queue also takes over plans whose
    holder's lease ran out, every lease period (the web server does)."""
    owner = owner or new_owner_id()
    bus = EventBus()
    links = OptOutLinks.for_settings(settings)
    mailer = mailer or smtp_mailer(settings)
    plans = Plans(
        settings=settings,
        plan_store=repos.plans,
        session_store=repos.sessions,
        lead_store=repos.leads,
        registry=registry,
        gazetteer=gazetteer,
        bus=bus,
        owner=owner,
        clock=clock,
    )
    outreach = Outreach(settings, repos.outreach, repos.leads, mailer, links, clock)
    monitors = Monitors(repos.monitors, repos.sessions, plans, owner, clock)
    runs, sends, checks = _queues(settings, repos, plans, outreach, monitors, adopt=adopt)
    return AppContext(
        settings=settings,
        clock=clock,
        repos=repos,
        registry=registry,
        gazetteer=gazetteer,
        http=http,
        mailer=mailer,
        bus=bus,
        owner=owner,
        opt_out_links=links,
        plans=plans,
        runs=runs,
        outreach=outreach,
        sends=sends,
        checks=checks,
        monitors=monitors,
    )


def _queues(
    settings: Settings,
    repos: Repositories,
    plans: Plans,
    outreach: Outreach,
    monitors: Monitors,
    *,
    adopt: bool,
) -> tuple[RunQueue, SendQueue, CheckRunner]:
    """Where approved plans, sends and checks asked for by hand go, as ``settings.execution`` asks: this
    process's loop, or procrastinate's workers."""
    if settings.execution == "queue":
        # Imported here: embedded mode never loads procrastinate.
        from wyshbone.services.queue import QueueChecks, QueueRunQueue, QueueSends, libpq_url, queue_app

        assert settings.database_url is not None  # Settings insists on Postgres in queue mode
        runs = QueueRunQueue(app=queue_app(settings), plans=plans, conninfo=libpq_url(settings.database_url))
        return runs, QueueSends(runs), QueueChecks(runs, monitors)
    in_process = InProcessRunQueue(
        plans=plans,
        plan_store=repos.plans,
        session_store=repos.sessions,
        max_concurrent_plans=settings.max_concurrent_plans,
        lease_seconds=settings.run_lease_seconds,
        adopt=adopt,
    )
    return in_process, InProcessSends(outreach), monitors


def smtp_mailer(settings: Settings) -> SmtpMailer:
    """The mailer over the settings' SMTP server (``WYSHBONE_SMTP_URL``; a send without one says so)."""
    url = settings.smtp_url.get_secret_value() if settings.smtp_url is not None else None
    return SmtpMailer(url, ca_file=settings.smtp_ca_file, timeout=settings.smtp_timeout_seconds)


async def open_context(
    settings: Settings, *, store_url: str | None = None, adopt: bool = False, listen: bool = True
) -> AppContext:
    """Open the gazetteer, the repositories (at ``store_url``, else the settings' store: ``SetupError`` when it
    cannot be reached) and the HTTP client, build the tool registry over them, and wire the use cases. In queue
    mode, join the event bus to the other processes' (``listen=False``: announce this process's events only, as
    a worker with no readers does).
    Close it with ``AppContext.close``."""
    gazetteer = await asyncio.to_thread(load_gazetteer, settings.open_data_dir)
    repos = open_repositories(store_url or settings.store_url)
    if repos.database is not None and repos.database.dialect != "sqlite":
        try:
            # A server that cannot be reached says so now, in words (a SQLite file is made on first use, so
            # a goal refused before it writes nothing).
            await repos.database.open()
        except BaseException:
            await repos.close()
            raise
    http = make_client()
    registry = build_registry(settings=settings, repos=repos, client=http)
    context = assemble(settings, repos=repos, registry=registry, gazetteer=gazetteer, http=http, adopt=adopt)
    if settings.execution != "queue" or settings.database_url is None:
        return context
    relay = PgEventRelay(context.bus, settings.database_url, listen=listen)
    try:
        await relay.start()
    except BaseException:
        await context.close()
        raise
    return replace(context, relay=relay)


@asynccontextmanager
async def open_app(
    settings: Settings, *, store_url: str | None = None, adopt: bool = False
) -> AsyncIterator[AppContext]:
    """The application for the length of a ``with`` block: ``open_context``, then ``close``."""
    context = await open_context(settings, store_url=store_url, adopt=adopt)
    try:
        yield context
    finally:
        await context.close()
