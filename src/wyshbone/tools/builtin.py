"""The built-in tools: one registry entry per ``LeadToolIdentifier``.

Tools whose providers are not built yet are registered with an empty chain, so plans show them as
"will be skipped: no provider configured" and the executor skips them by design.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable

from wyshbone.config import Settings
from wyshbone.domain.models import LeadToolIdentifier as T
from wyshbone.errors import RegistryError
from wyshbone.storage.repository import PlanStore
from wyshbone.tools.lead_list import lead_store_provider
from wyshbone.tools.lead_search import local_directory_provider
from wyshbone.tools.registry import Provider, ToolRegistry, ToolSpec, unavailable


def build_registry(*, settings: Settings, store: PlanStore) -> ToolRegistry:
    registry = _builtin(settings, store)
    for entry in filter(None, (e.strip() for e in settings.plugins.split(","))):
        for tool, provider in load_plugin(entry)(settings):
            registry.add_provider(tool, provider)
    return registry


def load_plugin(entry: str) -> Callable[[Settings], Iterable[tuple[str, Provider]]]:
    """``module:function`` → the function; a bad entry fails loudly, naming the setting to fix."""
    module_name, _, attr = entry.partition(":")
    try:
        plugin = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise RegistryError(f"WYSHBONE_PLUGINS entry {entry!r} cannot be loaded: {exc}") from exc
    if not callable(plugin):
        raise RegistryError(f"WYSHBONE_PLUGINS entry {entry!r} is not a function")
    return plugin  # type: ignore[no-any-return]


def _builtin(settings: Settings, store: PlanStore) -> ToolRegistry:
    return ToolRegistry.of(
        [
            ToolSpec(T.GLOBAL_DB_SEARCH, (local_directory_provider(settings.directory_file),)),
            ToolSpec(
                T.GOOGLE_PLACES_SEARCH,
                (unavailable("google_places", "Google Places support is not built yet"),),
            ),
            ToolSpec(T.HUNTER_DOMAIN_LOOKUP, (unavailable("hunter", "domain lookup is not built yet"),)),
            ToolSpec(T.HUNTER_ENRICH, (unavailable("hunter", "contact enrichment is not built yet"),)),
            ToolSpec(T.LEAD_LIST_SAVE, (lead_store_provider(store),)),
            ToolSpec(
                T.EMAIL_SEQUENCE_SETUP,
                (unavailable("outreach_drafts", "outreach drafting is not built yet"),),
            ),
            ToolSpec(T.MONITOR_SETUP, (unavailable("monitor", "monitors are not built yet"),)),
        ]
    )
