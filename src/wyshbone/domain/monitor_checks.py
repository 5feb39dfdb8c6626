"""A monitor's check as a plan, and the monitor run it comes to. Pure.

``plan_check`` makes the plan that runs like any approved one (search → leave out the known → domains → emails → save
the new → outreach drafts); ``check_run`` reads its result as the ``MonitorRun`` recorded, and ``setup_run`` is
what is recorded when the monitor is made. Every ``MonitorRun`` is built here.

The set-up knows only what the plan's own search fetched (twice the volume), while a check searches wider
(``monitor_max_results``): so the monitor's first check is due at once and takes the baseline — it learns what
is there and reports nothing as new. Only from the second check on are businesses reported as new.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from wyshbone.domain.models import (
    LeadGenExecutionResult,
    LeadGenPlan,
    LeadGenPlanStep,
    LeadGenStepStatus,
    LeadToolIdentifier,
    PlanStatus,
)
from wyshbone.domain.monitors import Monitor, MonitorRun, next_run_after, report
from wyshbone.domain.personas import pluralize
from wyshbone.domain.planner import step_id, validate_plan
from wyshbone.domain.steps import NewLeadsParams, SaveNewOutput, SaveNewParams, SequenceOutput

__all__ = ["NEW_LEADS_STEP", "SAVE_NEW_STEP", "check_run", "check_title", "plan_check", "setup_run"]

T = LeadToolIdentifier
NEW_LEADS_STEP = step_id(T.MONITOR_NEW_LEADS)
SAVE_NEW_STEP = step_id(T.MONITOR_SAVE_NEW)
_SOURCE_KEYS = ("sourceStepId", "leadsStepId")
"""The params by which a follow-up step names the step whose leads it reads."""


def check_title(origin: LeadGenPlan) -> str:
    """ "Check for new coffee shops in Manchester": the check plan's goal, as a history lists it."""
    goal = origin.goal
    return f"Check for new {pluralize(goal.target_persona or 'business', 2)} in {goal.target_region or goal.country}"


def plan_check(
    monitor: Monitor, origin: LeadGenPlan, *, plan_id: str, created_at: datetime, baseline: bool
) -> LeadGenPlan:
    """The check of ``monitor`` (made by the plan ``origin``) as a plan, executing: the monitor's search, the
    businesses it does not know yet, the enrichment the plan gave its leads (for the new ones only), the new ones
    saved to the list, then the plan's outreach steps, whose sequence gains drafts for the leads it lacks.

    ``baseline``: the monitor has none yet; the check learns what it finds and reports nothing new."""
    search = monitor.search
    search_id = str(search["stepId"])
    follow_ups = list(search.get("followUps", []))
    enrichment = [f for f in follow_ups if f["kind"] == "enrich"]
    enrich_ids = [str(f["stepId"]) for f in enrichment]
    steps = [
        _search_step(search, origin),
        LeadGenPlanStep(
            id=NEW_LEADS_STEP,
            title="Leave out businesses already known",
            tool=T.MONITOR_NEW_LEADS,
            params=NewLeadsParams(
                monitor_id=monitor.id, source_step_id=search_id, baseline=baseline
            ).to_json_dict(),
            depends_on=[search_id],
            description="Keep only the businesses the monitor has not seen before.",
            required=True,
        ),
        *(_follow_up(f, origin, {search_id: NEW_LEADS_STEP}, limit=None) for f in enrichment),
        _save_step(monitor, search_id, enrich_ids, next_run_at=next_run_after(monitor.cadence, created_at)),
        *(_outreach_step(f, origin) for f in follow_ups if f["kind"] == "outreach"),
    ]
    check = LeadGenPlan(
        id=plan_id,
        user_id=monitor.user_id,
        goal=origin.goal.model_copy(update={"raw_goal": check_title(origin)}),
        steps=steps,
        status=PlanStatus.EXECUTING,
        created_at=created_at,
        monitor_id=monitor.id,
    )
    validate_plan(check)
    return check


def _search_step(search: Mapping[str, Any], origin: LeadGenPlan) -> LeadGenPlanStep:
    """The monitor's search: the plan's search step, looking as wide as the monitor looks."""
    known = {s.id: s for s in origin.steps}
    step_id_ = str(search["stepId"])
    return LeadGenPlanStep(
        id=step_id_,
        title=str(search["title"]),
        tool=str(search["tool"]),
        params=dict(search["params"]),
        description=known[step_id_].description if step_id_ in known else "",
        required=True,
        providers=[str(p) for p in search.get("providers", [])],
    )


def _follow_up(
    spec: Mapping[str, Any], origin: LeadGenPlan, renamed: Mapping[str, str], **params: Any
) -> LeadGenPlanStep:
    """One of the plan's follow-up steps, reading from the check's steps (``renamed``: plan's → check's)."""
    known = {s.id: s for s in origin.steps}
    original = known.get(str(spec["stepId"]))
    sources = {k: renamed.get(v, v) for k, v in spec["params"].items() if k in _SOURCE_KEYS}
    return LeadGenPlanStep(
        id=str(spec["stepId"]),
        title=str(spec["title"]),
        tool=str(spec["tool"]),
        params={**spec["params"], **sources, **params},
        depends_on=_renamed(original.depends_on if original else sources.values(), renamed),
        waits_for=_renamed(original.waits_for if original else (), renamed),
        description=original.description if original else "",
        providers=list(original.providers) if original else [],
    )


