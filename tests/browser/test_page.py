"""The page as a person uses it, in headless Chromium (Debian's, driven by Playwright; never downloaded)."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("playwright.sync_api", reason="BROWSER TESTS SKIPPED: playwright is not installed")
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.support import shot
from tests.fakes.server import free_port

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.data, pytest.mark.timeout(240)]


@pytest.fixture
def server(real_db: tuple[Path, object], data_dir: Path, tmp_path: Path) -> Iterator[str]:
    """The real server, with a domain-lookup step slow enough to reload the page mid-run."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WYSHBONE_")}
    env.update(
        WYSHBONE_HOME=str(tmp_path / "home"),
        WYSHBONE_DIRECTORY_PATH=str(real_db[0]),
        WYSHBONE_OPEN_DATA_DIR=str(data_dir),
        WYSHBONE_PLUGINS="tests.fakes.slow_tools:providers",
        WYSHBONE_FAKE_STEP_SECONDS="4",
        PYTHONPATH=str(REPO),
    )
    log = (tmp_path / "server.log").open("w")
    cmd = [sys.executable, "-m", "wyshbone.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(
                    f"server exited {proc.returncode}: {(tmp_path / 'server.log').read_text()}"
                )
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


RAW_WORDS = re.compile(
    r"pending_approval|\b(?:global_db_search|hunter_domain_lookup|hunter_enrich|lead_list_save|email_sequence_setup"
    r"|monitor_setup)_\d\b|\bskipped\b|\bcompleted\b|\b(\w+) \1\b"
)
"""Step ids, raw status values and doubled words ("skipped skipped"): never in what the page shows."""


def assert_no_raw_words(page: Page) -> None:
    for section in ("#plan-section", "#progress-section", "#results-message", "#history"):
        shown = page.locator(
            section
        ).inner_text()  # what is on screen: closed details and hidden parts excepted
        assert not RAW_WORDS.search(shown), (section, RAW_WORDS.search(shown))


def plan_goal(page: Page, goal: str) -> None:
    page.fill("#goal-text", goal)
    page.click("#save-goal")
    expect(page.locator("#goal-fields")).to_be_visible()
    page.click("#start-goal")
    expect(page.locator("#plan-section")).to_be_visible()


def test_page_goal_to_leads_as_a_person(server: str, browser: Browser, tmp_path: Path) -> None:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server + "/")

    # a goal it cannot plan: the problems, in words, shown as text (markup stays text)
    page.fill("#goal-text", "<script>alert(1)</script>")
    page.click("#save-goal")
    expect(page.locator("#goal-problems")).to_contain_text("I couldn't tell where")

    # 1. the goal, read into editable fields
    page.fill("#goal-text", "Find 20 coffee shops in Manchester")
    page.click("#save-goal")
    expect(page.locator("#goal-fields")).to_be_visible()
    expect(page.locator("#goal-problems")).to_be_hidden()
    expect(page.locator("#f-persona")).to_have_value("coffee shop")
    expect(page.locator("#f-region")).to_have_value("Manchester")
    expect(page.locator("#f-volume")).to_have_value("20")
    shot(page, "1-goal")

    # 2. the plan: steps, providers, what will be skipped, the estimate
    page.click("#start-goal")
    steps = page.locator("#plan-steps li")
    expect(steps).to_have_count(4)
    expect(steps.nth(0)).to_contain_text("Search Wyshbone Global Database")
    expect(steps.nth(0)).to_contain_text("Uses: Wyshbone directory")
    expect(steps.nth(2)).to_contain_text("Not set up: needs a Hunter.io key")
    setup = steps.nth(2).locator("details")  # the setting's name, folded away until asked for
    expect(setup.locator("code")).to_be_hidden()
    setup.locator("summary").click()
    expect(setup.locator("code")).to_have_text(
        "hunter: set WYSHBONE_HUNTER_API_KEY, or WYSHBONE_WEBSITE_CRAWL=true"
    )
    expect(page.locator("#plan-estimate")).to_contain_text("Estimated cost")
    shot(page, "2-plan")

    # 3. approve: the toast, then live progress; a reload mid-run shows the same progress
    page.click("#approve-plan")
    expect(page.locator("#toast")).to_have_text("Plan Approved – Wyshbone will now execute your plan")
    toast, progress = page.locator("#toast").bounding_box(), page.locator("#progress-section").bounding_box()
    assert (
        toast and progress and toast["y"] + toast["height"] <= progress["y"]
    )  # it never covers the progress
    expect(page.locator("#progress-steps li").nth(0)).to_contain_text("— done", timeout=10_000)
    expect(page.locator("#progress-summary")).to_contain_text(
        "Find Company Domains · running", timeout=10_000
    )
    shot(page, "3-progress")
    page.reload()
    expect(page.locator("#progress-summary")).to_contain_text("Find Company Domains · running")
    expect(page.locator("#progress-summary")).to_have_text("Finished: partial", timeout=30_000)
    expect(page.locator("#progress-steps li").nth(2)).to_contain_text("Enrich Contact Data — not set up")
    expect(page.locator("#progress-steps li").nth(2)).to_contain_text("Not set up: needs a Hunter.io key")

    # 4. the leads, sortable, and the CSV
    rows = page.locator("#leads-table tbody tr")
    expect(rows).to_have_count(20)
    expect(page.locator("#results-message")).to_have_text("Saved 20 coffee shops in Manchester.")
    page.click("th button[data-sort='name']")
    names = rows.locator("td:first-child").all_text_contents()
    assert names == sorted(names, key=str.lower) or names == sorted(names)
    with page.expect_download() as download_info:
        page.click("#download-csv")
    saved = tmp_path / "leads.csv"
    download_info.value.save_as(saved)
    with saved.open() as handle:
        exported = list(csv.DictReader(handle))
    assert len(exported) == 20 and all(r["postcode"].startswith("M") for r in exported)
    shot(page, "4-results")

    # 5. history, in words
    expect(page.locator("#history li")).to_have_count(1)
    expect(page.locator("#history li")).to_have_text("Find 20 coffee shops in Manchester — partial")
    assert_no_raw_words(page)
    assert dialogs == []  # nothing from the data or the goal ever ran as script

    # another session (a second browser context) sees none of it
    other = browser.new_context().new_page()
    other.goto(server + "/")
    expect(other.locator("#history li")).to_have_count(0)
    expect(other.locator("#progress-section")).to_be_hidden()
    shot(other, "5-other-session")
    context.close()


