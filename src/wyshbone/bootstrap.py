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
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from wyshbone.config import Settings
from wyshbone.domain.gazetteer import Gazetteer
from wyshbone.geodata import load_gazetteer
from wyshbone.providers.http import make_client
from wyshbone.providers.smtp import Mailer, SmtpMailer
from wyshbone.services import Clock, EventBus, InProcessRunQueue, Monitors, Outreach, Plans
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


def system_clock() -> datetime:
    """The wall clock, in UTC: the application's one clock unless a test injects another."""
    return datetime.now(UTC)


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
    runs: InProcessRunQueue
    outreach: Outreach
    monitors: Monitors

    async def close(self) -> None:
        """Stop the runs going on here (they resume elsewhere), then close the HTTP client, then the store."""
        await self.runs.shutdown()
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
        runs=_run_queue(settings, repos, plans, adopt=adopt),
        outreach=Outreach(settings, repos.outreach, repos.leads, mailer, links, clock),
        monitors=Monitors(repos.monitors, repos.plans, repos.sessions, registry, owner, clock),
    )


def _run_queue(settings: Settings, repos: Repositories, plans: Plans, *, adopt: bool) -> InProcessRunQueue:
    return InProcessRunQueue(
        plans=plans,
        plan_store=repos.plans,
        session_store=repos.sessions,
        max_concurrent_plans=settings.max_concurrent_plans,
        lease_seconds=settings.run_lease_seconds,
        adopt=adopt,
    )


def smtp_mailer(settings: Settings) -> SmtpMailer:
    """The mailer over the settings' SMTP server (``WYSHBONE_SMTP_URL``; a send without one says so)."""
    url = settings.smtp_url.get_secret_value() if settings.smtp_url is not None else None
    return SmtpMailer(url, ca_file=settings.smtp_ca_file, timeout=settings.smtp_timeout_seconds)


async def open_context(
    settings: Settings, *, store_url: str | None = None, adopt: bool = False
) -> AppContext:
    """Open the gazetteer, the repositories (at ``store_url``, else the settings' store) and the HTTP client,
    build the tool registry over them, and wire the use cases. Close it with ``AppContext.close``."""
    gazetteer = await asyncio.to_thread(load_gazetteer, settings.open_data_dir)
    repos = open_repositories(store_url or settings.store_url)
    http = make_client()
    registry = build_registry(settings=settings, repos=repos, client=http)
    return assemble(settings, repos=repos, registry=registry, gazetteer=gazetteer, http=http, adopt=adopt)


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