def _renamed(ids: Iterable[str], renamed: Mapping[str, str]) -> list[str]:
    return list(dict.fromkeys(renamed.get(i, i) for i in ids))


def _save_step(
    monitor: Monitor, search_id: str, enrich_ids: list[str], *, next_run_at: datetime
) -> LeadGenPlanStep:
    params = SaveNewParams(
        monitor_id=monitor.id,
        source_step_id=NEW_LEADS_STEP,
        search_step_id=search_id,
        enrichment_step_ids=enrich_ids,
        list_id=monitor.list_id,
        next_run_at=next_run_at,
    )
    return LeadGenPlanStep(
        id=SAVE_NEW_STEP,
        title="Save the new businesses to the list",
        tool=T.MONITOR_SAVE_NEW,
        params=params.to_json_dict(),
        depends_on=[NEW_LEADS_STEP],
        waits_for=enrich_ids,  # enrichment is optional: the new leads are saved with whatever it found
        description="Add the new businesses to the list, and remember every business found.",
        required=True,
    )


def _outreach_step(spec: Mapping[str, Any], origin: LeadGenPlan) -> LeadGenPlanStep:
    """The plan's outreach step, adding the list's new leads to the plan's own sequence."""
    step = _follow_up(spec, origin, {str(spec["params"]["sourceStepId"]): SAVE_NEW_STEP}, planId=origin.id)
    return step.model_copy(update={"depends_on": [SAVE_NEW_STEP], "waits_for": []})


def setup_run(*, found: int, known: int, at: datetime) -> MonitorRun:
    """What is recorded when the monitor is made: what the plan's search found, all of it known; the first
    check, due at once, takes the baseline with the wider search."""
    return MonitorRun(
        monitor_id=0,
        kind="setup",
        status="succeeded",
        started_at=at,
        finished_at=at,
        found=found,
        message=f"Watching for new businesses beyond the {known} known now; "
        "the first check, due at once, learns what else is already there.",
    )


def takes_baseline(check: LeadGenPlan) -> bool:
    """Whether the check was planned to take the monitor's baseline (its new-leads step says so)."""
    step = next((s for s in check.steps if s.id == NEW_LEADS_STEP), None)
    return step is not None and NewLeadsParams.model_validate(step.params).baseline


def check_run(
    monitor: Monitor,
    check: LeadGenPlan,
    result: LeadGenExecutionResult,
    *,
    kind: str,
    started: datetime,
    finished: datetime,
    crash: str | None = None,
) -> MonitorRun:
    """What the check came to, as the monitor's run: what it found, what was new and saved, how many of them
    were drafted for outreach, and the sentence that says so; failed, with why, unless the new were saved.
    ``crash``: the check stopped short of its result, with this exception."""
    by_id = {r.step_id: r for r in result.step_results}
    saved = by_id.get(SAVE_NEW_STEP)
    output = saved.output_as(SaveNewOutput) if saved is not None else None
    run = MonitorRun(
        monitor_id=monitor.id,
        kind="baseline" if takes_baseline(check) else kind,
        status="failed" if output is None else "succeeded",
        started_at=started,
        finished_at=finished,
        plan_id=check.id,
    )
    if output is None:
        what, error = ("search", f"internal error ({crash})") if crash else _failure(check, result)
        message = f"The {what} failed ({error}); it will be tried again at the next check."
        return run.model_copy(update={"kind": kind, "error": error, "message": message})
    if run.kind == "baseline":
        message = (
            f"Baseline taken: {output.found} found now; later checks report only businesses beyond these."
        )
        return run.model_copy(update={"found": output.found, "message": message})
    # The outreach step drafts every lead of the list its sequence lacks; of those, this check's are the new ones.
    drafted = min(sum(o.newly_drafted for o in _drafts(check, result)), output.new)
    goal = check.goal
    text = report(
        output.new,
        persona=goal.target_persona,
        region=goal.target_region or goal.country,
        since=monitor.last_success_at or monitor.created_at,
        now=finished,
    )
    if output.new and drafted:
        text = f"{text} {drafted} of them drafted for outreach."
    update = {"found": output.found, "new": output.new, "new_leads": output.names, "message": text}
    return run.model_copy(update=update | {"drafted": drafted if output.new else 0})


def _failure(check: LeadGenPlan, result: LeadGenExecutionResult) -> tuple[str, str]:
    """What failed ("search", or "check" for a later step) and why: the first required step that did not
    succeed, in the plan's order."""
    by_id = {r.step_id: r for r in result.step_results}
    for index, step in enumerate(check.steps):
        res = by_id.get(step.id)
        if step.required and res is not None and res.status is not LeadGenStepStatus.SUCCEEDED:
            what = "search" if index == 0 else "check"
            return what, res.error_message or f"the {what} was {res.status.value}"
    return "check", f"the check was {result.overall_status.value}"


def _drafts(check: LeadGenPlan, result: LeadGenExecutionResult) -> list[SequenceOutput]:
    """What the check's outreach steps drafted."""
    ids = {s.id for s in check.steps if s.tool == T.EMAIL_SEQUENCE_SETUP}
    found = (r.output_as(SequenceOutput) for r in result.step_results if r.step_id in ids)
    return [o for o in found if o is not None]
