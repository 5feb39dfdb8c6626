"""The command line: bad input exits 2 with a message on stderr; the demo shows retries and a skip."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wyshbone.cli import app
from wyshbone.domain.models import LeadGenPlan
from wyshbone.services import Plans

runner = CliRunner()


@pytest.fixture(autouse=True)
def _eighty_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command's output is read at 80 columns, the narrowest terminal we promise to be readable in."""
    monkeypatch.setenv("COLUMNS", "80")


STEP_IDS = re.compile(r"\b[a-z_]+_\d\b")
"""Internal step ids (global_db_search_1, enrich_1, ...): never in what a person reads."""
RAW_WORDS = re.compile(
    r"pending_approval|\bskipped\b|\bcompleted\b|GLOBAL_DB_SEARCH|\bHUNTER_(?:DOMAIN_LOOKUP|ENRICH)\b|LEAD_LIST_SAVE|EMAIL_SEQUENCE_SETUP"
)
"""Raw enum values and tool identifiers."""


def human_part(out: str) -> str:
    """What a person reads: the output without the demo's structured event lines (those are for machines)."""
    return "\n".join(line for line in out.splitlines() if not line.startswith("[LEAD_GEN_PLAN] "))


def assert_readable(out: str) -> None:
    """No step ids, no raw enum values, no doubled words, nothing wider than 80 columns."""
    text = human_part(out)
    assert not STEP_IDS.search(text), STEP_IDS.search(text)
    assert not RAW_WORDS.search(text), RAW_WORDS.search(text)
    assert not re.search(r"\b(\w+) \1\b", text, re.IGNORECASE), re.search(
        r"\b(\w+) \1\b", text, re.IGNORECASE
    )
    assert max(len(line) for line in text.splitlines()) <= 80