def test_page_is_usable_at_phone_width(server: str, browser: Browser) -> None:
    page = browser.new_context(viewport={"width": 375, "height": 740}).new_page()
    page.goto(server + "/")
    expect(page.get_by_label("What should Wyshbone find?")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375  # no sideways scrolling
    shot(page, "6-phone")


WARNING = (
    "The directory holds 5 businesses like 'dentist' in Cardiff; 8 were asked for. Set up Google Places."
)
REASONS = ["NHS dental practice", "1.2 km from Cardiff centre, in Cardiff"]


def with_warning(route: Route) -> None:
    """The plan as the server answers it, with a warning (its wording is the planner's; here it is fixed)."""
    answer = route.fetch()
    route.fulfill(response=answer, json={**answer.json(), "warnings": [WARNING]})


def with_matches(route: Route) -> None:
    """The saved leads as the server answers them, with the match, a phone and an OpenStreetMap record that the
    search gives (fixed here, so the page's rendering is tested whatever the directory holds)."""
    answer = route.fetch()
    leads = answer.json()
    for i, lead in enumerate(leads):
        lead["match"] = {"area": "nearby" if i == 1 else "inside", "kind": "category", "reasons": REASONS}
    leads[0].update(phone="029 2000 0000")
    leads[1].update(source="osm", sourceId="osm:node/123456")
    leads[2].update(source="fsa_fhrs", sourceId="fsa_fhrs:777212")
    route.fulfill(response=answer, body=json.dumps(leads))


def test_page_warns_before_approval_and_says_what_each_lead_is(server: str, browser: Browser) -> None:
    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    page.route("**/api/plan/start", with_warning)
    page.route(re.compile(r".*/api/plan/[^/]+/leads$"), with_matches)
    page.goto(server + "/")
    plan_goal(page, "Find 5 dentists in Cardiff")

    # the warning, next to the Approve button, and read out with it
    warnings = page.locator("#plan-warnings")
    expect(warnings).to_be_visible()
    expect(warnings).to_contain_text("Before you approve")
    expect(warnings).to_contain_text(WARNING)
    approve = page.locator("#approve-plan")
    box, button = warnings.bounding_box(), approve.bounding_box()
    assert box and button and 0 <= button["y"] - (box["y"] + box["height"]) < 60  # right above the button
    expect(approve).to_have_accessible_description(WARNING)
    shot(page, "10-warning")

    approve.click()
    expect(page.locator("#progress-summary")).to_have_text("Finished: partial", timeout=30_000)
    rows = page.locator("#leads-table tbody tr")
    expect(rows).to_have_count(5)
    expect(page.locator("#results-message")).to_have_text("Saved 5 dentists in Cardiff.")

    # the phone, when there is one
    expect(rows.nth(0).locator("td[data-label='Phone']")).to_have_text("029 2000 0000")
    # the source, linked to its public record where it has one
    expect(rows.nth(1).locator("td[data-label='Source'] a")).to_have_attribute(
        "href", "https://www.openstreetmap.org/node/123456"
    )
    expect(rows.nth(2).locator("td[data-label='Source'] a")).to_have_attribute(
        "href", "https://ratings.food.gov.uk/business/777212"
    )
    expect(rows.nth(3).locator("td[data-label='Source']")).to_have_text("NHS")  # no public page per practice
    expect(rows.nth(3).locator("td[data-label='Source'] a")).to_have_count(0)

    # the match badge: its reasons on keyboard focus (Tab from the last column heading), and on hover
    badge = rows.nth(0).locator(".match button")
    tip = rows.nth(0).locator(".match .tip")
    expect(badge).to_have_text("inside")
    expect(tip).to_be_hidden()
    page.locator("th button[data-sort='source']").focus()
    page.keyboard.press("Tab")
    expect(badge).to_be_focused()
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(REASONS[0])
    expect(badge).to_have_accessible_description(" ".join(REASONS))
    shot(page, "11-match-reasons")
    page.keyboard.press("Escape")
    expect(tip).to_be_hidden()
    nearby = rows.nth(1).locator(".match")
    expect(nearby.locator("button")).to_have_text("nearby")
    nearby.hover()
    expect(nearby.locator(".tip")).to_be_visible()
    assert_no_raw_words(page)
    page.context.close()


def test_page_sends_the_qualifiers_as_corrected(server: str, browser: Browser) -> None:
    page = browser.new_context().new_page()
    page.goto(server + "/")
    page.fill("#goal-text", "Find 20 Italian restaurants in Birmingham")
    page.click("#save-goal")
    expect(page.locator("#f-qualifiers")).to_have_value("Italian")
    page.fill("#f-qualifiers", "Italian, dog-friendly")
    with page.expect_request("**/api/plan/start") as started:
        page.click("#start-goal")
    assert started.value.post_data_json["overrides"]["qualifiers"] == ["italian", "dog_friendly"]
    expect(page.locator("#plan-section")).to_be_visible()
    page.context.close()


def test_page_short_delivery_says_how_many_of_how_many_and_why(server: str, browser: Browser) -> None:
    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    page.goto(server + "/")
    plan_goal(page, "10 gyms in Manchester")
    page.click("#approve-plan")
    expect(page.locator("#progress-summary")).to_have_text("Finished: partial", timeout=30_000)
    message = page.locator("#results-message")
    expect(message).to_have_text(re.compile(r"^Saved \d of 10 gyms: \S.*\.$"))
    expect(message).to_have_class(re.compile(r"\bshort\b"))
    expect(page.locator("#download")).to_be_visible()
    shot(page, "12-short-delivery")
    assert_no_raw_words(page)
    page.context.close()


def test_page_without_leads_offers_no_download(server: str, browser: Browser) -> None:
    page = browser.new_context().new_page()
    page.route(re.compile(r".*/api/plan/[^/]+/leads$"), lambda route: route.fulfill(json=[]))
    page.goto(server + "/")
    plan_goal(page, "10 gyms in Manchester")
    page.click("#approve-plan")
    expect(page.locator("#results-section")).to_be_visible(timeout=30_000)
    expect(page.locator("#results-message")).to_contain_text("of 10 gyms: ")
    expect(page.locator("#download-csv")).to_be_hidden()
    expect(page.locator("#leads-table tbody tr")).to_have_count(0)
    page.context.close()


def test_page_leads_table_is_whole_at_phone_width(server: str, browser: Browser) -> None:
    page = browser.new_context(viewport={"width": 375, "height": 740}).new_page()
    page.route(re.compile(r".*/api/plan/[^/]+/leads$"), with_matches)
    page.goto(server + "/")
    plan_goal(page, "Find 5 dentists in Cardiff")
    page.click("#approve-plan")
    rows = page.locator("#leads-table tbody tr")
    expect(rows).to_have_count(5, timeout=30_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
    for cell in rows.nth(0).locator("td:visible").all():  # each cell of a lead inside the screen: nothing cut
        box = cell.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375
    badge = rows.nth(0).locator(".match button")
    badge.focus()
    expect(rows.nth(0).locator(".match .tip")).to_be_visible()
    tip = rows.nth(0).locator(".match .tip").bounding_box()
    assert tip and tip["x"] + tip["width"] <= 375
    rows.nth(0).scroll_into_view_if_needed()
    shot(page, "13-leads-phone")
    page.context.close()
