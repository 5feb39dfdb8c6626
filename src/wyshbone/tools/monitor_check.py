"""MONITOR_NEW_LEADS and MONITOR_SAVE_NEW: the two steps of a monitor's check (``domain.monitor_checks``) that
are the monitor's own: leave out the businesses it already knows, then save the new ones and remember them all."""

from __future__ import annotations

from wyshbone.domain.models import LeadToolExecutionEnv, LeadToolExecutionResult
from wyshbone.domain.monitors import new_leads
from wyshbone.domain.planner import ProviderInfo
from wyshbone.domain.steps import NewLeadsOutput, NewLeadsParams, SaveNewOutput, SaveNewParams
from wyshbone.storage.monitors import MonitorRepository
from wyshbone.tools.lead_list import step_leads, with_enrichment
from wyshbone.tools.monitor import MONITOR
from wyshbone.tools.registry import Provider

__all__ = ["new_leads_provider", "save_new_provider"]


def new_leads_provider(monitors: MonitorRepository) -> Provider[NewLeadsParams]:
    """The search's leads that ``monitors`` does not know for the check's monitor (none while it takes its
    baseline), each business once."""

    async def run(params: NewLeadsParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        found = step_leads(env, params.source_step_id)
        fresh = [] if params.baseline else new_leads(found, await monitors.known(params.monitor_id))
        output = NewLeadsOutput(leads=fresh, found=len(found), new=len(fresh))
        return LeadToolExecutionResult(success=True, output=output)

    return Provider(ProviderInfo(MONITOR, configured=True, external=False), run)


def save_new_provider(monitors: MonitorRepository) -> Provider[SaveNewParams]:
    """The new leads, with what the enrichment steps found for them, into the monitor's list; every lead the
    search found into what the monitor knows; its schedule moved on. All at once (``save_found``)."""

    async def run(params: SaveNewParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        found = step_leads(env, params.search_step_id)
        fresh = with_enrichment(env, step_leads(env, params.source_step_id), params.enrichment_step_ids)
        # What the list gained, not what was offered: a lead already in it (added by hand, or by a resumed
        # check) is not new to anyone.
        added = await monitors.save_found(
            params.monitor_id,
            list_id=params.list_id,
            fresh=fresh,
            seen=found,
            next_run_at=params.next_run_at,
        )
        output = SaveNewOutput(
            list_id=params.list_id,
            found=len(found),
            new=added,
            names=[lead.name for lead in fresh] if added == len(fresh) else [],
        )
        return LeadToolExecutionResult(success=True, output=output)

    return Provider(ProviderInfo(MONITOR, configured=True, external=False), run)