def test_cli_demo_shows_progress_retries_and_skipped_dependant_then_the_event_lines() -> None:
    result = runner.invoke(app, ["demo", "--step-seconds", "0"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    ok_run, failing_run = out.split("The enrichment tool failing")
    assert "Search Wyshbone" in ok_run and "Overall: succeeded" in ok_run
    assert "failed" not in ok_run and "retrying" not in ok_run
    # retries are visible, the dependant is not run (and says why, by the step's title), and the plan is partial
    assert "retrying Enrich Contact Data (attempt 2) in 0.5s" in failing_run
    assert "retrying Enrich Contact Data (attempt 3) in 1.0s" in failing_run
    assert "Prepare Outreach: Skipped because 'Enrich Contact Data' did not complete" in failing_run
    assert "Finished: partial" in failing_run and "Overall: partial" in failing_run
    assert_readable(out)

    # after each run's table: its structured event lines, one JSON object each, as the spec's test script shows
    for run, last in ((ok_run, "succeeded"), (failing_run, "partial")):
        lines = [line for line in run.splitlines() if line.startswith("[LEAD_GEN_PLAN] ")]
        events = [json.loads(line.removeprefix("[LEAD_GEN_PLAN] ")) for line in lines]
        assert run.index("Overall:") < run.index("[LEAD_GEN_PLAN] ")
        assert events[0]["type"] == "PLAN_STARTED" and (events[-1]["type"], events[-1]["status"]) == (
            "PLAN_COMPLETED",
            last,
        )
        assert {"timestamp", "type", "planId", "userId", "status"} <= set(events[-1])
    failing = [
        json.loads(line.split(" ", 1)[1]) for line in failing_run.splitlines() if "[LEAD_GEN_PLAN]" in line
    ]
    assert [(e["type"], e.get("stepId")) for e in failing if e["type"].startswith("STEP_")] == [
        ("STEP_STARTED", "search_1"),
        ("STEP_SUCCEEDED", "search_1"),
        ("STEP_STARTED", "enrich_1"),
        ("STEP_RETRYING", "enrich_1"),
        ("STEP_RETRYING", "enrich_1"),
        ("STEP_FAILED", "enrich_1"),
        ("STEP_SKIPPED", "outreach_1"),
    ]


def test_cli_plan_at_80_columns_says_what_is_missing_in_words_and_which_setting(data_dir: Path) -> None:
    result = runner.invoke(app, ["plan", "Find 20 coffee shops in Manchester and email them"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert_readable(out)
    assert "Understood: 20 coffee shops in Manchester (GB)" in out
    assert "Find Company Domains: Not set up: needs a Hunter.io key" in out
    assert "hunter: set WYSHBONE_HUNTER_API_KEY" in out  # the details line, under it
    assert "Prepare Outreach: Not set up: needs your name, your email address and your" in out


def test_cli_plan_shows_the_qualifiers_in_the_understood_line(data_dir: Path) -> None:
    result = runner.invoke(app, ["plan", "Find 20 Italian restaurants in Birmingham"])
    assert result.exit_code == 0, result.stderr
    understood = result.stdout.split("Understood:", 1)[1].split("\n", 1)[0]
    assert "must be: Italian" in understood


@pytest.mark.parametrize(
    ("args", "qualifiers"),
    [
        (["Find 10 restaurants in York", "--must-be", "italian"], ["italian"]),  # added to the goal's reading
        (["Find 10 Italian restaurants in York", "--must-be", ""], []),  # "" asks for none
        (["Find 10 pubs in York", "--must-be", "dog-friendly, real ale"], ["dog_friendly", "real_ale"]),
    ],
)
def test_cli_plan_must_be_replaces_the_qualifiers_read_from_the_goal(
    args: list[str], qualifiers: list[str], data_dir: Path
) -> None:
    result = runner.invoke(app, ["plan", *args, "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["goal"]["qualifiers"] == qualifiers


def test_cli_run_prints_the_plans_warnings_before_asking_for_approval(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The warning's wording is the planner's; here the plan carries one whatever the directory holds.
    warning = "The directory holds 1 business like 'gym' in Manchester; 10 were asked for."
    planned = Plans.plan

    def plan_with_warning(self: Plans, *args: Any, **kwargs: Any) -> LeadGenPlan:
        return planned(self, *args, **kwargs).model_copy(update={"warnings": [warning]})

    monkeypatch.setattr(Plans, "plan", plan_with_warning)
    result = runner.invoke(app, ["run", "10 gyms in Manchester"], input="n\n")
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert out.index("Before you approve:") < out.index(warning[:40]) < out.index("Approve this plan?")
    assert "Not approved: nothing was run." in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", ""], "the goal is empty"),  # empty goal
        (["plan", "   "], "the goal is empty"),  # blank goal
        (["run", "--yes", ""], "the goal is empty"),
        (["plan", "hello"], "I can't plan that goal"),  # unplannable
        (["run", "find stuff", "--yes"], "I can't plan that goal"),
        (["run", "Find 20 pubs in Leeds", "--bogus"], "No such option"),  # unknown flag
        (["plan", "Find 20 pubs in Leeds", "--must-be", "spicy"], "I don't know the qualifier 'spicy'"),
    ],
)
def test_cli_bad_input_exits_2_with_message_and_writes_nothing(
    args: list[str], message: str, data_dir: Path, tmp_path: Path
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "home" / "wyshbone.sqlite").exists()


def test_cli_plan_json_is_the_plan_in_camel_case(data_dir: Path) -> None:
    result = runner.invoke(app, ["plan", "Find 50 pubs in Leeds and email them", "--json"])
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["goal"]["targetPersona"] == "pub"
    assert plan["goal"]["volume"] == 50
    assert [s["tool"] for s in plan["steps"]][-1] == "EMAIL_SEQUENCE_SETUP"
    assert plan["steps"][0]["params"]["maxResults"] == 100
    skipped = {s["stepId"] for s in plan["estimate"]["steps"] if not s["willRun"]}
    assert skipped >= {"hunter_domain_lookup_1", "hunter_enrich_1", "email_sequence_setup_1"}


@pytest.mark.data
def test_cli_run_saves_twenty_real_manchester_coffee_shops(
    real_db: tuple[Path, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WYSHBONE_DIRECTORY_PATH", str(real_db[0]))
    result = runner.invoke(app, ["run", "Find 20 coffee shops in Manchester", "--yes", "--json"])
    assert result.exit_code == 0, result.stderr
    outcome = json.loads(result.stdout)  # --json: the LeadGenExecutionResult and nothing else on stdout
    steps = {s["stepId"]: s for s in outcome["stepResults"]}
    assert outcome["overallStatus"] == "partial"  # enrichment is skipped by design: not configured
    assert [(sid, s["status"]) for sid, s in steps.items()] == [
        ("global_db_search_1", "succeeded"),
        ("hunter_domain_lookup_1", "skipped"),
        ("hunter_enrich_1", "skipped"),
        ("lead_list_save_1", "succeeded"),
    ]
    assert steps["hunter_enrich_1"]["errorMessage"].startswith("Not set up: needs a Hunter.io key")
    assert steps["global_db_search_1"]["data"]["resultCount"] == 40  # 2 × volume
    assert steps["lead_list_save_1"]["data"]["saved"] == 20

    exported = runner.invoke(app, ["leads", outcome["planId"], "--csv"])
    assert exported.exit_code == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 20
    assert len({(r["name"], r["postcode"]) for r in rows}) == 20  # deduplicated
    assert all(re.match(r"^M\d", r["postcode"]) for r in rows)
    assert all(r["sourceId"].startswith("fsa_fhrs:") for r in rows)

    # leads of an unknown plan: a clear message, exit 2
    missing = runner.invoke(app, ["leads", "no-such-plan"])
    assert missing.exit_code == 2 and "no plan 'no-such-plan'" in missing.stderr


@pytest.mark.data
def test_cli_run_at_80_columns_states_the_outcome_and_the_delivery(
    real_db: tuple[Path, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WYSHBONE_DIRECTORY_PATH", str(real_db[0]))
    result = runner.invoke(app, ["run", "10 gyms in Manchester", "--yes"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert_readable(out)
    assert "Finished: partial" in out  # the table's title: the outcome, never "completed" above a partial run
    assert "Overall: partial" in out
    assert "Find Company Domains: Not set up: needs a Hunter.io key" in out
    # the last lines: what was delivered against what was asked, never "N leads saved" alone
    delivered = re.search(r"^Saved (\d+) of 10 gyms: \S.*$", out, re.MULTILINE)
    assert delivered is not None, out
    assert out.index("Overall: partial") < delivered.start()
    assert not re.search(r"\b1 leads\b|\bleads saved\b", out)


@pytest.mark.data
def test_cli_run_that_delivers_everything_says_so(
    real_db: tuple[Path, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WYSHBONE_DIRECTORY_PATH", str(real_db[0]))
    result = runner.invoke(app, ["run", "Find 5 dentists in Cardiff", "--yes"])
    assert result.exit_code == 0, result.stderr
    assert_readable(result.stdout)
    assert "Saved 5 dentists in Cardiff." in result.stdout
    assert "5 dentists saved" in result.stdout  # the leads table's title


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"WYSHBONE_MAX_VOLUME": "lots"},
            "invalid setting: WYSHBONE_MAX_VOLUME: Input should be a valid integer",
        ),
        ({"WYSHBONE_EXECUTION": "queue"}, "invalid setting: WYSHBONE_EXECUTION=queue needs"),
    ],
)
def test_cli_a_bad_setting_is_named_in_words_and_exits_2(
    env: dict[str, str], message: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(app, ["plan", "Find 20 pubs in Leeds"])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split())
    assert "pydantic" not in result.stderr and "validation error" not in result.stderr
