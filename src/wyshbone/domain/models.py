"""The vocabulary of the original spec, as pydantic v2 models.

snake_case in Python, camelCase in JSON (``model_dump()`` and ``model_dump_json()`` emit the JSON names).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from wyshbone.domain.camel import CamelModel as CamelModel
from wyshbone.domain.camel import StepOutput
from wyshbone.domain.emails import screen_emails

M = TypeVar("M", bound=BaseModel)


class LeadToolIdentifier(StrEnum):
    GLOBAL_DB_SEARCH = "GLOBAL_DB_SEARCH"
    GOOGLE_PLACES_SEARCH = "GOOGLE_PLACES_SEARCH"
    HUNTER_DOMAIN_LOOKUP = "HUNTER_DOMAIN_LOOKUP"
    HUNTER_ENRICH = "HUNTER_ENRICH"
    LEAD_LIST_SAVE = "LEAD_LIST_SAVE"
    EMAIL_SEQUENCE_SETUP = "EMAIL_SEQUENCE_SETUP"
    MONITOR_SETUP = "MONITOR_SETUP"
    MONITOR_NEW_LEADS = "MONITOR_NEW_LEADS"
    """A monitor check's step: the businesses its search found that the monitor does not know yet."""
    MONITOR_SAVE_NEW = "MONITOR_SAVE_NEW"
    """A monitor check's step: those new businesses into the list, everything found into what it knows."""


class RegionKind(StrEnum):
    TOWN = "town"
    """A GB town or city from the gazetteer (searched by distance from its centre)."""
    LOCAL_AUTHORITY = "local_authority"
    """A council area (searched by the directory's ``local_authority`` field)."""
    COUNTY = "county"
    """A county or unitary authority (``county`` field)."""
    REGION = "region"
    """A region of England, or Scotland/Wales (``region`` field)."""
    AREA = "area"
    """A named area with no administrative boundary, e.g. the Cotswolds (searched by radius)."""
    POSTCODE_DISTRICT = "postcode_district"
    """A postcode district such as ``M1`` or ``LS6``."""
    WORLD_CITY = "world_city"
    """A city outside GB (not in the local directory; online providers only)."""


class RegionMatch(CamelModel):
    """Where a goal's region was found, with what a search needs to use it."""

    model_config = ConfigDict(frozen=True)

    name: str
    """The place as the gazetteer spells it ("Newcastle upon Tyne")."""
    kind: RegionKind
    country: str
    """ISO 3166-1 alpha-2 ("GB", "FR")."""
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    """Default search radius around (lat, lon) for towns, areas and world cities."""
    population: int | None = None
    county: str | None = None
    region: str | None = None
    local_authority: str | None = None
    field_value: str | None = None
    """For field-matched kinds: the exact value of the directory field (e.g. "Yorkshire and The Humber")."""
    field_values: tuple[str, ...] = ()
    """For kinds matching several directory field values (e.g. Yorkshire's three regions)."""


class LeadGenGoal(CamelModel):
    raw_goal: str
    target_region: str | None = None
    target_persona: str | None = None
    volume: int = 20
    timing: str | None = None
    preferred_channels: list[str] = Field(default_factory=list)
    include_monitoring: bool = False
    # Extras beyond the spec's seven fields: what the parser resolved.
    country: str = "GB"
    """ISO 3166-1 alpha-2 country of the target region."""
    target_categories: list[str] = Field(default_factory=list)
    """Directory categories the persona maps to (e.g. coffee shop → ["cafe"]); empty → free text only."""
    region_match: RegionMatch | None = None
    monitor_cadence: str | None = None
    """"daily" | "weekly" | "monthly" when monitoring is asked."""
    qualifiers: list[str] = Field(default_factory=list)
    """What narrows the kind, apart from it ("italian", "vegan", "craft", "independent"): see
    ``domain.qualifiers``. Each lead must show every one, or it is not a match."""
    nearby_allowed: bool = False
    """The wording lets leads come from just outside the place ("around", "near", "within 10 miles of");
    otherwise outside leads only top up after every inside one is used, and are labelled ``nearby``."""


