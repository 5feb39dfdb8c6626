"""MONITOR_SETUP: keep the plan's search, run it once now as the baseline, and remember every business it knows,
so that later runs (``services.Monitors``) report and save only businesses that are new."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wyshbone.config import Settings
from wyshbone.domain.models import (
    Lead,
    LeadGenPlan,
    LeadGenPlanStep,
    LeadGenStepResult,
    LeadGenStepStatus,
    LeadToolExecutionEnv,
    LeadToolExecutionResult,
    SupervisorUserContext,
)
from wyshbone.domain.models import LeadToolIdentifier as T
from wyshbone.domain.monitors import MonitorRun, identities, next_run_after
from wyshbone.domain.planner import ProviderInfo
from wyshbone.domain.steps import (
    CarriedLeads,
    MonitorOutput,
    MonitorParams,
    SaveListOutput,
    SaveListParams,
    SearchParams,
    SequenceOutput,
    SequenceParams,
    StepOutput,
)
from wyshbone.errors import PermanentToolError
from wyshbone.executor import run_single_step
from wyshbone.storage.leads import LeadRepository
from wyshbone.storage.monitors import MonitorRepository
from wyshbone.storage.plans import PlanRepository
from wyshbone.tools.lead_list import step_leads, with_enrichment
from wyshbone.tools.outreach import saved_list_id
from wyshbone.tools.registry import Provider, ToolRegistry

MONITOR = "monitor"
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    ok: bool
    leads: list[Lead]
    error: str | None = None


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
        "saveStepId": save.id,
        "followUps": [_follow_up(s, "enrich") for s in enrichment]
        + [_follow_up(s, "outreach") for s in outreach],
    }


def _has(plan: LeadGenPlan, step_id: str) -> bool:
    return any(s.id == step_id for s in plan.steps)


def _follow_up(step: LeadGenPlanStep, kind: str) -> dict[str, Any]:
    return {"kind": kind, "stepId": step.id, "title": step.title, "tool": step.tool, "params": step.params}


def _step(spec: dict[str, Any], **params: Any) -> LeadGenPlanStep:
    return LeadGenPlanStep(
        id=str(spec["stepId"]),
        title=str(spec["title"]),
        tool=str(spec["tool"]),
        params={**spec["params"], **params},
    )


def _succeeded(step_id: str, output: StepOutput) -> LeadGenStepResult:
    return LeadGenStepResult(step_id=step_id, status=LeadGenStepStatus.SUCCEEDED, data=output.to_json_dict())


async def enrich_new(
    search: dict[str, Any],
    fresh: list[Lead],
    *,
    plan: LeadGenPlan,
    user: SupervisorUserContext,
    registry: ToolRegistry,
) -> list[Lead]:
    """The new leads through the plan's enrichment steps (domains, emails), as the plan ran them: same tools,
    same providers. A step that fails or is not configured leaves the leads as they were."""
    steps = [f for f in search.get("followUps", []) if f["kind"] == "enrich"]
    if not fresh or not steps:
        return fresh
    prior = {search["stepId"]: _succeeded(search["stepId"], CarriedLeads(leads=fresh))}
    for spec in steps:
        result, _ = await run_single_step(
            _step(spec, limit=len(fresh)), plan=plan, user=user, registry=registry, prior_results=prior
        )
        prior[result.step_id] = result
    env = LeadToolExecutionEnv.model_construct(user=user, plan=plan, prior_results=prior, step_id="")
    return with_enrichment(env, fresh, (spec["stepId"] for spec in steps))


async def draft_new(
    search: dict[str, Any],
    *,
    list_id: int,
    plan: LeadGenPlan,
    user: SupervisorUserContext,
    registry: ToolRegistry,
) -> int:
    """Run the plan's outreach steps again: their sequences gain drafts for the leads they do not have yet.
    Returns how many leads were drafted."""
    drafted = 0
    for spec in (f for f in search.get("followUps", []) if f["kind"] == "outreach"):
        prior = {search["saveStepId"]: _succeeded(search["saveStepId"], SaveListOutput(list_id=list_id))}
        result, _ = await run_single_step(
            _step(spec), plan=plan, user=user, registry=registry, prior_results=prior
        )
        if result.status is LeadGenStepStatus.SUCCEEDED and result.data:
            drafted += SequenceOutput.model_validate(result.data).newly_drafted
    return drafted


async def run_search(
    search: dict[str, Any], *, plan: LeadGenPlan, user: SupervisorUserContext, registry: ToolRegistry
) -> SearchOutcome:
    """The monitor's search through the tool layer (provider chain, retries, fallback, top-up)."""
    result, _ = await run_single_step(_step(search), plan=plan, user=user, registry=registry)
    if result.status is not LeadGenStepStatus.SUCCEEDED:
        return SearchOutcome(False, [], result.error_message or f"the search was {result.status.value}")
    found = CarriedLeads.model_validate(result.data or {})
    return SearchOutcome(True, found.leads or [])


