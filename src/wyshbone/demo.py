"""The spec's test script: a 3-step plan run twice with scripted tools, the second time with one tool failing.

The scripted tools return no leads or contacts: they only show the executor's behaviour (progress, retries,
a skipped dependant, the overall status), and the structured event lines it logs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from wyshbone.domain.models import (
    LeadGenGoal,
    LeadGenPlan,
    LeadGenPlanStep,
    LeadToolExecutionEnv,
    LeadToolExecutionResult,
)
from wyshbone.domain.models import LeadToolIdentifier as T
from wyshbone.domain.planner import ProviderInfo
from wyshbone.domain.retry import RetryPolicy
from wyshbone.domain.steps import StepParams
from wyshbone.errors import RetryableToolError
from wyshbone.executor import logger as event_logger
from wyshbone.tools.registry import Provider, ToolRegistry, ToolSpec

DEMO_PROVIDER = "demo_script"
DEMO_POLICY = RetryPolicy(max_retries=2, base_delay=0.5)
"""Shorter than the default 1 s base so the demo's retries are quick to watch."""


def demo_plan(plan_id: str) -> LeadGenPlan:
    goal = LeadGenGoal(raw_goal="Demo: find coffee shops in Manchester and email them", volume=3)
    steps = [
        LeadGenPlanStep(
            id="search_1", title="Search Wyshbone Global Database", tool=T.GLOBAL_DB_SEARCH, required=True
        ),
        LeadGenPlanStep(
            id="enrich_1", title="Enrich Contact Data", tool=T.HUNTER_ENRICH, depends_on=["search_1"]
        ),
        LeadGenPlanStep(
            id="outreach_1", title="Prepare Outreach", tool=T.EMAIL_SEQUENCE_SETUP, depends_on=["enrich_1"]
        ),
    ]
    return LeadGenPlan(id=plan_id, user_id="demo", goal=goal, steps=steps)


def _scripted(step_seconds: float, *, fail: bool = False) -> Provider[StepParams]:
    async def run(params: StepParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        await asyncio.sleep(step_seconds)
        if fail:
            raise RetryableToolError("scripted failure: the enrichment provider answered 503")
        return LeadToolExecutionResult(success=True, data={"scripted": True, "step": env.step_id})

    return Provider(ProviderInfo(DEMO_PROVIDER, configured=True, external=False), run)


def demo_registry(*, failing: bool, step_seconds: float = 0.6) -> ToolRegistry:
    return ToolRegistry.of(
        [
            ToolSpec(T.GLOBAL_DB_SEARCH, (_scripted(step_seconds),), DEMO_POLICY),
            ToolSpec(T.HUNTER_ENRICH, (_scripted(step_seconds, fail=failing),), DEMO_POLICY),
            ToolSpec(T.EMAIL_SEQUENCE_SETUP, (_scripted(step_seconds),), DEMO_POLICY),
        ]
    )


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def event_lines() -> Iterator[list[str]]:
    """The ``[LEAD_GEN_PLAN] {...}`` lines the executor logs while the block runs, exactly as logged, kept
    aside (to be printed after the demo's table) instead of going to the log."""
    handler = _Lines()
    level, propagate = event_logger.level, event_logger.propagate
    event_logger.addHandler(handler)
    event_logger.setLevel(logging.INFO)
    event_logger.propagate = False
    try:
        yield handler.lines
    finally:
        event_logger.removeHandler(handler)
        event_logger.setLevel(level)
        event_logger.propagate = propagate