class GoalOverrides(CamelModel):
    """Corrections a person makes to the parsed goal before planning; unset fields keep the parser's reading."""

    model_config = ConfigDict(extra="forbid")

    target_persona: str | None = Field(default=None, min_length=1, max_length=100)
    target_region: str | None = Field(default=None, min_length=1, max_length=100)
    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")
    volume: int | None = Field(default=None, ge=1, le=1_000_000)
    """More than the plan's cap is capped, with an assumption that says so."""
    qualifiers: list[str] | None = Field(default=None, max_length=10)
    """Replaces what the parser read as qualifiers ("italian", "vegan"); ``[]`` removes them all."""
    preferred_channels: list[Literal["email", "phone"]] | None = None
    include_monitoring: bool | None = None
    monitor_cadence: Literal["daily", "weekly", "monthly"] | None = None


class ParsedGoal(CamelModel):
    """What the parser read: the goal (None when it cannot plan), what it assumed, what stops planning."""

    goal: LeadGenGoal | None
    assumptions: list[str] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)

    @property
    def plannable(self) -> bool:
        return self.goal is not None and not self.problems


class LeadGenContext(CamelModel):
    user_id: str
    default_region: str | None = None
    default_country: str = "GB"


class SupervisorUserContext(CamelModel):
    user_id: str
    account_id: str | None = None
    email: str | None = None


class PlanStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    EXECUTING = "executing"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"


class LeadGenPlanStep(CamelModel):
    id: str
    title: str
    tool: str
    """A ``LeadToolIdentifier`` value, or the name of any tool registered in the tool registry."""
    params: dict[str, Any] = Field(default_factory=dict)
    """The tool's ``StepParams`` as JSON (``params_as`` reads them typed)."""
    depends_on: list[str] = Field(default_factory=list)
    """Steps whose output this step needs: if one fails, this step is skipped."""
    waits_for: list[str] = Field(default_factory=list)
    """Steps this step runs after, whatever their outcome (it uses their output when there is some)."""
    description: str = ""
    """What the step will do, in plain words."""
    required: bool = False
    """A failed required step fails the plan; an optional one makes it partial."""
    providers: list[str] = Field(default_factory=list)
    """The ordered provider chain the step will try (fallback order)."""

    def params_as(self, model: type[M]) -> M:
        """The params read as ``model`` (pydantic's ``ValidationError`` when they do not fit)."""
        return model.model_validate(self.params)


class ProviderCallEstimate(CamelModel):
    step_id: str
    provider: str
    configured: bool
    calls: int
    """External requests the step would make to this provider (at most)."""
    unit: str = "request"
    unit_price_usd: float | None = None
    """List price per unit; None when the provider does not charge."""
    cost_usd: float | None = None
    note: str = ""


class StepAvailability(CamelModel):
    step_id: str
    will_run: bool
    reason: str | None = None


class ProviderCoverage(CamelModel):
    """What one usable provider of a search step can deliver for the goal, known before approval."""

    step_id: str
    provider: str
    available: int | None = None
    """Businesses of the asked kind (and qualifiers) inside the asked place it holds; None when it cannot
    count before searching (online providers)."""
    cap: int | None = None
    """The most one search of it returns (Google Places: 60), when it has such a cap."""
    note: str | None = None
    """What it can and cannot tell, in plain words ("does not record cuisine: matched on names only")."""


class PlanEstimate(CamelModel):
    calls: list[ProviderCallEstimate] = Field(default_factory=list)
    total_cost_usd: float = 0.0
    steps: list[StepAvailability] = Field(default_factory=list)
    coverage: list[ProviderCoverage] = Field(default_factory=list)


