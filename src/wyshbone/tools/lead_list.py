"""LEAD_LIST_SAVE: keep the best ``volume`` leads, merged with any enrichment, in a named list (idempotent)."""

from __future__ import annotations

from collections.abc import Iterable

from wyshbone.domain.leads import merge_enrichment, select_best
from wyshbone.domain.models import Lead, LeadToolExecutionEnv, LeadToolExecutionResult
from wyshbone.domain.planner import ProviderInfo
from wyshbone.domain.steps import CarriedLeads, SaveListOutput, SaveListParams
from wyshbone.errors import PermanentToolError
from wyshbone.storage.leads import LeadRepository
from wyshbone.tools.registry import Provider

LEAD_STORE = "wyshbone_store"


def step_leads(env: LeadToolExecutionEnv, *step_ids: str) -> list[Lead]:
    """The leads of the first of ``step_ids`` that succeeded and carries leads (none when none did)."""
    for step_id in step_ids:
        output = env.output_of(step_id, CarriedLeads)
        if output is not None and output.leads is not None:
            return output.leads
    return []


def with_enrichment(env: LeadToolExecutionEnv, leads: list[Lead], step_ids: Iterable[str]) -> list[Lead]:
    """``leads`` with the fields the enrichment steps ``step_ids`` found for them (in that order)."""
    for step_id in step_ids:
        leads = merge_enrichment(leads, step_leads(env, step_id))
    return leads


def lead_store_provider(leads: LeadRepository) -> Provider[SaveListParams]:
    """Saves into the plan step's lead list; saving the same step's leads again adds nothing."""

    async def run(params: SaveListParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        found = step_leads(env, params.source_step_id)
        if not found:
            raise PermanentToolError(f"no leads to save: step {params.source_step_id!r} found none")
        found = with_enrichment(env, found, params.enrichment_step_ids)
        volume = params.volume or len(found)
        best = select_best(found, volume)
        saved = await leads.save(
            plan_id=env.plan.id, step_id=env.step_id, list_name=params.list_name or "Leads", leads=best
        )
        output = SaveListOutput(
            result_count=saved.total,
            list_id=saved.list_id,
            list_name=saved.name,
            saved=saved.total,
            added=saved.added,
            requested=volume,
            candidates=len(found),
        )
        return LeadToolExecutionResult(success=True, output=output)

    return Provider(ProviderInfo(LEAD_STORE, configured=True, external=False), run)
