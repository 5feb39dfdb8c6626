"""What a run delivered against what was asked, and why fewer: ``plan_delivery``, ``delivery_line`` and the
session's summary built on them. Pure; the step results are built by hand in the shapes the tools give."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from wyshbone.domain.delivery import delivery_line, kind, plan_delivery, saved_nearby, split_reason, step_note
from wyshbone.domain.models import (
    Delivery,
    LeadGenContext,
    LeadGenExecutionResult,
    LeadGenGoal,
    LeadGenPlan,
    LeadGenStepResult,
    LeadGenStepStatus,
    LeadToolIdentifier,
    OverallStatus,
)
from wyshbone.domain.planner import ProviderInfo, plan_lead_generation
from wyshbone.services import summarize

S = LeadGenStepStatus
SEARCH, DOMAINS, ENRICH, SAVE = (
    "global_db_search_1",
    "hunter_domain_lookup_1",
    "hunter_enrich_1",
    "lead_list_save_1",
)
NO_HUNTER = "Not set up: needs a Hunter.io key\nhunter: set WYSHBONE_HUNTER_API_KEY"
SHORTFALL = "the directory holds no more gyms in Manchester and no online search is set up"
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def gym_plan(
    volume: int = 10, persona: str | None = "gym", *, email: bool = False, online: bool = False
) -> LeadGenPlan:
    """The plan for the goal; ``online``: with OpenStreetMap set up beside the directory."""
    goal = LeadGenGoal(
        raw_goal=f"{volume} gyms in Manchester",
        target_persona=persona,
        target_region="Manchester",
        volume=volume,
        preferred_channels=["email"] if email else [],
    )
    search = (ProviderInfo("local_directory", True, external=False), ProviderInfo("overpass", online))
    catalog = {LeadToolIdentifier.GLOBAL_DB_SEARCH: search}
    return plan_lead_generation(goal, LeadGenContext(user_id="u1"), catalog=catalog, plan_id="p1")


def leads(n: int) -> list[dict[str, Any]]:
    return [{"name": f"Gym {i}", "source": "fsa_fhrs", "sourceId": f"fsa_fhrs:{i}"} for i in range(n)]


def found(n: int, **extra: Any) -> LeadGenStepResult:
    """The search step, succeeded with ``n`` leads (and what the matching adds: wanted, inside, shortfall…)."""
    return LeadGenStepResult(
        step_id=SEARCH, status=S.SUCCEEDED, data={"resultCount": n, "leads": leads(n), **extra}
    )


def saved(n: int) -> LeadGenStepResult:
    return LeadGenStepResult(
        step_id=SAVE, status=S.SUCCEEDED, data={"saved": n, "listId": 1, "requested": 10}
    )


def step(step_id: str, status: LeadGenStepStatus, message: str | None = None) -> LeadGenStepResult:
    return LeadGenStepResult(step_id=step_id, status=status, error_message=message)


def skipped_enrichment() -> list[LeadGenStepResult]:
    return [
        LeadGenStepResult(step_id=DOMAINS, status=S.SKIPPED, error_message=NO_HUNTER, skipped_by_design=True),
        LeadGenStepResult(step_id=ENRICH, status=S.SKIPPED, error_message=NO_HUNTER, skipped_by_design=True),
    ]


@pytest.mark.parametrize(
    ("volume", "results", "expected"),
    [
        # every lead asked for was saved: nothing to explain
        (10, [found(20), *skipped_enrichment(), saved(10)], Delivery(wanted=10, delivered=10)),
        # fewer, and the search says why (the matching's shortfall clause, read after "1 of 10 gyms: ")
        (
            10,
            [found(1, wanted=10, inside=1, nearby=0, shortfall=SHORTFALL + "."), saved(1)],
            Delivery(wanted=10, delivered=1, note=f"1 of 10 gyms: {SHORTFALL}"),
        ),
        # the search found nothing at all: the list step fails for want of leads, the shortfall still says why
        (
            10,
            [found(0, shortfall=SHORTFALL), step(SAVE, S.FAILED, "no leads to save: step found none")],
            Delivery(wanted=10, delivered=0, note=f"0 of 10 gyms: {SHORTFALL}"),
        ),
        # nothing found and no shortfall from the search: said plainly, not as a saving failure
        (
            10,
            [found(0), step(SAVE, S.FAILED, "no leads to save: step found none")],
            Delivery(
                wanted=10,
                delivered=0,
                note="0 of 10 gyms: the search found none in Manchester and no online search is set up",
            ),
        ),
        # the search failed: its own error, first line only
        (
            10,
            [
                step(SEARCH, S.FAILED, "local_directory: database disk image is malformed"),
                step(SAVE, S.SKIPPED),
            ],
            Delivery(
                wanted=10,
                delivered=0,
                note="0 of 10 gyms: the search failed (local_directory: database disk image is malformed)",
            ),
        ),
        # the search could not run at all (nothing set up for it): what is missing, without the settings line
        (
            10,
            [
                step(
                    SEARCH, S.SKIPPED, "Not set up: needs the business directory imported\nlocal_directory: …"
                ),
                step(SAVE, S.SKIPPED, "Skipped because 'Search Wyshbone Global Database' did not complete"),
            ],
            Delivery(
                wanted=10,
                delivered=0,
                note="0 of 10 gyms: the search did not run (not set up: needs the business directory imported)",
            ),
        ),
        # found, but saving failed
        (
            10,
            [found(12), step(SAVE, S.FAILED, "database is locked")],
            Delivery(
                wanted=10, delivered=0, note="0 of 10 gyms: saving the list failed (database is locked)"
            ),
        ),
        # cancelled before the list was saved
        (
            10,
            [step(SEARCH, S.CANCELLED, "cancelled while running")],
            Delivery(
                wanted=10, delivered=0, note="0 of 10 gyms: the run was cancelled before the list was saved"
            ),
        ),
        # no shortfall clause (a search without matching), and duplicates among what was found
        (
            20,
            [found(12), saved(10)],
            Delivery(
                wanted=20,
                delivered=10,
                note="10 of 20 gyms: the search found 12, and 2 of them were the same business twice",
            ),
        ),
        # no shortfall clause, and every distinct business found was saved
        (
            20,
            [found(7), saved(7)],
            Delivery(
                wanted=20,
                delivered=7,
                note="7 of 20 gyms: the search found no more in Manchester and no online search is set up",
            ),
        ),
        # one asked for: "of 1 gym", not "of 1 gyms"
        (
            1,
            [found(0), step(SAVE, S.FAILED, "no leads to save")],
            Delivery(
                wanted=1,
                delivered=0,
                note="0 of 1 gym: the search found none in Manchester and no online search is set up",
            ),
        ),
    ],
)
def test_plan_delivery_counts_what_was_saved_and_says_why_fewer(
    volume: int, results: list[LeadGenStepResult], expected: Delivery
) -> None:
    assert plan_delivery(gym_plan(volume), results) == expected


def test_plan_delivery_found_nothing_says_so_not_that_the_search_failed() -> None:
    # Every provider answered and found nothing: the executor fails the step, but nothing went wrong.
    nothing = step(SEARCH, S.FAILED, "local_directory: found nothing; overpass: found nothing")
    assert plan_delivery(gym_plan(online=True), [nothing, step(SAVE, S.SKIPPED)]) == Delivery(
        wanted=10, delivered=0, note="0 of 10 gyms: the search found none in Manchester"
    )
    assert plan_delivery(gym_plan(), [step(SEARCH, S.FAILED, "local_directory: found nothing")]) == Delivery(
        wanted=10,
        delivered=0,
        note="0 of 10 gyms: the search found none in Manchester and no online search is set up",
    )


def test_plan_delivery_is_none_without_a_list_step() -> None:
    plan = gym_plan()
    no_list = plan.model_copy(update={"steps": [s for s in plan.steps if s.id != SAVE]})
    assert plan_delivery(no_list, [found(3)]) is None


def test_plan_delivery_without_a_persona_counts_leads() -> None:
    assert plan_delivery(gym_plan(5, persona=None), [found(2), saved(2)]) == Delivery(
        wanted=5,
        delivered=2,
        note="2 of 5 leads: the search found no more in Manchester and no online search is set up",
    )


@pytest.mark.parametrize(
    ("delivery", "volume", "line"),
    [
        # all delivered: the count, the kind (plural agrees) and the place
        (Delivery(wanted=20, delivered=20), 20, "Saved 20 gyms in Manchester."),
        (Delivery(wanted=1, delivered=1), 1, "Saved 1 gym in Manchester."),  # never "1 gyms"
        # fewer: never the count alone, always "N of M" and why
        (
            Delivery(wanted=10, delivered=1, note=f"1 of 10 gyms: {SHORTFALL}"),
            10,
            f"Saved 1 of 10 gyms: {SHORTFALL}.",
        ),
    ],
)
def test_delivery_line_says_what_was_saved_against_what_was_asked(
    delivery: Delivery, volume: int, line: str
) -> None:
    assert delivery_line(delivery, gym_plan(volume).goal) == line


@pytest.mark.parametrize(
    ("delivery", "nearby", "line"),
    [
        # all delivered, some outside the place: never "in Birmingham" for leads that are not
        (
            Delivery(wanted=20, delivered=20),
            20,
            "Saved 20 Italian restaurants: none in Birmingham, 20 nearby.",
        ),
        (Delivery(wanted=20, delivered=20), 0, "Saved 20 Italian restaurants in Birmingham."),
        # fewer, and some of those nearby: why fewer, then where they are
        (
            Delivery(wanted=20, delivered=5, note="5 of 20 Italian restaurants: the directory holds no more"),
            4,
            "Saved 5 of 20 Italian restaurants: the directory holds no more. 1 in Birmingham, 4 nearby.",
        ),
    ],
)
def test_delivery_line_says_how_many_are_nearby(delivery: Delivery, nearby: int, line: str) -> None:
    goal = LeadGenGoal(
        raw_goal="20 Italian restaurants in Birmingham",
        target_persona="restaurant",
        target_region="Birmingham",
        volume=20,
        qualifiers=["italian"],
    )
    assert delivery_line(delivery, goal, nearby=nearby) == line


@pytest.mark.parametrize(
    ("persona", "qualifiers", "count", "said"),
    [
        ("restaurant", ["italian"], 20, "Italian restaurants"),  # a qualifier before the kind
        ("cafe", ["vegan", "independent"], 1, "vegan independent cafe"),  # agreeing with one
        (
            "pub",
            ["outdoor_seating", "dog_friendly"],
            3,
            "dog-friendly pubs with outdoor seating",
        ),  # one after it
        (None, [], 2, "leads"),  # no kind read: leads
    ],
)
def test_kind_says_the_qualifiers_with_the_kind(
    persona: str | None, qualifiers: list[str], count: int, said: str
) -> None:
    goal = LeadGenGoal(raw_goal="x", target_persona=persona, qualifiers=qualifiers)
    assert kind(goal, count) == said


def test_saved_nearby_counts_the_saved_leads_labelled_nearby() -> None:
    plan = gym_plan(4)
    found_leads = leads(6)
    for i, lead in enumerate(found_leads):
        lead["match"] = {"area": "inside" if i < 2 else "nearby", "kind": "category", "reasons": []}
    found_leads[1]["sourceId"] = found_leads[0]["sourceId"]  # the same business twice: kept once
    search = LeadGenStepResult(step_id=SEARCH, status=S.SUCCEEDED, data={"leads": found_leads})
    assert saved_nearby(plan, [search, saved(4)]) == 3  # 1 inside (the duplicate dropped), then 3 nearby
    assert saved_nearby(plan, [search, step(SAVE, S.FAILED, "database is locked")]) == 0


@pytest.mark.parametrize(
    ("result", "note"),
    [
        (saved(3), None),  # succeeded: nothing to say
        # not set up: what is missing (the settings line is for the details)
        (step(DOMAINS, S.SKIPPED, NO_HUNTER), "Not set up: needs a Hunter.io key"),
        # blocked by a step before it: already in words
        (
            step(SAVE, S.SKIPPED, "Skipped because 'Search' did not complete"),
            "Skipped because 'Search' did not complete",
        ),
        (step(ENRICH, S.FAILED, "hunter: 401 bad key"), "Failed: hunter: 401 bad key"),
        (step(ENRICH, S.CANCELLED, "cancelled while running"), "Cancelled"),
    ],
)
def test_step_note_says_why_a_step_did_not_succeed(result: LeadGenStepResult, note: str | None) -> None:
    assert step_note(result) == note


def test_split_reason_keeps_the_settings_for_the_details() -> None:
    assert split_reason(NO_HUNTER) == (
        "Not set up: needs a Hunter.io key",
        "hunter: set WYSHBONE_HUNTER_API_KEY",
    )
    assert split_reason("Skipped because 'Search' did not complete") == (
        "Skipped because 'Search' did not complete",
        None,
    )


def test_summarize_states_the_outcome_the_delivery_and_each_step_that_did_not_run() -> None:
    plan = gym_plan(10, email=True)
    results = [
        found(1, shortfall=SHORTFALL),
        *skipped_enrichment(),
        saved(1),
        step("email_sequence_setup_1", S.SKIPPED, "Not set up: needs your name\noutreach_drafts: set …"),
    ]
    result = LeadGenExecutionResult(
        plan_id="p1",
        overall_status=OverallStatus.PARTIAL,
        started_at=NOW,
        finished_at=NOW,
        step_results=results,
        delivery=plan_delivery(plan, results),
    )
    assert summarize(plan, result).split("\n") == [
        "Finished: partial.",
        f"Saved 1 of 10 gyms: {SHORTFALL}.",
        "Find Company Domains — not set up: needs a Hunter.io key.",
        "Enrich Contact Data — not set up: needs a Hunter.io key.",
        "Prepare Outreach — not set up: needs your name.",
    ]
