"""Each built-in tool's ``Params`` (what its step asks) and ``Output`` (what it found), typed. Pure.

The planner builds the params, the executor hands them to the tool, the tool returns its output; both are JSON
only where they leave the process (the plan's ``params``, the step result's ``data``), in the same shape as ever.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field, ValidationError

from wyshbone.domain.camel import StepOutput, StepParams
from wyshbone.domain.models import CamelModel, Lead, LeadGenPlan, LeadToolIdentifier, RegionMatch
from wyshbone.domain.monitors import DEFAULT_CADENCE, Cadence
from wyshbone.domain.outreach import SequenceStep

__all__ = [
    "OUTPUTS",
    "PARAMS",
    "CarriedLeads",
    "ContactsOutput",
    "DomainLookupParams",
    "EnrichParams",
    "LeadOutcome",
    "MonitorOutput",
    "MonitorParams",
    "NewLeadsOutput",
    "NewLeadsParams",
    "NotDrafted",
    "OpenOutput",
    "OpenParams",
    "SaveListOutput",
    "SaveListParams",
    "SaveNewOutput",
    "SaveNewParams",
    "SearchOutput",
    "SearchParams",
    "SequenceOutput",
    "SequenceParams",
    "StepOutput",
    "StepParams",
    "misfits",
]

DEFAULT_MAX_RESULTS = 40
"""Candidates a search fetches when its step does not say."""


class OpenParams(StepParams):
    """The params of a tool that declares no model (a plugin's own tool, a test's): any keys."""

    model_config = ConfigDict(extra="allow", frozen=True)


class OpenOutput(StepOutput):
    """The output of a tool that declares no model: any keys, read for ``resultCount`` alone."""


class SearchParams(StepParams):
    """GLOBAL_DB_SEARCH: what to look for, where, and how many."""

    persona: str | None = None
    categories: list[str] = Field(default_factory=list)
    """Directory categories of the kind (empty: free text only)."""
    qualifiers: list[str] = Field(default_factory=list)
    region: str | None = None
    country: str = "GB"
    region_match: RegionMatch | None = None
    """The resolved place; a search without one fails (it has nowhere to search)."""
    nearby_allowed: bool = False
    volume: int | None = None
    """How many leads the goal asked for (default: half of ``max_results``)."""
    max_results: int = DEFAULT_MAX_RESULTS
    """How many candidates to fetch."""

    def wanted_items(self) -> int:
        return self.max_results


class DomainLookupParams(StepParams):
    """HUNTER_DOMAIN_LOOKUP: the domains of the leads of ``source_step_id``."""

    source_step_id: str
    limit: int | None = 20
    """None: every lead (a monitor check's new businesses)."""


class EnrichParams(StepParams):
    """HUNTER_ENRICH: the email addresses of the leads of ``source_step_id`` (else ``leads_step_id``)."""

    source_step_id: str
    leads_step_id: str = ""
    limit: int | None = 20
    """None: every lead (a monitor check's new businesses)."""


class SaveListParams(StepParams):
    """LEAD_LIST_SAVE: the best ``volume`` leads of ``source_step_id``, with what the enrichment steps found."""

    source_step_id: str
    enrichment_step_ids: list[str] = Field(default_factory=list)
    list_name: str = "Leads"
    volume: int | None = None
    """None: all of them."""


class SequenceParams(StepParams):
    """EMAIL_SEQUENCE_SETUP: drafts for the list saved by ``source_step_id``."""

    source_step_id: str
    persona: str | None = None
    sequence_length: int | None = None
    """How many of the default messages (intro, day 3, day 7); None: all."""
    limit: int | None = None
    steps: list[SequenceStep] | None = Field(default=None, exclude_if=lambda steps: steps is None)
    """The step's own templates instead of the default sequence."""
    plan_id: str | None = Field(default=None, exclude_if=lambda plan_id: plan_id is None)
    """The plan whose sequence (of this step's id) the drafts join: a monitor check adds to its monitor's plan's
    sequence. None: this plan's."""


class MonitorParams(StepParams):
    """MONITOR_SETUP: watch the search ``search_step_id`` for businesses new to the list of ``source_step_id``."""

    source_step_id: str
    search_step_id: str
    cadence: Cadence = DEFAULT_CADENCE
    max_results: int | None = None
    """How wide the monitor's search looks (default: the settings')."""


class NewLeadsParams(StepParams):
    """MONITOR_NEW_LEADS: the leads of ``source_step_id`` (a monitor check's search) the monitor does not know."""

    monitor_id: int
    source_step_id: str
    baseline: bool = False
    """The monitor has no baseline yet (its first check): it learns what was found, and nothing counts as new."""


class SaveNewParams(StepParams):
    """MONITOR_SAVE_NEW: the new leads of ``source_step_id``, with what the enrichment steps found, into the
    monitor's list; everything ``search_step_id`` found into what the monitor knows; its schedule moved on."""

    monitor_id: int
    source_step_id: str
    search_step_id: str
    enrichment_step_ids: list[str] = Field(default_factory=list)
    list_id: int
    next_run_at: datetime
    """When the monitor is due next, once this check has saved what it found."""


class SearchOutput(StepOutput):
    """What a search found: ranked leads, inside the place first, and why fewer than wanted."""

    provider: str = ""
    """The providers that served it, joined by "+"."""
    region: str | None = None
    asked: str | None = None
    """The kind asked for, as a person says it ("vegan cafes")."""
    wanted: int = 0
    inside: int = 0
    nearby: int = 0
    shortfall: str | None = None
    leads: list[Lead] = Field(default_factory=list)


class LeadOutcome(CamelModel):
    """What one lead's lookup came to."""

    source_id: str
    outcome: Literal["found", "not_found", "error"]
    via: str | None = None
    reason: str | None = None


class ContactsOutput(StepOutput):
    """HUNTER_DOMAIN_LOOKUP and HUNTER_ENRICH: the leads with what was found, and each one's outcome."""

    leads: list[Lead] = Field(default_factory=list)
    outcomes: list[LeadOutcome] = Field(default_factory=list)
    found: int = 0
    not_found: int = 0
    errors: int = 0


class CarriedLeads(StepOutput):
    """The leads any step's output carries (search, domains, emails); None when it carries none."""

    leads: list[Lead] | None = None


class SaveListOutput(StepOutput):
    """LEAD_LIST_SAVE: the list written, and how many of the candidates it holds."""

    list_id: int
    list_name: str = ""
    saved: int = 0
    added: int = 0
    requested: int = 0
    candidates: int = 0


class NotDrafted(CamelModel):
    lead_name: str
    reason: str | None = None


class SequenceOutput(StepOutput):
    """EMAIL_SEQUENCE_SETUP: the sequence, whom it drafted, and why not the others."""

    sequence_id: int
    list_id: int
    drafted: int = 0
    newly_drafted: int = 0
    messages: int = 0
    steps: list[str] = Field(default_factory=list)
    verified: int = 0
    suppressed: int = 0
    not_drafted: list[NotDrafted] = Field(default_factory=list)


class MonitorOutput(StepOutput):
    """MONITOR_SETUP: the monitor recorded, when it next runs, and what its baseline came to."""

    monitor_id: int
    cadence: str
    next_run_at: str
    """ISO 8601, as ``datetime.isoformat`` writes it."""
    known: int = 0
    baseline: str = ""


class NewLeadsOutput(StepOutput):
    """MONITOR_NEW_LEADS: the new leads, in a search's shape (``leads``) so enrichment steps read them as one."""

    leads: list[Lead] = Field(default_factory=list)
    found: int = 0
    """How many businesses the search found."""
    new: int = 0


class SaveNewOutput(StepOutput):
    """MONITOR_SAVE_NEW: the list the new leads joined (``listId``, as a saved list's: outreach reads it), how
    many businesses the check found, and the names of the new ones."""

    list_id: int
    found: int = 0
    new: int = 0
    names: list[str] = Field(default_factory=list)


T = LeadToolIdentifier

PARAMS: dict[str, type[StepParams]] = {
    T.GLOBAL_DB_SEARCH: SearchParams,
    T.GOOGLE_PLACES_SEARCH: SearchParams,
    T.HUNTER_DOMAIN_LOOKUP: DomainLookupParams,
    T.HUNTER_ENRICH: EnrichParams,
    T.LEAD_LIST_SAVE: SaveListParams,
    T.EMAIL_SEQUENCE_SETUP: SequenceParams,
    T.MONITOR_SETUP: MonitorParams,
    T.MONITOR_NEW_LEADS: NewLeadsParams,
    T.MONITOR_SAVE_NEW: SaveNewParams,
}
"""Each built-in tool's params model (its ``ToolSpec`` declares it)."""

OUTPUTS: dict[str, type[StepOutput]] = {
    T.GLOBAL_DB_SEARCH: SearchOutput,
    T.GOOGLE_PLACES_SEARCH: SearchOutput,
    T.HUNTER_DOMAIN_LOOKUP: ContactsOutput,
    T.HUNTER_ENRICH: ContactsOutput,
    T.LEAD_LIST_SAVE: SaveListOutput,
    T.EMAIL_SEQUENCE_SETUP: SequenceOutput,
    T.MONITOR_SETUP: MonitorOutput,
    T.MONITOR_NEW_LEADS: NewLeadsOutput,
    T.MONITOR_SAVE_NEW: SaveNewOutput,
}
"""Each built-in tool's output model (its ``ToolSpec`` declares it)."""


def misfits(plan: LeadGenPlan) -> list[str]:
    """A problem for each step of a built-in tool whose params do not fit the tool's model."""
    problems = []
    for step in plan.steps:
        model = PARAMS.get(step.tool)
        if model is None:
            continue
        try:
            step.params_as(model)
        except ValidationError as exc:
            errors = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            problems.append(f"step {step.id!r} has params that do not fit {step.tool}: {errors}")
    return problems
