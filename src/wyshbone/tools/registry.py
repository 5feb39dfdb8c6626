"""The tool registry and the one routing function every step goes through, ``run_lead_tool``.

A tool is an identifier plus a ``ToolSpec``: its provider chain (fallback order), retry policy, and the models of
its params and output (``domain.steps``). Adding a tool is one identifier and one ``register`` call.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from wyshbone.domain.models import LeadGenPlan, LeadToolExecutionEnv, LeadToolExecutionResult
from wyshbone.domain.planner import ProviderInfo, SearchCoverage, ToolCatalog, not_set_up
from wyshbone.domain.retry import DEFAULT_RETRY_POLICY, RetryPolicy
from wyshbone.domain.steps import OpenOutput, OpenParams, StepOutput, StepParams
from wyshbone.errors import (
    DirectoryNotImportedError,
    InputError,
    NotConfiguredError,
    RegistryError,
    ToolError,
)

logger = logging.getLogger("wyshbone.tools")

P = TypeVar("P", bound=StepParams)

ToolFunc = Callable[[P, LeadToolExecutionEnv], Awaitable[LeadToolExecutionResult]]
"""A provider's implementation of a tool: the step's typed params in, its typed ``output`` in the result;
raise ``RetryableToolError``/``PermanentToolError`` on failure."""

CountFunc = Callable[[P], SearchCoverage]
"""What a provider can deliver for a step's params, known before the plan runs (blocking: at most a few ms of
indexed reads); raises like ``ToolFunc`` when it cannot say."""


@dataclass(frozen=True, slots=True)
class Provider(Generic[P]):
    """One way of running a tool."""

    info: ProviderInfo
    run: ToolFunc[P]
    count: CountFunc[P] | None = None
    """Its coverage before approval (search providers): what it holds, or its cap; None when it cannot say."""


def unavailable(name: str, reason: str) -> Provider[Any]:
    """A provider the plan names but that cannot be used here; it says why and is never called."""

    async def run(params: StepParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        raise NotConfiguredError(f"{name}: {reason}")

    return Provider(ProviderInfo(name, configured=False, reason=reason), run)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A registered tool."""

    tool: str
    """Its identifier (a ``LeadToolIdentifier`` value for the built-in tools)."""
    providers: tuple[Provider[Any], ...] = ()
    """Fallback order. Empty, or none configured → the step is skipped by design."""
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY
    """How failed attempts on one provider are retried."""
    merge: Callable[[list[Any]], StepOutput] | None = None
    """When set, a provider that finds fewer than the params' ``wanted_items`` is topped up by the next ones in
    the chain, and their outputs merged by this function. None: the first provider that finds anything serves."""
    params: type[StepParams] = OpenParams
    """What its steps ask: a step's params are read as this model once, and its providers get them typed."""
    output: type[StepOutput] = OpenOutput
    """What its providers return (``LeadToolExecutionResult.output``), stored as the step result's data."""

    def usable(self) -> tuple[Provider[Any], ...]:
        return tuple(p for p in self.providers if p.info.configured)

    def unavailable_reason(self) -> str:
        """Why the step cannot run, in the planner's words: what is missing, then the settings that fix it."""
        return not_set_up(p.info for p in self.providers)


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

    def add_provider(self, tool: str, provider: Provider[Any]) -> None:
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
    params: StepParams | Mapping[str, Any],
    env: LeadToolExecutionEnv,
    *,
    registry: ToolRegistry,
    provider: str | None = None,
) -> LeadToolExecutionResult:
    """Run ``tool`` with ``params`` (typed, or their JSON) through ``provider`` (default: the first configured one).

    The single routing point from a plan step to a concrete provider.
    """
    spec = registry.spec(tool)
    usable = spec.usable()
    chosen = next((p for p in usable if provider is None or p.info.name == provider), None)
    if chosen is None:
        raise NotConfiguredError(f"{tool}: {spec.unavailable_reason()}")
    typed = params if isinstance(params, StepParams) else spec.params.model_validate(params)
    return await chosen.run(typed, env)


def count_providers(
    plan: LeadGenPlan, registry: ToolRegistry
) -> dict[str, list[tuple[ProviderInfo, SearchCoverage]]]:
    """step id → what each usable provider of that step (with a ``count``) says it can deliver, in chain order.

    A provider that cannot say (its data unreadable, the place unsearchable) is left out and logged: the step
    itself will say why when it runs.
    """
    counts: dict[str, list[tuple[ProviderInfo, SearchCoverage]]] = {}
    for step in plan.steps:
        if step.tool not in registry:
            continue
        spec = registry.spec(step.tool)
        try:
            params = step.params_as(spec.params)
        except ValidationError as exc:
            logger.warning("step %s cannot be counted: its params do not fit %s: %s", step.id, step.tool, exc)
            continue
        found = []
        for provider in spec.usable():
            if provider.count is None or not provider.info.covers(plan.goal.country):
                continue
            try:
                found.append((provider.info, provider.count(params)))
            except (ToolError, InputError, DirectoryNotImportedError) as exc:
                logger.warning("%s cannot count for step %s: %s", provider.info.name, step.id, exc)
        if found:
            counts[step.id] = found
    return counts
