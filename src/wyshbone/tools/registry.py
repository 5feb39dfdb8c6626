"""The tool registry and the one routing function every step goes through, ``run_lead_tool``.

A tool is an identifier plus a ``ToolSpec``: its provider chain (fallback order) and retry policy.
Adding a tool is one identifier and one ``register`` call; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from wyshbone.domain.models import LeadToolExecutionEnv, LeadToolExecutionResult
from wyshbone.domain.planner import ProviderInfo, ToolCatalog
from wyshbone.domain.retry import DEFAULT_RETRY_POLICY, RetryPolicy
from wyshbone.errors import NotConfiguredError, RegistryError

ToolFunc = Callable[[dict[str, Any], LeadToolExecutionEnv], Awaitable[LeadToolExecutionResult]]
"""A provider's implementation of a tool: raise ``RetryableToolError``/``PermanentToolError`` on failure."""

RESULT_COUNT = "resultCount"
"""Key in a result's ``data`` saying how many items a provider found; 0 means "try the next provider"."""


@dataclass(frozen=True, slots=True)
class Provider:
    """One way of running a tool."""

    info: ProviderInfo
    run: ToolFunc


def unavailable(name: str, reason: str) -> Provider:
    """A provider the plan names but that cannot be used here; it says why and is never called."""

    async def run(params: dict[str, Any], env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        raise NotConfiguredError(f"{name}: {reason}")

    return Provider(ProviderInfo(name, configured=False, reason=reason), run)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A registered tool."""

    tool: str
    """Its identifier (a ``LeadToolIdentifier`` value for the built-in tools)."""
    providers: tuple[Provider, ...] = ()
    """Fallback order. Empty, or none configured → the step is skipped by design."""
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY
    """How failed attempts on one provider are retried."""
    merge: Callable[[list[dict[str, Any]]], dict[str, Any]] | None = None
    """When set, a provider that finds fewer than the step's ``maxResults`` is topped up by the next ones in the
    chain, and their data merged by this function. None: the first provider that finds anything serves the step."""

    def usable(self) -> tuple[Provider, ...]:
        return tuple(p for p in self.providers if p.info.configured)

    def unavailable_reason(self) -> str:
        reasons = [f"{p.info.name}: {p.info.reason}" for p in self.providers if p.info.reason]
        return "no provider configured" + (f" ({'; '.join(reasons)})" if reasons else "")


@dataclass
class ToolRegistry:
    """Tool identifier → ``ToolSpec``. Registering twice, or asking for an unknown tool, raises."""

    _specs: dict[str, ToolSpec] = field(default_factory=dict)

    @classmethod
    def of(cls, specs: Iterable[ToolSpec]) -> ToolRegistry:
        registry = cls()
        for spec in specs:
            registry.register(spec)
        return registry

    def register(self, spec: ToolSpec) -> None:
        if spec.tool in self._specs:
            raise RegistryError(
                f"tool {spec.tool!r} is already registered; give the new tool its own identifier "
                "or add a provider to the existing entry"
            )
        self._specs[spec.tool] = spec

    def spec(self, tool: str) -> ToolSpec:
        try:
            return self._specs[tool]
        except KeyError:
            known = ", ".join(sorted(self._specs)) or "none"
            raise RegistryError(
                f"no tool registered as {tool!r} (registered: {known}); "
                "add an identifier and register a ToolSpec for it"
            ) from None

    def add_provider(self, tool: str, provider: Provider) -> None:
        """Put ``provider`` first in ``tool``'s chain (it is tried before the built-in ones)."""
        spec = self.spec(tool)
        self._specs[tool] = replace(spec, providers=(provider, *spec.providers))

    def __contains__(self, tool: object) -> bool:
        return tool in self._specs

    def catalog(self) -> ToolCatalog:
        """What the planner needs: each tool's provider chain and whether each provider is usable."""
        return {tool: tuple(p.info for p in spec.providers) for tool, spec in self._specs.items()}


async def run_lead_tool(
    tool: str,
    params: dict[str, Any],
    env: LeadToolExecutionEnv,
    *,
    registry: ToolRegistry,
    provider: str | None = None,
) -> LeadToolExecutionResult:
    """Run ``tool`` with ``params`` through ``provider`` (default: the first configured one).

    The single routing point from a plan step to a concrete provider.
    """
    spec = registry.spec(tool)
    usable = spec.usable()
    chosen = next((p for p in usable if provider is None or p.info.name == provider), None)
    if chosen is None:
        raise NotConfiguredError(f"{tool}: {spec.unavailable_reason()}")
    return await chosen.run(params, env)
