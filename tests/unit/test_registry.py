"""The tool registry: explicit registration, loud failures, one routing function."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from wyshbone.config import Settings
from wyshbone.domain.models import (
    LeadGenGoal,
    LeadGenPlan,
    LeadGenPlanStep,
    LeadToolExecutionEnv,
    LeadToolExecutionResult,
    SupervisorUserContext,
)
from wyshbone.domain.planner import ProviderInfo
from wyshbone.domain.steps import StepOutput, StepParams
from wyshbone.errors import NotConfiguredError, RegistryError
from wyshbone.executor import execute_lead_generation_plan
from wyshbone.storage import memory_repositories
from wyshbone.tools import Provider, ToolRegistry, ToolSpec, run_lead_tool
from wyshbone.tools.builtin import build_registry
from wyshbone.tools.registry import unavailable

USER = SupervisorUserContext(user_id="u")


class ShoutParams(StepParams):
    text: str


class ShoutOutput(StepOutput):
    text: str
    step: str


async def shout(params: ShoutParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
    return LeadToolExecutionResult(
        success=True, output=ShoutOutput(text=params.text.upper(), step=env.step_id)
    )


SHOUT = ToolSpec(
    "SHOUT",
    (Provider(ProviderInfo("loud", True, external=False), shout),),
    params=ShoutParams,
    output=ShoutOutput,
)


def test_registry_rejects_duplicate_registration() -> None:
    registry = ToolRegistry.of([SHOUT])
    with pytest.raises(RegistryError, match="'SHOUT' is already registered"):
        registry.register(SHOUT)


def test_registry_unknown_tool_says_how_to_fix() -> None:
    with pytest.raises(RegistryError, match=r"no tool registered as 'NOPE'.*register a ToolSpec"):
        ToolRegistry.of([SHOUT]).spec("NOPE")


async def test_run_lead_tool_without_configured_provider_raises_not_configured() -> None:
    registry = ToolRegistry.of([ToolSpec("EMPTY", (unavailable("x", "set WYSHBONE_X"),))])
    env = LeadToolExecutionEnv.model_construct(user=USER, plan=None, prior_results={}, step_id="s")
    with pytest.raises(
        NotConfiguredError, match=r"EMPTY: Not set up: needs the setting WYSHBONE_X\nx: set WYSHBONE_X"
    ):
        await run_lead_tool("EMPTY", {}, env, registry=registry)


async def test_new_tool_is_one_registration_and_runs_in_a_plan() -> None:
    # Adding a tool: an identifier ("SHOUT") and one registry entry; the executor needs no change.
    plan = LeadGenPlan(
        id="p",
        user_id="u",
        goal=LeadGenGoal(raw_goal="x"),
        steps=[LeadGenPlanStep(id="s1", title="Shout", tool="SHOUT", params={"text": "hi"})],
    )
    result = await execute_lead_generation_plan(plan, USER, registry=ToolRegistry.of([SHOUT]))
    assert [(r.step_id, r.status.value, r.provider, r.data) for r in result.step_results] == [
        ("s1", "succeeded", "loud", {"text": "HI", "step": "s1"})
    ]


async def test_build_registry_puts_plugin_providers_first(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, plugins="tests.fakes.slow_tools:providers")
    async with httpx.AsyncClient() as client:
        registry = build_registry(settings=settings, repos=memory_repositories(), client=client)
    chain = [p.info.name for p in registry.spec("HUNTER_DOMAIN_LOOKUP").providers]
    assert chain == ["slow_test_fake", "hunter"]


@pytest.mark.parametrize(
    "entry",
    [
        "no_such_module:providers",  # module missing
        "tests.fakes.slow_tools:nope",  # function missing
        "tests.fakes.slow_tools:NAME",  # not a function
    ],
)
async def test_build_registry_bad_plugin_fails_loudly(tmp_path: Path, entry: str) -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(RegistryError, match="WYSHBONE_PLUGINS entry"):
            build_registry(
                settings=Settings(home=tmp_path, plugins=entry), repos=memory_repositories(), client=client
            )
