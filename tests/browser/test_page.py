"""The page as a person uses it, in headless Chromium (Debian's, driven by Playwright; never downloaded)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("playwright.sync_api", reason="BROWSER TESTS SKIPPED: playwright is not installed")
from playwright.sync_api import Browser, expect

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
    expect(steps.nth(0)).to_contain_text("local_directory")
    expect(steps.nth(2)).to_contain_text("Will be skipped")
    expect(page.locator("#plan-estimate")).to_contain_text("Estimated cost")
    shot(page, "2-plan")

    # 3. approve: the toast, then live progress; a reload mid-run shows the same progress
    page.click("#approve-plan")
    expect(page.locator("#toast")).to_have_text("Plan Approved – Wyshbone will now execute your plan")
    expect(page.locator("#progress-steps li").nth(0)).to_contain_text("completed", timeout=10_000)
    expect(page.locator("#progress-summary")).to_contain_text(
        "Find Company Domains · running", timeout=10_000
    )
    shot(page, "3-progress")
    page.reload()
    expect(page.locator("#progress-summary")).to_contain_text("Find Company Domains · running")
    expect(page.locator("#progress-summary")).to_have_text("Plan completed (partial)", timeout=30_000)
    expect(page.locator("#progress-steps li").nth(2)).to_contain_text("skipped")
    expect(page.locator("#progress-steps li").nth(2)).to_contain_text("no provider configured")

    # 4. the leads, sortable, and the CSV
    rows = page.locator("#leads-table tbody tr")
    expect(rows).to_have_count(20)
    expect(page.locator("#results-message")).to_contain_text("20 coffee shop lead(s) in Manchester saved")
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

    # 5. history
    expect(page.locator("#history li")).to_have_count(1)
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
