"""What the planner knows about the providers behind each tool: a ``ToolCatalog`` value built from settings by
the tool layer and handed to the planner, which never looks at settings itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["ProviderInfo", "ToolCatalog"]


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    """What the planner needs to know about one provider of a tool."""

    name: str
    """Provider name as shown to a person ("local_directory", "google_places")."""
    configured: bool
    """Whether it can be used now (key present, data imported...)."""
    reason: str | None = None
    """Why not, when not configured; never contains a secret."""
    external: bool = True
    """False for providers that make no outside call (the embedded directory)."""
    unit_price_usd: float | None = None
    """List price per request; None when the provider does not charge."""
    page_size: int | None = None
    """Results per request, for search providers that page."""
    max_results: int | None = None
    """Hard cap on results the provider returns for one query."""
    countries: tuple[str, ...] | None = None
    """ISO codes of the countries it covers; None → anywhere."""
    label: str = ""
    """How a person knows it ("the directory", "Google Places"); ``name`` when empty."""

    def covers(self, country: str) -> bool:
        return self.countries is None or country in self.countries

    @property
    def spoken(self) -> str:
        return self.label or self.name


ToolCatalog = Mapping[str, tuple[ProviderInfo, ...]]
"""tool → its provider chain, in fallback order. A tool with an empty chain has no provider configured."""
