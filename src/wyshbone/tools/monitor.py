"""MONITOR_SETUP: keep the plan's search and remember every business it and the saved list know, without searching
again; the monitor's first check (``domain.monitor_checks``, run by ``services.Monitors``) is due at once and takes
the baseline with the wider search, and only the checks after it save and report new businesses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wyshbone.clock import Clock, system_clock
from wyshbone.config import Settings
from wyshbone.domain.models import (
    LeadGenPlan,
    LeadGenPlanStep,
    LeadToolExecutionEnv,
    LeadToolExecutionResult,
)
from wyshbone.domain.models import LeadToolIdentifier as T
from wyshbone.domain.monitor_checks import setup_run
from wyshbone.domain.monitors import new_leads
from wyshbone.domain.planner import ProviderInfo
from wyshbone.domain.steps import MonitorOutput, MonitorParams, SaveListParams, SearchParams, SequenceParams
from wyshbone.errors import PermanentToolError
from wyshbone.storage.leads import LeadRepository
from wyshbone.storage.monitors import MonitorRepository
from wyshbone.storage.plans import PlanRepository
from wyshbone.tools.lead_list import step_leads
from wyshbone.tools.outreach import saved_list_id
from wyshbone.tools.registry import Provider

MONITOR = "monitor"


def monitor_search(
    plan: LeadGenPlan, search_step_id: str, save_step_id: str, max_results: int
) -> dict[str, Any]:
    """What a monitor re-runs: the plan's search step, looking wider than the plan did; and the steps that
    follow up new leads as the plan did: its enrichment steps, then its outreach steps for the saved list."""
    step = plan.step(search_step_id)
    wanted = max(step.params_as(SearchParams).max_results, max_results)
    save = plan.step(save_step_id)
    enrichment = [plan.step(i) for i in save.params_as(SaveListParams).enrichment_step_ids if _has(plan, i)]
    outreach = [
        s
        for s in plan.steps
        if s.tool == T.EMAIL_SEQUENCE_SETUP and s.params_as(SequenceParams).source_step_id == save.id
    ]
    return {
        "stepId": step.id,
        "title": step.title,
        "tool": step.tool,
        "providers": list(step.providers),
        "params": {**step.params, "maxResults": wanted},
        "followUps": [_follow_up(s, "enrich") for s in enrichment]
        + [_follow_up(s, "outreach") for s in outreach],
    }


def _has(plan: LeadGenPlan, step_id: str) -> bool:
    return any(s.id == step_id for s in plan.steps)


def _follow_up(step: LeadGenPlanStep, kind: str) -> dict[str, Any]:
    return {"kind": kind, "stepId": step.id, "title": step.title, "tool": step.tool, "params": step.params}


@dataclass(frozen=True, slots=True)
class _Setup:
    """The monitor step: the plan's search kept, and recorded (a "setup" run) with all the plan knows."""

    settings: Settings
    monitors: MonitorRepository
    leads: LeadRepository
    plans: PlanRepository
    clock: Clock

    async def __call__(self, params: MonitorParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        list_id = saved_list_id(env, params.source_step_id)
        search_step = params.search_step_id
        try:
            wanted = params.max_results or self.settings.monitor_max_results
            search = monitor_search(env.plan, search_step, params.source_step_id, wanted)
        except KeyError:
            raise PermanentToolError(f"the plan has no search step {search_step!r} to watch") from None
        cadence, now = params.cadence, self.clock()
        # What it knows now: what the list holds and what the plan's own search found (the save step needed it).
        found = step_leads(env, search_step)
        known = (*await self.leads.of_list(list_id), *found)
        businesses = len(new_leads(known, set()))  # each business once, by either identity
        # Due at once: the first check takes the baseline with the monitor's wider search (domain.monitor_checks).
        goal, next_run = env.plan.goal, now
        monitor_id, _ = await self.monitors.create(
            plan_id=env.plan.id,
            step_id=env.step_id,
            session_id=await self.plans.session_of(env.plan.id),
            user_id=env.user.user_id,
            list_id=list_id,
            name=f"New {goal.target_persona or 'business'} leads in {goal.target_region or goal.country}",
            search=search,
            cadence=cadence.value,
            baseline=setup_run(found=len(found), known=businesses, at=now),
            known=known,
            next_run_at=next_run,
        )
        output = MonitorOutput(
            monitor_id=monitor_id,
            cadence=cadence.value,
            next_run_at=next_run.isoformat(),
            known=businesses,
            baseline="due now",
        )
        return LeadToolExecutionResult(success=True, output=output)


def monitor_provider(
    settings: Settings,
    *,
    monitors: MonitorRepository,
    leads: LeadRepository,
    plans: PlanRepository,
    clock: Clock = system_clock,
) -> Provider[MonitorParams]:
    """Records the monitor in ``monitors`` with what the saved list (in ``leads``) and the search know, for the
    session of its plan (read from ``plans``)."""
    setup = _Setup(settings, monitors, leads, plans, clock)
    return Provider(ProviderInfo(MONITOR, configured=True, external=False), setup)
