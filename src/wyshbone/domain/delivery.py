"""What a run delivered against what the goal asked for, and why fewer: ``Delivery`` from the plan and its
step results. Pure.

The session's summary, the CLI's last lines and the page's result panel all say it with ``delivery_line``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from wyshbone.domain.leads import select_best
from wyshbone.domain.models import (
    Delivery,
    LeadGenGoal,
    LeadGenPlan,
    LeadGenPlanStep,
    LeadGenStepResult,
    LeadGenStepStatus,
    LeadToolIdentifier,
)
from wyshbone.domain.personas import pluralize
from wyshbone.domain.qualifiers import QUALIFIERS
from wyshbone.domain.steps import SaveListOutput, SaveListParams, SearchOutput

__all__ = [
    "delivery_line",
    "kind",
    "outcome_headline",
    "plan_delivery",
    "saved_nearby",
    "split_reason",
    "step_note",
]

Status = LeadGenStepStatus


def plan_delivery(plan: LeadGenPlan, step_results: Iterable[LeadGenStepResult]) -> Delivery | None:
    """How many leads the list step saved against ``goal.volume``, with a note saying why when fewer.

    None for a plan with no list step (nothing is delivered).
    """
    save = next((s for s in plan.steps if s.tool == LeadToolIdentifier.LEAD_LIST_SAVE), None)
    if save is None:
        return None
    results = {r.step_id: r for r in step_results}
    saved = results.get(save.id)
    delivered = _saved(saved)
    wanted = plan.goal.volume
    if delivered >= wanted:
        return Delivery(wanted=wanted, delivered=delivered)
    clause = _why_fewer(plan, save, saved, results)
    return Delivery(
        wanted=wanted,
        delivered=delivered,
        note=f"{delivered} of {wanted} {kind(plan.goal, wanted)}: {clause}",
    )


def delivery_line(delivery: Delivery, goal: LeadGenGoal, *, nearby: int = 0) -> str:
    """What was saved against what was asked, and where: "Saved 20 coffee shops in Manchester.", "Saved 1 of 10
    gyms: <why fewer>.", and when ``nearby`` of them are outside the place, how many: "… 3 in Leeds, 17 nearby."."""
    inside = delivery.delivered - nearby
    split = f"{inside or 'none'} in {_where(goal)}, {nearby} nearby."
    if delivery.note:
        return f"Saved {delivery.note.rstrip('.')}." + (f" {split}" if nearby else "")
    what = kind(goal, delivery.delivered)
    if nearby:
        return f"Saved {delivery.delivered} {what}: {split}"
    return f"Saved {delivery.delivered} {what} in {_where(goal)}."


def kind(goal: LeadGenGoal, count: int) -> str:
    """The kind asked for, with its qualifiers, agreeing with ``count``: "Italian restaurants", "1 vegan cafe",
    "pubs with outdoor seating"."""
    before = [QUALIFIERS[q].label for q in goal.qualifiers if q in QUALIFIERS and q not in _SAID_AFTER]
    after = [_SAID_AFTER[q] for q in goal.qualifiers if q in _SAID_AFTER]
    return " ".join([*before, pluralize(goal.target_persona or "lead", count), *after])


_SAID_AFTER = {"outdoor_seating": "with outdoor seating"}
"""Qualifiers said after the kind ("cafes with outdoor seating"), not before it."""


def saved_nearby(plan: LeadGenPlan, step_results: Iterable[LeadGenStepResult]) -> int:
    """How many of the saved leads are labelled ``nearby``: the list step keeps the search's best ``volume``
    distinct leads, in its order (``select_best``), so the same choice over the search's leads counts them."""
    save = next((s for s in plan.steps if s.tool == LeadToolIdentifier.LEAD_LIST_SAVE), None)
    results = {r.step_id: r for r in step_results}
    search = results.get(save.params_as(SaveListParams).source_step_id) if save is not None else None
    saved = results.get(save.id) if save is not None else None
    output = search.output_as(SearchOutput) if search is not None else None
    if output is None or not _saved(saved):
        return 0
    kept = select_best(output.leads, _saved(saved))
    return sum(1 for lead in kept if lead.match is not None and lead.match.area == "nearby")


