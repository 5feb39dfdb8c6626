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
    LeadGenStepStatus,
    LeadToolExecutionEnv,
    LeadToolExecutionResult,
    SupervisorUserContext,
)
from wyshbone.domain.monitors import MonitorRun, cadence_of, identities, next_run_after
from wyshbone.domain.planner import ProviderInfo
from wyshbone.errors import PermanentToolError
from wyshbone.executor import run_single_step
from wyshbone.storage.repository import SqlStore
from wyshbone.tools.lead_list import step_leads
from wyshbone.tools.outreach import saved_list_id
from wyshbone.tools.registry import Provider, ToolRegistry, unavailable

MONITOR = "monitor"
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    ok: bool
    leads: list[Lead]
    error: str | None = None


def monitor_search(plan: LeadGenPlan, search_step_id: str, max_results: int) -> dict[str, Any]:
    """What a monitor re-runs: the plan's search step, looking wider than the plan did."""
    step = plan.step(search_step_id)
    wanted = max(int(step.params.get("maxResults") or 0), max_results)
    return {
        "stepId": step.id,
        "title": step.title,
        "tool": step.tool,
        "providers": list(step.providers),
        "params": {**step.params, "maxResults": wanted},
    }


async def run_search(
    search: dict[str, Any], *, plan: LeadGenPlan, user: SupervisorUserContext, registry: ToolRegistry
) -> SearchOutcome:
    """The monitor's search through the tool layer (provider chain, retries, fallback, top-up)."""
    step = LeadGenPlanStep(
        id=str(search["stepId"]),
        title=str(search["title"]),
        tool=str(search["tool"]),
        params=dict(search["params"]),
    )
    result, _ = await run_single_step(step, plan=plan, user=user, registry=registry)
    if result.status is not LeadGenStepStatus.SUCCEEDED:
        return SearchOutcome(False, [], result.error_message or f"the search was {result.status.value}")
    return SearchOutcome(True, [Lead.model_validate(item) for item in (result.data or {}).get("leads", [])])


def monitor_provider(
    settings: Settings,
    store: SqlStore | None,
    registry: Callable[[], ToolRegistry],
    *,
    clock: Clock = _utcnow,
) -> Provider:
    if store is None:
        return unavailable(MONITOR, "monitors need a database store (WYSHBONE_DATABASE_URL), not memory://")

    async def run(params: dict[str, Any], env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        list_id = saved_list_id(env, str(params.get("sourceStepId") or ""))
        search_step = str(params.get("searchStepId") or "")
        try:
            search = monitor_search(env.plan, search_step, settings.monitor_max_results)
        except KeyError:
            raise PermanentToolError(f"the plan has no search step {search_step!r} to watch") from None
        cadence = cadence_of(params.get("cadence"))
        started = clock()
        outcome = await run_search(search, plan=env.plan, user=env.user, registry=registry())
        listed = await store.list_leads_of(list_id)
        # Known: what the list holds, what the plan's search saw, and what the baseline search sees now.
        known = (*listed, *step_leads(env, search_step), *outcome.leads)
        businesses = len({identities(lead)[0] for lead in known})
        finished = clock()
        baseline = MonitorRun(
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
        goal = env.plan.goal
        next_run = next_run_after(cadence, started)
        monitor_id, _ = await store.create_monitor(
            plan_id=env.plan.id,
            step_id=env.step_id,
            session_id=await store.plan_session(env.plan.id),
            user_id=env.user.user_id,
            list_id=list_id,
            name=f"New {goal.target_persona or 'business'} leads in {goal.target_region or goal.country}",
            search=search,
            cadence=cadence.value,
            baseline=baseline,
            known=known,
            next_run_at=next_run,
        )
        return LeadToolExecutionResult(
            success=True,
            data={
                "monitorId": monitor_id,
                "cadence": cadence.value,
                "nextRunAt": next_run.isoformat(),
                "known": businesses,
                "baseline": baseline.status,
            },
        )

    return Provider(ProviderInfo(MONITOR, configured=True, external=False), run)
