"""The built-in tools: one registry entry per ``LeadToolIdentifier``.

A provider without its key or setting is in the chain but not configured: plans show the step as
"will be skipped: no provider configured" and the executor skips it by design, never calling out.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from wyshbone.config import Settings
from wyshbone.domain.models import LeadToolIdentifier as T
from wyshbone.domain.planner import ProviderInfo
from wyshbone.domain.steps import OUTPUTS, PARAMS, EnrichParams, StepOutput
from wyshbone.errors import RegistryError
from wyshbone.providers.hunter import HunterClient, hunter_limiters, hunter_provider_info
from wyshbone.providers.keyed_limits import host_politeness
from wyshbone.providers.limits import shared_limits_url
from wyshbone.signing import OptOutLinks
from wyshbone.storage import Repositories
from wyshbone.tools.contacts import domain_lookup_provider, enrich_provider
from wyshbone.tools.lead_list import lead_store_provider
from wyshbone.tools.lead_search import (
    google_places_provider,
    local_directory_provider,
    merge_search_results,
    overpass_provider,
)
from wyshbone.tools.monitor import monitor_provider
from wyshbone.tools.monitor_check import new_leads_provider, save_new_provider
from wyshbone.tools.outreach import outreach_provider
from wyshbone.tools.registry import Provider, ToolRegistry, ToolSpec


def build_registry(*, settings: Settings, repos: Repositories, client: httpx.AsyncClient) -> ToolRegistry:
    """The built-in tools over ``client`` (the one shared HTTP client) and ``repos`` (each tool takes the
    repositories it writes), then any plugins' providers."""
    registry = _builtin(settings, repos, client)
    for entry in filter(None, (e.strip() for e in settings.plugins.split(","))):
        for tool, provider in load_plugin(entry)(settings):
            registry.add_provider(tool, provider)
    return registry


def load_plugin(entry: str) -> Callable[[Settings], Iterable[tuple[str, Provider[Any]]]]:
    """``module:function`` → the function; a bad entry fails loudly, naming the setting to fix."""
    module_name, _, attr = entry.partition(":")
    try:
        plugin = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise RegistryError(f"WYSHBONE_PLUGINS entry {entry!r} cannot be loaded: {exc}") from exc
    if not callable(plugin):
        raise RegistryError(f"WYSHBONE_PLUGINS entry {entry!r} is not a function")
    return plugin  # type: ignore[no-any-return]


def _builtin(settings: Settings, repos: Repositories, client: httpx.AsyncClient) -> ToolRegistry:
    links = OptOutLinks.for_settings(settings)
    key = settings.hunter_api_key.get_secret_value() if settings.hunter_api_key else ""
    # Hunter's limits, shared by every process through Postgres in queue mode.
    limits = hunter_limiters(shared_limits_url(settings))
    hunter = (
        HunterClient(
            api_key=key,
            base_url=settings.hunter_base_url,
            client=client,
            search_limiter=limits.search,
            verify_limiter=limits.verify,
        )
        if key
        else None
    )
    online = (overpass_provider(settings, client), google_places_provider(settings, client))
    configured = [p.info.spoken for p in online if p.info.configured]
    search_chain = (local_directory_provider(settings.directory_file, online=configured), *online)
    outreach = outreach_provider(
        settings, outreach=repos.outreach, leads=repos.leads, links=links, hunter=hunter
    )
    monitor = monitor_provider(settings, monitors=repos.monitors, leads=repos.leads, plans=repos.plans)
    return ToolRegistry.of(
        [
            _typed(T.GLOBAL_DB_SEARCH, search_chain, merge=merge_search_results),
            _typed(T.GOOGLE_PLACES_SEARCH, (google_places_provider(settings, client),)),
            _typed(T.HUNTER_DOMAIN_LOOKUP, (domain_lookup_provider(hunter_provider_info(settings), hunter),)),
            _typed(T.HUNTER_ENRICH, (_enrich(settings, hunter, client),)),
            _typed(T.LEAD_LIST_SAVE, (lead_store_provider(repos.leads),)),
            _typed(T.EMAIL_SEQUENCE_SETUP, (outreach,)),
            _typed(T.MONITOR_SETUP, (monitor,)),
            _typed(T.MONITOR_NEW_LEADS, (new_leads_provider(repos.monitors),)),
            _typed(T.MONITOR_SAVE_NEW, (save_new_provider(repos.monitors),)),
        ]
    )


def _typed(
    tool: T, providers: tuple[Provider[Any], ...], merge: Callable[[list[Any]], StepOutput] | None = None
) -> ToolSpec:
    """A built-in tool's entry, with its params and output models from ``domain.steps``."""
    return ToolSpec(tool, providers, merge=merge, params=PARAMS[tool], output=OUTPUTS[tool])


def _enrich(
    settings: Settings, hunter: HunterClient | None, client: httpx.AsyncClient
) -> Provider[EnrichParams]:
    """Emails from the business's own website (when crawling is on), then Hunter (when it has a key)."""
    hunter_info = hunter_provider_info(settings)
    sources = [
        name for name, on in (("website", settings.website_crawl), ("hunter", hunter is not None)) if on
    ]
    info = ProviderInfo(
        "+".join(sources) or "hunter",
        configured=bool(sources),
        reason=None if sources else "set WYSHBONE_HUNTER_API_KEY, or WYSHBONE_WEBSITE_CRAWL=true",
        unit_price_usd=hunter_info.unit_price_usd if hunter is not None else None,
    )
    return enrich_provider(
        info,
        hunter,
        client=client,
        crawl_websites=settings.website_crawl,
        allow_private=settings.allow_private_addresses,
        # One request per interval to each host, held in total by every process (through Postgres in queue mode).
        politeness=host_politeness(settings.crawl_host_interval_seconds, shared_limits_url(settings)),
    )
