"""LEAD_LIST_SAVE: keep the best ``volume`` leads, merged with any enrichment, in a named list (idempotent)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wyshbone.domain.leads import merge_enrichment, select_best
from wyshbone.domain.models import Lead, LeadGenStepStatus, LeadToolExecutionEnv, LeadToolExecutionResult
from wyshbone.domain.planner import ProviderInfo
from wyshbone.errors import PermanentToolError
from wyshbone.storage.leads import LeadRepository
from wyshbone.tools.registry import RESULT_COUNT, Provider

LEAD_STORE = "wyshbone_store"


def step_leads(env: LeadToolExecutionEnv, *step_ids: str) -> list[Lead]:
    """The leads of the first of ``step_ids`` that succeeded and carries leads (none when none did)."""
    for step_id in step_ids:
        result = env.prior_results.get(step_id)
        if result is not None and result.status is LeadGenStepStatus.SUCCEEDED and result.data:
            items = result.data.get("leads")
            if items is not None:
                return [Lead.model_validate(item) for item in items]
    return []


def with_enrichment(env: LeadToolExecutionEnv, leads: list[Lead], step_ids: Iterable[str]) -> list[Lead]:
    """``leads`` with the fields the enrichment steps ``step_ids`` found for them (in that order)."""
    for step_id in step_ids:
        leads = merge_enrichment(leads, step_leads(env, step_id))
    return leads


def lead_store_provider(leads: LeadRepository) -> Provider:
    """Saves into the plan step's lead list; saving the same step's leads again adds nothing."""

    async def run(params: dict[str, Any], env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        source = str(params.get("sourceStepId") or "")
        found = step_leads(env, source)
        if not found:
            raise PermanentToolError(f"no leads to save: step {source!r} found none")
        found = with_enrichment(env, found, params.get("enrichmentStepIds") or [])
        volume = int(params.get("volume") or len(found))
        best = select_best(found, volume)
        saved = await leads.save(
            plan_id=env.plan.id,
            step_id=env.step_id,
            list_name=str(params.get("listName") or "Leads"),
            leads=best,
        )
        return LeadToolExecutionResult(
            success=True,
            data={
                RESULT_COUNT: saved.total,
                "listId": saved.list_id,
                "listName": saved.name,
                "saved": saved.total,
                "added": saved.added,
                "requested": volume,
                "candidates": len(found),
            },
        )

    return Provider(ProviderInfo(LEAD_STORE, configured=True, external=False), run)