def outcome_headline(outcome: str) -> str:
    """How a finished run ended, as the CLI's table title and the page's headline say it ("Finished: partial")."""
    return "Cancelled" if outcome == "cancelled" else f"Finished: {outcome}"


def split_reason(message: str | None) -> tuple[str, str | None]:
    """A step's message as (what happened, details): the first line is for everyone, the lines after it name
    the settings that fix it ("Not set up: needs a Hunter.io key" / "hunter: set WYSHBONE_HUNTER_API_KEY")."""
    first, _, rest = (message or "").strip().partition("\n")
    return first.strip(), rest.strip() or None


def step_note(result: LeadGenStepResult) -> str | None:
    """Why a step did not succeed, in one line ("Not set up: needs a Hunter.io key"); None when it did."""
    if result.status is Status.SUCCEEDED:
        return None
    what = split_reason(result.error_message)[0]
    if result.status is Status.FAILED:
        return f"Failed: {what}" if what else "Failed"
    if result.status is Status.CANCELLED:
        return "Cancelled"
    if result.status is Status.SKIPPED:
        return what or "Not run"
    return "Not run"


def _saved(result: LeadGenStepResult | None) -> int:
    output = result.output_as(SaveListOutput) if result is not None and result.data else None
    return output.saved if output is not None else 0


def _why_fewer(
    plan: LeadGenPlan,
    save: LeadGenPlanStep,
    saved: LeadGenStepResult | None,
    results: Mapping[str, LeadGenStepResult],
) -> str:
    """The first cause that explains the shortfall, in the order a person would look for it."""
    search = results.get(save.params_as(SaveListParams).source_step_id)
    cancelled = any(r.status is Status.CANCELLED for r in results.values())
    if cancelled and (saved is None or saved.status is not Status.SUCCEEDED):
        return "the run was cancelled before the list was saved"
    if search is not None and search.status is Status.FAILED and _found_nothing(search.error_message):
        return f"the search found none in {_where(plan.goal)}{_no_online_search(plan, search.step_id)}"
    if search is not None and search.status is not Status.SUCCEEDED:
        return _search_stopped(search)
    output = (search.output_as(SearchOutput) if search is not None else None) or SearchOutput()
    shortfall = (output.shortfall or "").strip().rstrip(".")
    if shortfall:
        return shortfall
    if search is not None and not output.leads:
        return f"the search found none in {_where(plan.goal)}{_no_online_search(plan, search.step_id)}"
    if saved is None:
        return "the list was not saved"
    if saved.status is Status.FAILED:
        return f"saving the list failed ({_headline(saved.error_message)})"
    if saved.status is Status.SKIPPED:
        return f"the list was not saved ({_headline(saved.error_message)})"
    return _found_too_few(plan, output, _saved(saved), search.step_id if search is not None else "")


def _found_nothing(message: str | None) -> bool:
    """Every provider of the search answered, and none found anything ("local_directory: found nothing")."""
    parts = [part.strip() for part in (message or "").split(";")]
    return bool(message) and all(part.endswith("found nothing") for part in parts)


def _no_online_search(plan: LeadGenPlan, search_id: str) -> str:
    """ " and no online search is set up" when none of the search's online providers is (the plan's estimate
    lists each, configured or not)."""
    online = [c for c in plan.estimate.calls if c.step_id == search_id]
    return "" if any(c.configured for c in online) else " and no online search is set up"


def _search_stopped(search: LeadGenStepResult) -> str:
    why = _headline(search.error_message)
    if search.status is Status.SKIPPED:
        return f"the search did not run ({why})"
    if search.status is Status.CANCELLED:
        return "the run was cancelled during the search"
    return f"the search failed ({why})"


def _found_too_few(plan: LeadGenPlan, output: SearchOutput, delivered: int, search_id: str) -> str:
    found = len(output.leads)
    if found > delivered:
        return f"the search found {found}, and {found - delivered} of them were the same business twice"
    return f"the search found no more in {_where(plan.goal)}{_no_online_search(plan, search_id)}"


def _headline(message: str | None) -> str:
    """The first line of a step's message (the lines after it are details for whoever sets the service up)."""
    first = (message or "no reason given").strip().partition("\n")[0].rstrip(".")
    return first if first[:2].isupper() else first[:1].lower() + first[1:]


def _where(goal: LeadGenGoal) -> str:
    return goal.target_region or goal.country
