"""The command line: bad input exits 2 with a message on stderr; the demo shows retries and a skip."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wyshbone.cli import app

runner = CliRunner()


def test_cli_demo_shows_progress_retries_and_skipped_dependant() -> None:
    result = runner.invoke(app, ["demo", "--step-seconds", "0"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    ok_run, failing_run = out.split("The enrichment tool failing")
    assert "Search Wyshbone" in ok_run and "Overall: succeeded" in ok_run
    assert "failed" not in ok_run and "retrying" not in ok_run
    # retries are visible, the dependant is skipped, and the plan is partial (enrichment is optional)
    assert "retrying enrich_1 (attempt 2) in 0.5s" in failing_run
    assert "retrying enrich_1 (attempt 3) in 1.0s" in failing_run
    assert "outreach_1 skipped: depends on enrich_1" in failing_run
    assert "Overall: partial" in failing_run


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", ""], "the goal is empty"),  # empty goal
        (["plan", "   "], "the goal is empty"),  # blank goal
        (["run", "--yes", ""], "the goal is empty"),
        (["plan", "hello"], "I can't plan that goal"),  # unplannable
        (["run", "find stuff", "--yes"], "I can't plan that goal"),
        (["run", "Find 20 pubs in Leeds", "--bogus"], "No such option"),  # unknown flag
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
    assert "no provider configured" in steps["hunter_enrich_1"]["errorMessage"]
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
