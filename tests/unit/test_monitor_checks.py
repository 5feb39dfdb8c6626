"""A monitor's check as a plan, and the run it comes to: pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.test_planner import CTX, goal
from wyshbone.domain.models import (
    LeadGenExecutionResult,
    LeadGenPlan,
    LeadGenStepResult,
    LeadGenStepStatus,
    OverallStatus,
    PlanStatus,
)
from wyshbone.domain.monitor_checks import check_run, plan_check
from wyshbone.domain.monitors import Cadence, Monitor
from wyshbone.domain.planner import plan_lead_generation, validate_plan
from wyshbone.domain.steps import SaveNewOutput, SequenceOutput
from wyshbone.tools.monitor import monitor_search

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
OK = LeadGenStepStatus.SUCCEEDED


def origin(**overrides: object) -> LeadGenPlan:
    watched = goal(**{"preferred_channels": ["email"], "include_monitoring": True, **overrides})
    return plan_lead_generation(watched, CTX, plan_id="p1")


def monitor_of(plan: LeadGenPlan, *, last_success: datetime | None = T0) -> Monitor:
    return Monitor(
        id=7,
        plan_id=plan.id,
        step_id="monitor_setup_1",
        session_id="s1",
        user_id="u1",
        list_id=3,
        name="New coffee shop leads in Manchester",
        search=monitor_search(plan, "global_db_search_1", "lead_list_save_1", 200),
        cadence=Cadence.WEEKLY,
        status="active",
        next_run_at=T0,
        last_success_at=last_success,
        created_at=T0 - timedelta(days=7),
    )


def test_plan_check_is_the_monitors_search_then_only_the_new_through_the_plans_follow_ups() -> None:
    plan = origin()
    check = plan_check(monitor_of(plan), plan, plan_id="c1", created_at=T0, baseline=False)
    validate_plan(check)
    assert (check.id, check.monitor_id, check.status, check.user_id) == ("c1", 7, PlanStatus.EXECUTING, "u1")
    assert check.goal.raw_goal == "Check for new coffee shops in Manchester"
    shape = [(s.id, s.tool, s.depends_on, s.waits_for, s.required) for s in check.steps]
    assert shape == [
        ("global_db_search_1", "GLOBAL_DB_SEARCH", [], [], True),
        ("monitor_new_leads_1", "MONITOR_NEW_LEADS", ["global_db_search_1"], [], True),
        ("hunter_domain_lookup_1", "HUNTER_DOMAIN_LOOKUP", ["monitor_new_leads_1"], [], False),
        ("hunter_enrich_1", "HUNTER_ENRICH", ["hunter_domain_lookup_1"], [], False),
        (
            "monitor_save_new_1",
            "MONITOR_SAVE_NEW",
            ["monitor_new_leads_1"],
            ["hunter_domain_lookup_1", "hunter_enrich_1"],
            True,
        ),
        ("email_sequence_setup_1", "EMAIL_SEQUENCE_SETUP", ["monitor_save_new_1"], [], False),
    ]
    assert check.step("global_db_search_1").params["maxResults"] == 200  # the monitor looks wider
    assert check.step("monitor_new_leads_1").params == {
        "monitorId": 7,
        "sourceStepId": "global_db_search_1",
        "baseline": False,
    }
    # Enrichment reads the new leads only, and all of them.
    domains, emails = check.step("hunter_domain_lookup_1").params, check.step("hunter_enrich_1").params
    assert (domains["sourceStepId"], domains["limit"]) == ("monitor_new_leads_1", None)
    assert (emails["sourceStepId"], emails["leadsStepId"], emails["limit"]) == (
        "hunter_domain_lookup_1",
        "monitor_new_leads_1",
        None,
    )
    save = check.step("monitor_save_new_1").params
    assert (save["listId"], save["searchStepId"], save["nextRunAt"]) == (
        3,
        "global_db_search_1",
        "2026-11-09T09:00:00Z",
    )
    # The drafts join the plan's own sequence.
    outreach = check.step("email_sequence_setup_1").params
    assert (outreach["sourceStepId"], outreach["planId"]) == ("monitor_save_new_1", "p1")


def test_plan_check_without_outreach_or_with_no_baseline_yet() -> None:
    plan = origin(preferred_channels=[])
    check = plan_check(monitor_of(plan, last_success=None), plan, plan_id="c1", created_at=T0, baseline=True)
    assert [s.tool for s in check.steps][-1] == "MONITOR_SAVE_NEW"
    assert check.step("monitor_new_leads_1").params["baseline"] is True


def _result(
    *results: LeadGenStepResult, status: OverallStatus = OverallStatus.SUCCEEDED
) -> LeadGenExecutionResult:
    return LeadGenExecutionResult(
        plan_id="c1", overall_status=status, started_at=T0, finished_at=T0, step_results=list(results)
    )


def _saved(new: int) -> LeadGenStepResult:
    names = ["Fresh Grounds", "Second Cup Corner"][:new]
    data = SaveNewOutput(list_id=3, found=9, new=new, names=names).to_json_dict()
    return LeadGenStepResult(step_id="monitor_save_new_1", status=OK, data=data)


def _drafted(n: int) -> LeadGenStepResult:
    data = SequenceOutput(sequence_id=1, list_id=3, newly_drafted=n).to_json_dict()
    return LeadGenStepResult(step_id="email_sequence_setup_1", status=OK, data=data)


@pytest.mark.parametrize(
    ("results", "last_success", "expected"),
    [
        # two new, one drafted
        (
            (_saved(2), _drafted(1)),
            T0,
            (
                "manual",
                "succeeded",
                9,
                2,
                1,
                "2 new coffee shops in Manchester since 2 Nov. 1 of them drafted",
            ),
        ),
        # nothing new: no drafts mentioned
        ((_saved(0), _drafted(0)), T0, ("manual", "succeeded", 9, 0, 0, "No new coffee shops in Manchester")),
        # no baseline yet: this check takes it
        (
            (_saved(0),),
            None,
            ("baseline", "succeeded", 9, 0, 0, "Baseline taken: 9 found now"),
        ),
        # the search failed: nothing saved, the reason said
        (
            (
                LeadGenStepResult(
                    step_id="global_db_search_1", status=LeadGenStepStatus.FAILED, error_message="down"
                ),
            ),
            T0,
            (
                "manual",
                "failed",
                0,
                0,
                0,
                "The search failed (down); it will be tried again at the next check.",
            ),
        ),
    ],
)
def test_check_run_reads_the_checks_result(
    results: tuple[LeadGenStepResult, ...],
    last_success: datetime | None,
    expected: tuple[str, str, int, int, int, str],
) -> None:
    plan = origin()
    monitor = monitor_of(plan, last_success=last_success)
    check = plan_check(monitor, plan, plan_id="c1", created_at=T0, baseline=last_success is None)
    run = check_run(monitor, check, _result(*results), kind="manual", started=T0, finished=T0)
    assert (run.kind, run.status, run.found, run.new, run.drafted) == expected[:5]
    assert (run.message or "").startswith(expected[5])
    assert (run.plan_id, run.monitor_id) == ("c1", 7)


def test_check_run_of_a_crashed_check_says_so() -> None:
    plan = origin()
    monitor = monitor_of(plan)
    check = plan_check(monitor, plan, plan_id="c1", created_at=T0, baseline=False)
    run = check_run(
        monitor,
        check,
        _result(status=OverallStatus.FAILED),
        kind="scheduled",
        started=T0,
        finished=T0,
        crash="KeyError",
    )
    assert (run.status, run.error) == ("failed", "internal error (KeyError)")