class LeadGenPlan(CamelModel):
    id: str
    user_id: str
    goal: LeadGenGoal
    steps: list[LeadGenPlanStep]
    status: PlanStatus = PlanStatus.PENDING_APPROVAL
    assumptions: list[str] = Field(default_factory=list)
    estimate: PlanEstimate = Field(default_factory=PlanEstimate)
    warnings: list[str] = Field(default_factory=list)
    """A plain sentence for each shortfall foreseeable before approval ("The directory holds 1 business like
    'gym' in Manchester; 10 were asked for. …")."""
    created_at: datetime | None = None
    monitor_id: int | None = Field(default=None, exclude_if=lambda monitor_id: monitor_id is None)
    """Set on a monitor's check (``domain.monitor_checks``): the monitor it checks for. None on a goal's plan."""

    def step(self, step_id: str) -> LeadGenPlanStep:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


class LeadGenStepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class LeadGenStepResult(CamelModel):
    step_id: str
    status: LeadGenStepStatus
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int = 0
    error_message: str | None = None
    data: dict[str, Any] | None = None
    provider: str | None = None
    """The provider that served the step (after fallback), if any."""
    skipped_by_design: bool = False
    """Skipped because nothing is configured for it (shown at approval), not because of a failure."""

    def output_as(self, model: type[M]) -> M | None:
        """The step's ``data`` read as its tool's output ``model``; None unless it succeeded with data."""
        if self.status is not LeadGenStepStatus.SUCCEEDED or self.data is None:
            return None
        return model.model_validate(self.data)


class OverallStatus(StrEnum):
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Delivery(CamelModel):
    """How many leads the run delivered against how many were asked for, and why fewer."""

    wanted: int
    delivered: int
    note: str | None = None
    """Why fewer were delivered, in plain words ("1 of 10 gyms: the directory holds no more in Manchester and
    no online search is set up"); None when all were."""


class LeadGenExecutionResult(CamelModel):
    plan_id: str
    overall_status: OverallStatus
    started_at: datetime
    finished_at: datetime
    step_results: list[LeadGenStepResult]
    delivery: Delivery | None = None
    """Set for plans that save a lead list."""


class LeadToolExecutionEnv(CamelModel):
    user: SupervisorUserContext
    plan: LeadGenPlan
    prior_results: dict[str, LeadGenStepResult] = Field(default_factory=dict)
    step_id: str = ""
    """The step being run (lets side-effecting tools be idempotent per plan step)."""

    def output_of(self, step_id: str, model: type[M]) -> M | None:
        """What the earlier step ``step_id`` found, read as ``model``; None when it did not succeed."""
        result = self.prior_results.get(step_id)
        return result.output_as(model) if result is not None else None


class LeadToolExecutionResult(CamelModel):
    """What one provider call came to: a tool returns its typed ``output``; ``data`` is its JSON (filled from
    ``output``; providers outside this package may give ``data`` alone)."""

    success: bool
    data: dict[str, Any] | None = None
    error_message: str | None = None
    output: StepOutput | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _data_of_output(self) -> LeadToolExecutionResult:
        if self.output is not None and self.data is None:
            self.data = self.output.to_json_dict()
        return self


class PlanEventType(StrEnum):
    PLAN_QUEUED = "PLAN_QUEUED"
    """Approved, waiting for a free run slot in its process (``WYSHBONE_MAX_CONCURRENT_PLANS``)."""
    PLAN_STARTED = "PLAN_STARTED"
    PLAN_COMPLETED = "PLAN_COMPLETED"
    PLAN_CANCELLED = "PLAN_CANCELLED"
    STEP_STARTED = "STEP_STARTED"
    STEP_SUCCEEDED = "STEP_SUCCEEDED"
    STEP_FAILED = "STEP_FAILED"
    STEP_SKIPPED = "STEP_SKIPPED"
    STEP_RETRYING = "STEP_RETRYING"
    STEP_FALLBACK = "STEP_FALLBACK"


class PlanEvent(CamelModel):
    """One state change of a plan run; the event log is the source of truth for progress."""

    timestamp: datetime
    type: PlanEventType
    plan_id: str
    user_id: str
    step_id: str | None = None
    step_tool: str | None = None
    status: str | None = None
    attempt: int | None = None
    provider: str | None = None
    error_message: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    seq: int | None = None
    """Position in the plan's event log, set by the store."""


class ProgressStepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class ProgressOverallStatus(StrEnum):
    PENDING = "pending"
    EXECUTING = "executing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StepProgress(CamelModel):
    step_id: str
    title: str
    index: int
    total_steps: int
    status: ProgressStepStatus = ProgressStepStatus.PENDING
    attempts: int = 0
    error_message: str | None = None
    provider: str | None = None
    retry_in_seconds: float | None = None
    """Set while the step waits to retry: the delay the executor chose."""


class PlanProgress(CamelModel):
    plan_id: str
    session_id: str | None = None
    overall_status: ProgressOverallStatus
    current_step_index: int
    total_steps: int
    steps: list[StepProgress]
    updated_at: datetime | None = None
    detail: str | None = None
    """The execution's own outcome once finished: succeeded | partial | failed | cancelled; while executing,
    "queued" until a run slot is free."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> ProgressOverallStatus:
        """``overallStatus`` again, under the name the progress widget reads."""
        return self.overall_status


class ContactEmail(CamelModel):
    """An email address found for a business, with where it came from and how far it is verified."""

    value: str
    source: str
    """"website" (found on the business's own pages) or "hunter"."""
    verification: str = "unverified"
    """Hunter's status (valid | invalid | accept_all | webmail | disposable | unknown), or "unverified"."""
    score: int | None = None
    """Hunter's confidence or verifier score, 0–100."""
    type: str | None = None
    """"personal" or "generic" (Hunter's word), when known."""
    first_name: str | None = None
    last_name: str | None = None
    position: str | None = None
    found_on: str | None = None
    """The page (URL) it was read from, for website finds."""


class LeadMatch(CamelModel):
    """How a lead answers the goal: inside the asked place or nearby, why it is the asked kind, how it shows
    each qualifier, and the reasons in plain words."""

    area: Literal["inside", "nearby"]
    kind: Literal["category", "name", "category+name"]
    """The source's own category says so, the name does (within a compatible category), or both."""
    qualifiers: dict[str, Literal["tag", "type", "name"]] = Field(default_factory=dict)
    """qualifier → what shows it: an OSM tag, a Places type, or the name."""
    reasons: list[str] = Field(default_factory=list)
    """E.g. "FSA type Restaurant/Cafe/Canteen", "name contains 'Pizzeria'", "2.3 km from Manchester centre,
    in Salford"."""


class Lead(CamelModel):
    """One business, with where each field came from."""

    name: str
    source: str
    """Which provider/source found the business (``fsa_fhrs``, ``nhs_ods_dental``, ``osm``...)."""
    source_id: str
    """Stable id at that source (``fsa_fhrs:777212``)."""
    source_date: str | None = None
    category: str | None = None
    source_type: str | None = None
    address: str | None = None
    postcode: str | None = None
    post_town: str | None = None
    local_authority: str | None = None
    county: str | None = None
    region: str | None = None
    lat: float | None = None
    lon: float | None = None
    phone: str | None = None
    website: str | None = None
    domain: str | None = None
    emails: list[ContactEmail] = Field(default_factory=list)
    """Each one valid, normalised address (see ``_checked_emails``)."""
    distance_km: float | None = None
    score: float = 0.0
    provenance: dict[str, str] = Field(default_factory=dict)
    """field name → source that supplied it."""
    match: LeadMatch | None = None
    """How it answers the goal (set by the search; None for leads saved before matching existed)."""
    notes: list[str] = Field(default_factory=list)
    """What a salesperson should know about this lead's data, e.g. "refused address 'x@y' from hunter: ..."."""

    @model_validator(mode="before")
    @classmethod
    def _checked_emails(cls, data: Any) -> Any:
        """Whoever put them here (a provider, a list saved before addresses were checked), a lead's addresses
        are each one valid, normalised address: a value holding two is split, anything else is dropped with a
        note saying why."""
        if not isinstance(data, dict) or not data.get("emails"):
            return data
        entries = [e.to_json_dict() if isinstance(e, ContactEmail) else e for e in data["emails"]]
        emails, refused = screen_emails(entries)
        if refused:
            data = {**data, "notes": list(dict.fromkeys([*(data.get("notes") or ()), *refused]))}
        return {**data, "emails": emails}
