"""A plan with email and monitoring, end to end, through the command line as a user would run it.

A made-up directory of Manchester cafés (the real gazetteer reads the goal), the fake Hunter for their
addresses, and a local SMTP server (STARTTLS, login) that records what it receives. Runs on SQLite and Postgres.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.fakes.cafes import GOAL, NEW_CAFES, WRITTEN_TO, World, list_id_of
from tests.fakes.smtp import PASSWORD

pytestmark = pytest.mark.data


def _steps(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["stepId"]: r for r in result["stepResults"]}


def test_a_plan_with_email_and_monitoring_drafts_sends_once_and_reports_only_new_businesses(
    world: World,
) -> None:
    # An address and a whole domain were on the suppression list before the plan ran.
    world.cli("outreach", "suppress", "hello@quietplease.co.uk", "blockedbrew.co.uk")

    result = world.cli_json("run", GOAL, "--yes")
    steps = _steps(result)
    assert steps["email_sequence_setup_1"]["status"] == "succeeded", steps["email_sequence_setup_1"]
    assert steps["monitor_setup_1"]["status"] == "succeeded", steps["monitor_setup_1"]["errorMessage"]
    list_id = list_id_of(result)

    # Drafts for every lead with an email, none for the suppressed ones; each lead without a draft says why.
    sequence = world.cli_json("outreach", "show", "--list", str(list_id))
    leads = {lead["leadName"]: lead for lead in sequence["leads"]}
    assert {name for name, lead in leads.items() if lead["status"] == "active"} == set(WRITTEN_TO.values())
    assert leads["Quiet Please Cafe"]["status"] == "suppressed"
    assert "hello@quietplease.co.uk" in leads["Quiet Please Cafe"]["reason"]
    assert leads["Blocked Brew"]["status"] == "suppressed"
    assert "blockedbrew.co.uk" in leads["Blocked Brew"]["reason"]
    assert leads["No Inbox Cafe"]["status"] == "skipped"
    assert leads["Offline Cafe"]["reason"] == "no email address found"
    drafts = sequence["messages"]
    assert sorted((m["email"], m["stepKey"]) for m in drafts) == sorted(
        (email, step) for email in WRITTEN_TO for step in ("intro", "follow_up", "last_note")
    )
    assert {m["status"] for m in drafts} == {"draft"}
    # The personal, verified address is chosen over the generic one, and greeted by name.
    maya = next(m for m in drafts if m["email"] == "maya@northerngrind.co.uk" and m["stepKey"] == "intro")
    assert maya["bodyText"].startswith("Hello Maya,")
    for message in drafts:
        assert "Sam Roaster, Good Roast Ltd <sam@roastery.example>" in message["bodyText"]
        assert "1 Mill Lane, Stockport SK1 1AA" in message["bodyText"]
        assert "https://leads.example/outreach/opt-out/" in message["bodyText"]

    # The send command delivers each due message (the intros) once...
    sent = world.cli_json("outreach", "send", "--list", str(list_id))
    assert (sent["due"], sent["sent"], sent["failed"]) == (3, 3, 0)
    received = world.smtp.fake.received
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(WRITTEN_TO)
    assert all(r.tls and r.authenticated for r in received)
    assert all(r.mail_from == "sam@roastery.example" for r in received)
    by_key = {m["idempotencyKey"]: m for m in drafts}
    for mail in received:
        key = mail.message["Message-ID"].strip("<>").split("@")[0]
        assert by_key[key]["stepKey"] == "intro" and by_key[key]["email"] == mail.rcpt_tos[0]
        assert mail.message["List-Unsubscribe"].startswith("<https://leads.example/outreach/opt-out/")
        assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    cake = next(r for r in received if r.rcpt_tos[0] == "info@teaandcake.co.uk").message
    html = cake.get_body(("html",)).get_content()
    assert "Tea &amp; &lt;Cake&gt;" in html and "<Cake>" not in html
    assert "Tea & <Cake>" in cake.get_body(("plain",)).get_content()

    # ...and only once: nothing is due again until the follow-up's day.
    again = world.cli_json("outreach", "send", "--list", str(list_id))
    assert (again["due"], again["sent"]) == (0, 0)
    assert len(world.smtp.fake.received) == 3
    statuses = {
        (m["email"], m["stepKey"]): m["status"]
        for m in world.cli_json("outreach", "show", "--list", str(list_id))["messages"]
    }
    assert {s for (_, step), s in statuses.items() if step == "intro"} == {"sent"}
    assert {s for (_, step), s in statuses.items() if step != "intro"} == {"draft"}

    # The monitor: set up with what the plan knew, its first check due at once.
    monitors = world.cli_json("monitors", "list")
    assert len(monitors) == 1 and monitors[0]["cadence"] == "weekly" and monitors[0]["status"] == "active"
    assert monitors[0]["known"] == 7  # businesses (each is known by its record and by its name and postcode)
    assert monitors[0]["lastRun"]["kind"] == "setup"
    monitor_id = str(monitors[0]["id"])
    listed = " ".join(world.cli("monitors", "list").split())
    assert "due now" in listed and "Set up" in listed and "setup" not in listed
    before = json.loads(world.cli("leads", result["planId"]))
    # The first check takes the baseline: it learns what is there, reports nothing new and drafts nothing.
    baseline = " ".join(world.cli("monitors", "run", monitor_id).split())
    assert "Baseline taken: 7 found now; later checks report only businesses beyond these." in baseline
    assert "new coffee shop" not in baseline and "drafted" not in baseline
    assert json.loads(world.cli("leads", result["planId"])) == before
    assert len(world.cli_json("outreach", "show", "--list", str(list_id))["messages"]) == 9
    # Then new businesses arrive in the directory; the next check reports and saves exactly those.
    world.add_to_directory(NEW_CAFES)
    out = " ".join(world.cli("monitors", "run", monitor_id).split())
    assert "3 new coffee shops in Manchester since" in out
    # The new businesses got what the plan's leads got: the one with an address found has its drafts.
    assert "1 of them drafted for outreach" in out
    after = json.loads(world.cli("leads", result["planId"]))
    assert len(after) == len(before) + 3
    assert {lead["name"] for lead in after[len(before) :]} == {
        "Fresh Grounds",
        "Second Cup Corner",
        "The Third Wave",
    }
    runs = world.cli_json("monitors", "list")[0]["lastRun"]
    assert (runs["new"], sorted(runs["newLeads"])) == (
        3,
        ["Fresh Grounds", "Second Cup Corner", "The Third Wave"],
    )
    assert world.cli_json("monitors", "list")[0]["known"] == 10

    fresh = [
        m
        for m in world.cli_json("outreach", "show", "--list", str(list_id))["messages"]
        if m["leadName"] == "Fresh Grounds"
    ]
    assert [(m["email"], m["stepKey"], m["status"]) for m in fresh] == [
        ("hi@freshgrounds.co.uk", step, "draft") for step in ("intro", "follow_up", "last_note")
    ]
    # The next send delivers just the new intro: nothing already sent goes again.
    assert world.cli_json("outreach", "send", "--list", str(list_id))["sent"] == 1
    assert [r.rcpt_tos for r in world.smtp.fake.received[3:]] == [["hi@freshgrounds.co.uk"]]

    # A second run finds nothing new and adds nothing.
    assert "No new coffee shops in Manchester since" in world.cli("monitors", "run", monitor_id)
    assert len(json.loads(world.cli("leads", result["planId"]))) == len(after)


def test_running_a_monitor_shows_its_checks_steps_as_wyshbone_run_shows_a_plans(world: World) -> None:
    world.cli_json("run", GOAL, "--yes")
    (monitor,) = world.cli_json("monitors", "list")
    world.add_to_directory(NEW_CAFES)  # the first check takes the baseline all the same
    out = world.cli("monitors", "run", str(monitor["id"]))
    # The check's steps, each with how it went and through what, then how it ended and what it found.
    rows = {
        1: ("Search Wyshbone Global", "Wyshbone directory"),
        2: ("Leave out businesses", "monitor"),
        3: ("Find Company Domains", "Hunter.io"),
        4: ("Enrich Contact Data", "Hunter.io"),
        5: ("Save the new businesses to", "monitor"),
        6: ("Prepare Outreach", "email drafts"),
    }
    for number, (title, via) in rows.items():
        assert re.search(rf"│ {number} │ {title}[^│]*│ done\s+│ 1\s+│ {via}", out), (number, out)
    assert out.index("Finished: succeeded") < out.index("│ 1 │") < out.index("succeeded monitor")
    assert "Baseline taken: 10 found now" in " ".join(out.split())
    assert "monitor_new_leads" not in out and "MONITOR_" not in out  # no step ids or tool names


def test_the_smtp_password_and_the_hunter_key_appear_in_no_output(world: World) -> None:
    result = world.cli_json("run", GOAL, "--yes")
    list_id = str(list_id_of(result))
    outputs = [
        world.cli("outreach", "show", "--list", list_id),
        world.cli("outreach", "send", "--list", list_id),
        world.cli("monitors", "list"),
        json.dumps(result),
        *(p.read_text() for p in (world.tmp / "home" / "logs").glob("*.log")),
    ]
    for text in outputs:
        assert PASSWORD not in text and "s3cret" not in text
        assert world.hunter.api_key not in text


def test_sending_without_an_smtp_server_says_which_setting_and_sends_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    list_id = str(list_id_of(world.cli_json("run", GOAL, "--yes")))
    monkeypatch.delenv("WYSHBONE_SMTP_URL")
    out = world.cli("outreach", "send", "--list", list_id, code=2)
    assert "WYSHBONE_SMTP_URL" in out
    assert world.smtp.fake.received == []
    assert {m["status"] for m in world.cli_json("outreach", "show", "--list", list_id)["messages"]} == {
        "draft"
    }


def test_a_refused_login_stops_the_run_and_leaves_the_message_to_retry(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    list_id = str(list_id_of(world.cli_json("run", GOAL, "--yes")))
    monkeypatch.setenv("WYSHBONE_SMTP_URL", world.smtp.url().replace("s3cret", "wrong"))
    out = world.cli("outreach", "send", "--list", list_id, code=2)
    assert "refused the login" in out and "535" in out and "wrong" not in out
    monkeypatch.setenv("WYSHBONE_SMTP_URL", world.smtp.url())
    sent = world.cli_json("outreach", "send", "--list", list_id)
    # Nothing was pre-suppressed here: all five cafés with an address get their intro, once.
    assert sent["sent"] == sent["due"] == len(world.smtp.fake.received) == 5


def test_bad_input_to_the_outreach_and_monitor_commands_exits_2(world: World) -> None:
    assert re.search(r"no lead list 999", world.cli("outreach", "send", "--list", "999", code=2))
    missing = world.cli("monitors", "run", "42", code=2)
    assert "no monitor 42" in missing and "Step" not in missing  # no check was started, none is shown
    assert "neither an email address nor a domain" in world.cli(
        "outreach", "suppress", "not an address", code=2
    )
