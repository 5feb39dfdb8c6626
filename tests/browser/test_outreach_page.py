"""Outreach and monitors on the page, in headless Chromium: the drafts after a plan, sending them through a local
SMTP server, a reply, and the weekly monitor (run now, pause, delete). The made-up Manchester cafés, the fake Hunter
and the local SMTP server of ``tests/fakes/cafes.py``; the real app served by uvicorn in a thread."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="BROWSER TESTS SKIPPED: playwright is not installed")
from playwright.sync_api import Browser, Dialog, Error, Locator, Page, expect

from tests.browser.support import shot
from tests.fakes.cafes import GOAL, NEW_CAFES, WRITTEN_TO, World, cafe_world
from tests.fakes.server import serve_asgi
from wyshbone.config import Settings
from wyshbone.web import create_app

SUPPRESSED = ["hello@quietplease.co.uk", "blockedbrew.co.uk"]
"""An address and a whole domain on the account's suppression list before the plan runs."""
pytestmark = [pytest.mark.data, pytest.mark.timeout(240)]


@pytest.fixture
def world(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with cafe_world(tmp_path, data_dir, f"sqlite:///{tmp_path / 'store.sqlite'}", monkeypatch) as the_world:
        monkeypatch.setenv("WYSHBONE_MONITOR_TICK_SECONDS", "0")  # only "Run now" runs the monitor here
        yield the_world


def script_errors(page: Page) -> list[str]:
    """Every uncaught script error on the page, as it happens."""
    errors: list[str] = []

    def record(error: Error) -> None:
        errors.append(str(error))

    page.on("pageerror", record)
    return errors


def run_goal(page: Page) -> None:
    """Goal → fields → plan → approve, then wait for the finished plan's leads."""
    page.fill("#goal-text", GOAL)
    page.click("#save-goal")
    expect(page.locator("#f-email")).to_be_checked()
    expect(page.locator("#f-monitor")).to_be_checked()
    page.click("#start-goal")
    expect(page.locator("#plan-steps li")).to_have_count(6)
    page.click("#approve-plan")
    expect(page.locator("#progress-summary")).to_contain_text("Finished: ", timeout=30_000)
    expect(page.locator("#leads-table tbody tr")).to_have_count(7)


@contextmanager
def planned_page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """The app served from the current settings, a page that has planned and run the goal, its script errors."""
    with serve_asgi(create_app(Settings()), lifespan="on", graceful_seconds=5) as base:
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        page = context.new_page()
        errors = script_errors(page)
        page.goto(base + "/")
        run_goal(page)
        try:
            yield page, errors
        finally:
            context.close()


def test_outreach_and_monitors_on_the_page(world: World, browser: Browser) -> None:
    with serve_asgi(create_app(Settings()), lifespan="on", graceful_seconds=5) as base:
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        page = context.new_page()
        dialogs: list[str] = []
        errors = script_errors(page)

        def accept(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.accept()

        page.on("dialog", accept)
        page.goto(base + "/")
        expect(page.locator("#monitors-section")).to_be_hidden()  # none yet in this session
        expect(page.locator("#outreach-section")).to_be_hidden()
        # The same session as the page (its cookie): suppress an address and a domain before planning.
        suppressed = page.request.post(base + "/api/suppressions", data={"values": SUPPRESSED})
        assert suppressed.ok, suppressed.text()

        run_goal(page)

        # The outreach panel: who got drafts, and why the others did not (names stay text, markup and all).
        expect(page.locator("#outreach-section")).to_be_visible()
        expect(page.locator("#outreach-summary")).to_have_text("3 leads drafted · 4 not drafted")
        expect(page.locator("#outreach-detail")).to_contain_text("9 messages: 9 draft")
        expect(page.locator("#outreach-detail")).to_contain_text("Sam Roaster, Good Roast Ltd")
        lead_rows = page.locator("#outreach-leads tbody tr")
        expect(lead_rows).to_have_count(7)

        def lead(name: str) -> Locator:
            return lead_rows.filter(has=page.locator("td", has_text=name))

        for name in WRITTEN_TO.values():
            expect(lead(name)).to_contain_text("active")
        expect(lead("Tea & <Cake>")).to_contain_text("info@teaandcake.co.uk")
        expect(lead("Quiet Please Cafe")).to_contain_text("suppressed")
        expect(lead("Quiet Please Cafe")).to_contain_text(
            "hello@quietplease.co.uk is on the suppression list"
        )
        expect(lead("Blocked Brew")).to_contain_text("blockedbrew.co.uk is on the suppression list")
        expect(lead("Offline Cafe")).to_contain_text("not drafted")
        expect(lead("Offline Cafe")).to_contain_text("no email address found")
        expect(lead("No Inbox Cafe")).to_contain_text("no email address found")
        expect(page.get_by_role("button", name="Mark replied")).to_have_count(3)
        assert page.locator("cake").count() == 0  # "<Cake>" was never parsed as markup

        messages = page.locator("#outreach-messages tbody tr")
        expect(messages).to_have_count(9)
        expect(messages.filter(has_text="Tea & <Cake>")).to_have_count(3)
        intro = page.locator("#outreach-messages details").filter(
            has=page.get_by_text("Good Roast Ltd × Northern Grind", exact=True)
        )
        expect(intro.locator("pre")).to_be_hidden()
        intro.locator("summary").click()
        expect(intro.locator("pre")).to_be_visible()
        expect(intro.locator("pre")).to_contain_text("Hello Maya,")
        expect(intro.locator("pre")).to_contain_text("https://leads.example/outreach/opt-out/")

        # The monitors panel: the weekly monitor, just set up, its first check due at once.
        monitor = page.locator("#monitors > li")
        expect(monitor).to_have_count(1)
        expect(monitor).to_contain_text("New coffee shop leads in Manchester")
        expect(monitor).to_contain_text("Weekly · active · first check due now · knows 7 businesses")
        expect(monitor).to_contain_text("Set up ")
        expect(monitor).to_contain_text("Watching for new businesses beyond the 7 known now;")
        expect(monitor).not_to_contain_text("setup")
        shot(page, "7-outreach")

        # Send: each intro goes out once, and the page shows them sent with the server's reply.
        page.get_by_role("button", name="Send due messages").click()
        expect(page.locator("#outreach-status")).to_have_text("Done: 3 of 3 sent.", timeout=20_000)
        sent = page.locator("#outreach-messages tbody tr.message-sent")
        expect(sent).to_have_count(3)
        expect(sent.first).to_contain_text("intro (day 0)")
        expect(sent.first).to_contain_text("Ok: queued as FAKE")
        expect(page.locator("#outreach-detail")).to_contain_text("9 messages: 3 sent · 6 draft")
        received = Counter(r.rcpt_tos[0] for r in world.smtp.fake.received)
        assert received == Counter(list(WRITTEN_TO))  # each of the three, once
        assert all("×" in str(r.message["Subject"]) for r in world.smtp.fake.received)  # the intros
        page.get_by_role("button", name="Send due messages").click()
        expect(page.locator("#outreach-status")).to_have_text("Nothing is due to send now.")
        assert len(world.smtp.fake.received) == 3

        # A reply stops the rest of that lead's sequence.
        page.get_by_role("button", name="Mark replied: Bean There").click()
        expect(page.locator("#outreach-status")).to_have_text(
            "Bean There replied: 2 messages to them will not be sent."
        )
        expect(lead("Bean There")).to_contain_text("replied")
        stopped = page.locator("#outreach-messages tbody tr.message-stopped")
        expect(stopped).to_have_count(2)
        expect(stopped.first).to_contain_text("stopped (replied)")
        expect(page.get_by_role("button", name="Mark replied")).to_have_count(2)

        # The first check takes the baseline: nothing is new, the list and the drafts stay as they were.
        page.get_by_role("button", name="Run now: New coffee shop leads in Manchester").click()
        expect(page.locator("#monitors-status")).to_have_text(
            "Baseline taken: 7 found now; later checks report only businesses beyond these."
        )
        expect(monitor).to_contain_text("First check ")
        expect(monitor).to_contain_text("Weekly · active · next check ")
        expect(monitor).not_to_contain_text("due now")
        expect(monitor.locator(".new-leads li")).to_have_count(0)
        expect(page.locator("#leads-table tbody tr")).to_have_count(7)
        expect(page.locator("#outreach-summary")).to_have_text("3 leads drafted · 4 not drafted")

        # Run now, after three cafés open: the news, the names, and the leads table grows.
        world.add_to_directory(NEW_CAFES)
        page.get_by_role("button", name="Run now: New coffee shop leads in Manchester").click()
        expect(page.locator("#monitors-status")).to_contain_text("3 new coffee shops in Manchester since ")
        new_names = monitor.locator(".new-leads li")
        expect(new_names).to_have_count(3)
        assert sorted(new_names.all_text_contents()) == [
            "Fresh Grounds",
            "Second Cup Corner",
            "The Third Wave",
        ]
        expect(monitor).to_contain_text("3 new coffee shops in Manchester since ")
        expect(monitor).to_contain_text("knows 10 businesses")
        expect(page.locator("#leads-table tbody tr")).to_have_count(10)
        # The one new café with an address found got its drafts, and the outreach panel shows them.
        expect(page.locator("#monitors-status")).to_contain_text("1 of them drafted for outreach.")
        expect(page.locator("#outreach-summary")).to_have_text("4 leads drafted · 6 not drafted")
        expect(page.locator("#results-message")).to_contain_text("Saved 7 of 10 coffee shops: ")

        # Pause, and the button becomes Resume.
        page.get_by_role("button", name="Pause: New coffee shop leads in Manchester").click()
        expect(monitor).to_contain_text("Weekly · paused")
        expect(page.locator("#monitors-status")).to_have_text(
            "New coffee shop leads in Manchester is paused."
        )
        expect(monitor.get_by_role("button", name="Resume")).to_be_visible()
        shot(page, "8-sent-and-monitor")

        # The same session at phone width: the panels fit without sideways scrolling.
        phone = browser.new_context(
            viewport={"width": 375, "height": 740}, storage_state=context.storage_state()
        ).new_page()
        phone.goto(base + "/")
        expect(phone.locator("#outreach-summary")).to_have_text("4 leads drafted · 6 not drafted")
        expect(phone.locator("#monitors > li")).to_contain_text("paused")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375
        shot(phone, "9-outreach-phone")
        phone.context.close()

        page.get_by_role("button", name="Resume: New coffee shop leads in Manchester").click()
        expect(monitor).to_contain_text("Weekly · active")
        page.get_by_role("button", name="Delete: New coffee shop leads in Manchester").click()
        expect(page.locator("#monitors-empty")).to_be_visible()
        expect(page.locator("#monitors > li")).to_have_count(0)
        assert len(dialogs) == 1 and dialogs[0].startswith("Delete the monitor")
        assert errors == []  # no script error on the page
        context.close()


def test_sending_without_an_smtp_server_shows_why_and_sends_nothing(
    world: World, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WYSHBONE_SMTP_URL")
    with planned_page(browser) as (page, errors):
        expect(page.locator("#outreach-summary")).to_have_text("5 leads drafted · 2 not drafted")
        page.get_by_role("button", name="Send due messages").click()
        expect(page.locator("#outreach-problems")).to_contain_text(
            "no SMTP server to send through: set WYSHBONE_SMTP_URL"
        )
        expect(page.get_by_role("button", name="Send due messages")).to_be_enabled()
        expect(page.locator("#outreach-detail")).to_contain_text("15 messages: 15 draft")
        assert world.smtp.fake.received == []
        assert errors == []


def test_without_a_sender_the_outreach_step_is_skipped_and_no_panel_shows(
    world: World, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("WYSHBONE_SENDER_NAME", "WYSHBONE_SENDER_EMAIL", "WYSHBONE_SENDER_ADDRESS"):
        monkeypatch.delenv(name)
    with planned_page(browser) as (page, errors):
        outreach_step = page.locator("#progress-steps li").filter(has_text="Prepare Outreach")
        expect(outreach_step).to_contain_text("not set up")
        expect(outreach_step).to_contain_text(
            "Not set up: needs your name, your email address and your postal"
        )
        expect(outreach_step).to_contain_text("WYSHBONE_SENDER_NAME")  # in the details a person can open
        expect(page.locator("#monitors > li")).to_have_count(1)  # the monitor does not need a sender
        expect(page.locator("#outreach-section")).to_be_hidden()
        assert errors == []


def test_a_monitor_check_shows_its_steps_live_in_the_progress_panel(
    world: World, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The domain lookup takes two seconds: long enough to see the check running, step by step.
    monkeypatch.setenv("WYSHBONE_PLUGINS", "tests.fakes.slow_tools:providers")
    monkeypatch.setenv("WYSHBONE_FAKE_STEP_SECONDS", "2")
    with planned_page(browser) as (page, errors):
        run_now = page.get_by_role("button", name="Run now: New coffee shop leads in Manchester")
        run_now.click()  # the first check takes the baseline
        expect(page.locator("#monitors-status")).to_contain_text(
            "Baseline taken: 7 found now", timeout=30_000
        )
        expect(run_now).to_be_enabled()
        world.add_to_directory(NEW_CAFES)
        run_now.click()
        steps = page.locator("#progress-steps li")
        # While the run request is still pending, the page follows the check as it follows any plan.
        expect(page.locator("#monitors-status")).to_have_text("Checking New coffee shop leads in Manchester…")
        expect(page.locator("#progress-steps li.status-running")).to_contain_text("Find Company Domains")
        expect(steps).to_have_count(6)
        expect(steps.nth(0)).to_contain_text("Search Wyshbone Global Database — done")
        expect(steps.nth(1)).to_contain_text("Leave out businesses already known — done")
        expect(page.locator("#progress-summary")).to_contain_text("Step 3 of 6 · Find Company Domains")
        # Then it finishes: every step done, the news said, the monitor's list shown with the new leads.
        expect(page.locator("#progress-summary")).to_contain_text("Finished: ", timeout=30_000)
        expect(steps.nth(4)).to_contain_text("Save the new businesses to the list — done")
        expect(page.locator("#monitors-status")).to_contain_text("3 new coffee shops in Manchester since ")
        expect(page.locator("#leads-table tbody tr")).to_have_count(10)
        expect(page.locator("#results-message")).to_contain_text("Saved 7 of 10 coffee shops")
        expect(page.locator("#history")).to_contain_text(
            "Check for new coffee shops in Manchester — succeeded"
        )
        # A reload shows the check again, over its monitor's list.
        page.reload()
        expect(steps).to_have_count(6)
        expect(steps.nth(1)).to_contain_text("Leave out businesses already known — done")
        expect(page.locator("#leads-table tbody tr")).to_have_count(10)
        assert errors == []
