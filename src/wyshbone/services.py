"""Use cases, shared by the CLI and (later) the web routes: read a goal, plan it, run it, report on it.

Routes and commands are thin adapters over ``Supervisor``; nothing here formats output.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from wyshbone.config import Settings
from wyshbone.domain.gazetteer import Gazetteer
from wyshbone.domain.goals import parse_goal
from wyshbone.domain.models import (
    Lead,
    LeadGenContext,
    LeadGenExecutionResult,
    LeadGenPlan,
    ParsedGoal,
    PlanProgress,
    PlanStatus,
    SupervisorUserContext,
)
from wyshbone.domain.planner import plan_lead_generation
from wyshbone.domain.progress import project
from wyshbone.errors import InputError, PlanStateError, UnplannableGoalError
from wyshbone.executor import EventCallback, Runtime, execute_lead_generation_plan
from wyshbone.geodata import load_gazetteer
from wyshbone.storage.repository import PlanStore, open_store
from wyshbone.tools.builtin import build_registry
from wyshbone.tools.registry import ToolRegistry

MAX_GOAL_LENGTH = 1000

_FINAL = {
    "succeeded": PlanStatus.SUCCEEDED,
    "partial": PlanStatus.PARTIAL,
    "failed": PlanStatus.FAILED,
    "cancelled": PlanStatus.CANCELLED,
}


@dataclass
class Supervisor:
    """The application: settings, the plan store, the tool registry and the gazetteer, opened once."""

    settings: Settings
    store: PlanStore
    registry: ToolRegistry
    gazetteer: Gazetteer

    @classmethod
    async def open(cls, settings: Settings, *, store_url: str | None = None) -> Supervisor:
        gazetteer = await asyncio.to_thread(load_gazetteer, settings.open_data_dir)
        store = open_store(store_url or settings.store_url)
        return cls(settings, store, build_registry(settings=settings, store=store), gazetteer)

    async def close(self) -> None:
        await self.store.close()

    def context(self, user: SupervisorUserContext) -> LeadGenContext:
        return LeadGenContext(user_id=user.user_id, default_country=self.settings.default_country)

    def read_goal(self, text: str, user: SupervisorUserContext) -> ParsedGoal:
        """Parse ``text``; raise ``InputError``/``UnplannableGoalError`` when it cannot be planned."""
        text = (text or "").strip()
        if not text:
            raise InputError(
                "the goal is empty: say what to find and where, e.g. 'Find 20 coffee shops in Leeds'"
            )
        if len(text) > MAX_GOAL_LENGTH:
            raise InputError(f"the goal is too long ({len(text)} characters; at most {MAX_GOAL_LENGTH})")
        parsed = parse_goal(text, self.gazetteer, self.context(user))
        if not parsed.plannable:
            raise UnplannableGoalError(parsed.problems or ["the goal could not be read"])
        return parsed

    def plan(self, text: str, user: SupervisorUserContext) -> LeadGenPlan:
        """Read and plan ``text`` without storing anything."""
        parsed = self.read_goal(text, user)
        assert parsed.goal is not None  # plannable
        plan = plan_lead_generation(
            parsed.goal, self.context(user), catalog=self.registry.catalog(), assumptions=parsed.assumptions
        )
        return plan.model_copy(update={"created_at": datetime.now(UTC)})

    async def start_plan(
        self, text: str, user: SupervisorUserContext, *, session_id: str | None = None
    ) -> LeadGenPlan:
        """Plan ``text`` and store it as pending approval."""
        plan = self.plan(text, user)
        await self.store.save_plan(plan, session_id=session_id)
        return plan

    async def approve_plan(self, plan_id: str) -> LeadGenPlan:
        """Mark a pending plan as executing; the caller then runs it (``run_plan``)."""
        plan = await self.store.get_plan(plan_id)
        if plan is None:
            raise InputError(f"no plan {plan_id!r}")
        if plan.status is not PlanStatus.PENDING_APPROVAL:
            raise PlanStateError(f"plan {plan_id} is {plan.status.value}, not pending approval")
        await self.store.set_plan_status(plan_id, PlanStatus.EXECUTING)
        return plan.model_copy(update={"status": PlanStatus.EXECUTING})

    async def run_plan(
        self,
        plan: LeadGenPlan,
        user: SupervisorUserContext,
        *,
        on_event: EventCallback | None = None,
        cancel: asyncio.Event | None = None,
    ) -> LeadGenExecutionResult:
        """Execute an approved plan to the end, resuming from any step results already stored."""
        runtime = Runtime(
            registry=self.registry, store=self.store, max_concurrency=self.settings.max_concurrent_steps
        )
        try:
            prior = await self.store.step_results(plan.id)
            result = await execute_lead_generation_plan(
                plan, user, on_event=on_event, runtime=runtime, cancel=cancel, resume=prior
            )
        except asyncio.CancelledError:
            # The task was cancelled (Ctrl-C, shutdown): the events say so; the plan row must too.
            await asyncio.shield(self.store.set_plan_status(plan.id, PlanStatus.CANCELLED))
            raise
        await self.store.set_plan_status(plan.id, _FINAL[result.overall_status.value])
        return result

    async def progress(self, plan_id: str) -> PlanProgress:
        plan = await self.store.get_plan(plan_id)
        if plan is None:
            raise InputError(f"no plan {plan_id!r}")
        return project(await self.store.list_events(plan_id), plan=plan)

    async def leads(self, plan_id: str) -> Sequence[Lead]:
        return await self.store.list_leads(plan_id=plan_id)