def _baseline(
    outcome: SearchOutcome, *, businesses: int, started: datetime, finished: datetime
) -> MonitorRun:
    """The set-up search, as the monitor's first run."""
    return MonitorRun(
        monitor_id=0,
        kind="baseline",
        status="succeeded" if outcome.ok else "failed",
        started_at=started,
        finished_at=finished,
        found=len(outcome.leads),
        error=outcome.error,
        message=f"Watching for new businesses beyond the {businesses} known now."
        if outcome.ok
        else f"The baseline search failed ({outcome.error}); the next run takes the baseline instead.",
    )


@dataclass(frozen=True, slots=True)
class _Setup:
    """The monitor step: the plan's search kept, run once now as the baseline, and recorded with all it knows."""

    settings: Settings
    monitors: MonitorRepository
    leads: LeadRepository
    plans: PlanRepository
    registry: Callable[[], ToolRegistry]
    clock: Clock

    async def __call__(self, params: MonitorParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        list_id = saved_list_id(env, params.source_step_id)
        search_step = params.search_step_id
        try:
            wanted = params.max_results or self.settings.monitor_max_results
            search = monitor_search(env.plan, search_step, params.source_step_id, wanted)
        except KeyError:
            raise PermanentToolError(f"the plan has no search step {search_step!r} to watch") from None
        cadence = params.cadence
        started = self.clock()
        outcome = await run_search(search, plan=env.plan, user=env.user, registry=self.registry())
        # Known: what the list holds, what the plan's search saw, and what the baseline search sees now.
        known = (*await self.leads.of_list(list_id), *step_leads(env, search_step), *outcome.leads)
        businesses = len({identities(lead)[0] for lead in known})
        baseline = _baseline(outcome, businesses=businesses, started=started, finished=self.clock())
        goal, next_run = env.plan.goal, next_run_after(cadence, started)
        monitor_id, _ = await self.monitors.create(
            plan_id=env.plan.id,
            step_id=env.step_id,
            session_id=await self.plans.session_of(env.plan.id),
            user_id=env.user.user_id,
            list_id=list_id,
            name=f"New {goal.target_persona or 'business'} leads in {goal.target_region or goal.country}",
            search=search,
            cadence=cadence.value,
            baseline=baseline,
            known=known,
            next_run_at=next_run,
        )
        output = MonitorOutput(
            monitor_id=monitor_id,
            cadence=cadence.value,
            next_run_at=next_run.isoformat(),
            known=businesses,
            baseline=baseline.status,
        )
        return LeadToolExecutionResult(success=True, output=output)


def monitor_provider(
    settings: Settings,
    *,
    monitors: MonitorRepository,
    leads: LeadRepository,
    plans: PlanRepository,
    registry: Callable[[], ToolRegistry],
    clock: Clock = _utcnow,
) -> Provider[MonitorParams]:
    """Records the monitor in ``monitors`` with what the saved list (in ``leads``) and the search know, for the
    session of its plan (read from ``plans``)."""
    setup = _Setup(settings, monitors, leads, plans, registry, clock)
    return Provider(ProviderInfo(MONITOR, configured=True, external=False), setup)
