"""Issue 10's fault table (docs/faults.md), one test per row.

Each outside fault is produced by a local fake the way the real service produces it (or, for the faults no HTTP
server makes on purpose, by a bare socket server), then driven through the real provider clients, the tool
layer (``build_registry``, the app's own wiring) and the executor with a fake clock: retries, backoff, fallback.
The assertions are on what the person running the plan sees: each step's status and message (the progress
``errorMessage`` that the page, the API and the CLI show), the events in order, the waits, and no secret.
"""

from __future__ import annotations

import errno
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields
from email.utils import formatdate
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from pydantic import SecretStr

from tests.fakes.clock import FakeClock
from tests.fakes.google_places import FakeGooglePlaces, sample_places
from tests.fakes.google_places import Fault as PlacesFault
from tests.fakes.hunter import FakeHunter
from tests.fakes.hunter import Fault as HunterFault
from tests.fakes.overpass import FakeOverpass
from tests.fakes.overpass import Fault as OverpassFault
from tests.fakes.places import MANCHESTER_10KM
from tests.fakes.server import SocketFault, Then, free_port, http_answer
from tests.fakes.smtp import PASSWORD, FakeSmtp, running_smtp
from tests.integration.test_providers_e2e import Run
from tests.integration.test_smtp import mail
from wyshbone.config import Settings
from wyshbone.domain.models import (
    Lead,
    LeadGenContext,
    LeadGenGoal,
    PlanEvent,
    PlanProgress,
    SupervisorUserContext,
)
from wyshbone.domain.outreach import SuppressionReason, suppression_entry
from wyshbone.domain.planner import plan_lead_generation
from wyshbone.domain.progress import project
from wyshbone.domain.retry import DEFAULT_RETRY_POLICY, next_delay
from wyshbone.errors import RetryableToolError, ToolError
from wyshbone.executor import Runtime, execute_lead_generation_plan
from wyshbone.providers.http import make_client, retry_after_seconds
from wyshbone.providers.hunter import HunterClient
from wyshbone.providers.limits import InMemoryLimiter, windows
from wyshbone.providers.smtp import SmtpSender, SmtpUnavailableError, parse_smtp_url
from wyshbone.storage import memory_repositories
from wyshbone.tools.builtin import build_registry
from wyshbone.tools.outreach import verify_contacts

USER = SupervisorUserContext(user_id="u-faults")
SEARCH, DOMAINS, ENRICH, SAVE = (
    "global_db_search_1",
    "hunter_domain_lookup_1",
    "hunter_enrich_1",
    "lead_list_save_1",
)
RAW_KEY = "AIzaFAULTS-never-show-this-key-0123456789"
"""The Google key when a bare socket server stands in for Google (the fakes make their own random keys)."""
QUOTA_SAID = (
    "Quota exceeded for quota metric 'SearchText requests' and limit 'SearchText requests per {}' of service "
    "'places.googleapis.com' for consumer 'project_number:123456789012'."
)
"""What Google says when a quota runs out (as the fake says it)."""
SKIPPED_AFTER_SEARCH = "Skipped because 'Search Wyshbone Global Database' did not complete"


# --- running a plan against the fakes ---------------------------------------------------------------------------


@dataclass
class Ran(Run):
    """Everything one run left behind, plus the waits it asked for and the progress a person saw."""

    sleeps: list[float]
    progress: PlanProgress

    def shown(self, step_id: str) -> tuple[str, str | None]:
        """The step as the page, the API and the CLI show it: (status, errorMessage)."""
        step = next(s for s in self.progress.steps if s.step_id == step_id)
        return step.status.value, step.error_message

    def outputs(self) -> list[str]:
        return [
            *(e.model_dump_json() for e in self.events),
            self.result.model_dump_json(),
            self.progress.model_dump_json(),
        ]


def settings_for(
    tmp_path: Path,
    *,
    google: str | None = None,
    google_key: str = RAW_KEY,
    overpass: str | None = None,
    hunter: str | None = None,
    hunter_key: str = "",
) -> Settings:
    """Only the named providers configured (the directory is not imported); no website crawling."""
    return Settings(
        home=tmp_path / "home",
        directory_path=tmp_path / "not-imported.sqlite",
        google_places_api_key=SecretStr(google_key) if google else None,
        google_places_base_url=google or "http://127.0.0.1:9",
        overpass_url=overpass,
        hunter_api_key=SecretStr(hunter_key) if hunter else None,
        hunter_base_url=hunter or "http://127.0.0.1:9",
        website_crawl=False,
    )


async def run_plan(settings: Settings, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> Ran:
    """Plan "5 coffee shops in Manchester" with the app's registry, run it on a fake clock, and check that no
    key reached an event, a result, the progress or the log."""
    repos = memory_repositories()
    registry = build_registry(settings=settings, repos=repos, client=client)
    goal = LeadGenGoal(
        raw_goal="Find 5 coffee shops in Manchester",
        target_persona="coffee shop",
        target_region="Manchester",
        target_categories=["cafe"],
        region_match=MANCHESTER_10KM,
        volume=5,
    )
    plan = plan_lead_generation(goal, LeadGenContext(user_id=USER.user_id), catalog=registry.catalog())
    clock = FakeClock()
    events: list[PlanEvent] = []
    runtime = Runtime(registry=registry, plans=repos.plans, clock=clock.now, sleep=clock.sleep)
    caplog.set_level(logging.INFO, logger="wyshbone.plan")
    result = await execute_lead_generation_plan(plan, USER, on_event=events.append, runtime=runtime)
    ran = Ran(
        plan,
        result,
        events,
        await repos.leads.for_plan(plan_id=plan.id),
        clock.sleeps,
        project(events, plan=plan),
    )
    for key in (settings.google_places_api_key, settings.hunter_api_key):
        secret = key.get_secret_value() if key else None
        assert [text[:120] for text in [*ran.outputs(), caplog.text] if secret and secret in text] == []
    return ran


# --- words for people -------------------------------------------------------------------------------------------

_JARGON = re.compile(
    r"HTTP \d{3}"  # status codes
    r"|\b[A-Z]{2,}(?:_[A-Z]+)+\b"  # enum values: RESOURCE_EXHAUSTED, API_KEY_INVALID
    r"|\b[a-z]+(?:_[a-z]+)+\b"  # internal ids: too_many_requests, authentication_failed, step ids
    r"|\b\w*(?:Error|Exception|Timeout)\b|Traceback|Errno"  # exception classes and tracebacks
)


def words_for_people(message: str) -> list[str]:
    """What a person reads first in a step's message: each provider's words, without the provider's name in
    front and the ``(details: ...)`` behind (where status codes, setting names and the service's own words go)."""
    plain, depth, i = "", 0, 0
    while i < len(message):
        if depth == 0 and message.startswith(" (details: ", i):
            depth, i = 1, i + len(" (details: ")
            continue
        char = message[i]
        if depth:
            depth += {"(": 1, ")": -1}.get(char, 0)
        else:
            plain += char
        i += 1
    return [re.sub(r"^(?:[a-z_+]+: )+", "", part) for part in plain.split("; ")]


def assert_plain(message: str | None) -> None:
    assert message
    assert [part for part in words_for_people(message) if _JARGON.search(part)] == []


# --- the fakes --------------------------------------------------------------------------------------------------


Fake = TypeVar("Fake", FakeGooglePlaces, FakeOverpass, FakeHunter)


def fresh(fake: Fake) -> Fake:
    """A running fake with a new one's state (data, faults, key, request log), at the same address."""
    new = type(fake)()
    for each in fields(fake):
        if each.name != "base_url":
            setattr(fake, each.name, getattr(new, each.name))
    return fake


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeGooglePlaces, FakeOverpass, FakeHunter]]:
    """The three fakes, started once for the module (each test gets them fresh)."""
    with (
        FakeGooglePlaces().running() as places,
        FakeOverpass().running() as overpass,
        FakeHunter().running() as hunter,
    ):
        yield places, overpass, hunter


@pytest.fixture
def places(served: tuple[FakeGooglePlaces, FakeOverpass, FakeHunter]) -> FakeGooglePlaces:
    return fresh(served[0])


@pytest.fixture
def overpass(served: tuple[FakeGooglePlaces, FakeOverpass, FakeHunter]) -> FakeOverpass:
    return fresh(served[1])


@pytest.fixture
def hunter(served: tuple[FakeGooglePlaces, FakeOverpass, FakeHunter]) -> FakeHunter:
    return fresh(served[2])


def google_settings(tmp_path: Path, places: FakeGooglePlaces, **more: Any) -> Settings:
    return settings_for(tmp_path, google=places.base_url, google_key=places.api_key, **more)


def hunter_settings(tmp_path: Path, places: FakeGooglePlaces, hunter: FakeHunter) -> Settings:
    return google_settings(tmp_path, places, hunter=hunter.base_url, hunter_key=hunter.api_key)


def cafes_for_hunter(places: FakeGooglePlaces, *, both_have_websites: bool = False) -> None:
    """Two cafés the fake Hunter knows: Northern Roast's domain comes from its website; Ancoats Brew Co has no
    website, so the domain step asks Hunter for it (unless ``both_have_websites``: then only enrichment calls)."""
    northern, ancoats = sample_places(2)
    northern.update(displayName={"text": "Northern Roast Coffee"}, websiteUri="https://northernroast.co.uk/")
    ancoats.update(displayName={"text": "Ancoats Brew Co"}, websiteUri="https://ancoatsbrew.com/")
    if not both_have_websites:
        del ancoats["websiteUri"]
    places.places = [northern, ancoats]


# --- timeouts and broken connections ----------------------------------------------------------------------------

GOOGLE_PAGE = json.dumps({"places": sample_places(3)}).encode()


@pytest.mark.parametrize(
    ("reply", "then", "words"),
    [
        # Timeout: the server takes the request and never answers.
        pytest.param(
            b"",
            "hang",
            "Google Places did not answer in time (details: ReadTimeout (no response))",
            id="timeout",
        ),
        # Connection reset: the server resets the connection (RST) instead of answering.
        pytest.param(
            b"",
            "reset",
            "the connection to Google Places broke off before its whole answer arrived",
            id="connection-reset",
        ),
        # The server hangs up without a word.
        pytest.param(
            b"",
            "close",
            "the connection to Google Places broke off before its whole answer arrived",
            id="closed-without-answer",
        ),
        # Truncated body: a 200 announcing the whole page, and the connection ends halfway through it.
        pytest.param(
            http_answer(200, GOOGLE_PAGE, cut_at=len(GOOGLE_PAGE) // 2),
            "close",
            "the connection to Google Places broke off before its whole answer arrived "
            "(details: RemoteProtocolError (the connection broke off))",
            id="truncated-body",
        ),
    ],
)
async def test_transport_faults_are_retried_with_backoff_then_fail_the_search(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, reply: bytes, then: Then, words: str
) -> None:
    server = SocketFault(lambda request: reply, then)
    async with make_client(timeout=httpx.Timeout(0.3)) as impatient:
        with server.running():
            ran = await run_plan(settings_for(tmp_path, google=server.base_url), impatient, caplog)

    # Google is the only search provider here: three attempts, 1 s then 2 s apart, then the search fails.
    assert ran.trail(SEARCH) == [
        ("STEP_STARTED", "google_places", 1),
        ("STEP_RETRYING", "google_places", 2),
        ("STEP_RETRYING", "google_places", 3),
        ("STEP_FAILED", "google_places", 3),
    ]
    assert ran.sleeps == [1.0, 2.0]
    assert len(server.requests) == 3
    status, shown = ran.shown(SEARCH)
    assert status == "failed" and shown == ran.step(SEARCH).error_message
    assert shown is not None and shown.startswith(f"google_places: {words}")
    assert_plain(shown)
    # Nothing found, nothing to save: the plan failed, and says why each later step did not run.
    assert ran.statuses == {SEARCH: "failed", DOMAINS: "skipped", ENRICH: "skipped", SAVE: "skipped"}
    assert ran.step(SAVE).error_message == SKIPPED_AFTER_SEARCH
    assert ran.result.overall_status.value == "failed"


async def test_nothing_listening_is_retried_then_fails_the_search(
    tmp_path: Path, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    ran = await run_plan(settings_for(tmp_path, google=f"http://127.0.0.1:{free_port()}"), client, caplog)

    assert [t for t, _, _ in ran.trail(SEARCH)] == [
        "STEP_STARTED",
        "STEP_RETRYING",
        "STEP_RETRYING",
        "STEP_FAILED",
    ]
    assert ran.sleeps == [1.0, 2.0]
    assert ran.shown(SEARCH) == (
        "failed",
        "google_places: Google Places could not be reached (details: ConnectError (no response))",
    )
    assert_plain(ran.shown(SEARCH)[1])


async def test_an_overpass_timeout_falls_back_to_google_places(
    tmp_path: Path, places: FakeGooglePlaces, caplog: pytest.LogCaptureFixture
) -> None:
    silent = SocketFault(then="hang")
    async with make_client(timeout=httpx.Timeout(0.3)) as impatient:
        with silent.running():
            settings = google_settings(tmp_path, places, overpass=silent.base_url + "/api/interpreter")
            ran = await run_plan(settings, impatient, caplog)

    # OpenStreetMap is tried three times, then the step carries on with the next provider, and succeeds there.
    assert ran.trail(SEARCH) == [
        ("STEP_STARTED", "overpass", 1),
        ("STEP_RETRYING", "overpass", 2),
        ("STEP_RETRYING", "overpass", 3),
        ("STEP_FALLBACK", "google_places", 4),
        ("STEP_SUCCEEDED", "google_places", 4),
    ]
    assert ran.sleeps == [1.0, 2.0]
    fallback = next(e for e in ran.events if e.type.value == "STEP_FALLBACK")
    assert (
        fallback.error_message
        == "overpass: OpenStreetMap did not answer in time (details: ReadTimeout (no response))"
    )
    assert ran.shown(SEARCH) == ("completed", None)  # success clears the note
    assert ran.statuses[SAVE] == "succeeded" and len(ran.leads) == 5


async def test_a_hunter_timeout_fails_the_domain_step_and_the_list_is_saved_anyway(
    tmp_path: Path, places: FakeGooglePlaces, caplog: pytest.LogCaptureFixture
) -> None:
    cafes_for_hunter(places)
    silent = SocketFault(then="hang")
    async with make_client(timeout=httpx.Timeout(0.3)) as impatient:
        with silent.running():
            settings = google_settings(
                tmp_path, places, hunter=silent.base_url, hunter_key="hunterSECRET0123"
            )
            ran = await run_plan(settings, impatient, caplog)

    assert [t for t, _, _ in ran.trail(DOMAINS)] == [
        "STEP_STARTED",
        "STEP_RETRYING",
        "STEP_RETRYING",
        "STEP_FAILED",
    ]
    assert ran.sleeps == [1.0, 2.0]
    assert ran.shown(DOMAINS) == (
        "failed",
        "hunter: Hunter did not answer in time (details: ReadTimeout (no response))",
    )
    # Domains and emails are optional: the list is saved with what the search found; the plan is partial.
    assert ran.statuses == {SEARCH: "succeeded", DOMAINS: "failed", ENRICH: "skipped", SAVE: "succeeded"}
    assert ran.result.overall_status.value == "partial"
    assert [lead.name for lead in ran.leads] == ["Northern Roast Coffee", "Ancoats Brew Co"]


# --- Google Places: 5xx, quotas, keys, bodies --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("faults", "trail", "sleeps", "status", "message"),
    [
        # A 5xx burst that passes: two 503s, then the page.
        pytest.param(
            [PlacesFault.UNAVAILABLE] * 2,
            ["STEP_STARTED", "STEP_RETRYING", "STEP_RETRYING", "STEP_SUCCEEDED"],
            [1.0, 2.0],
            "completed",
            None,
            id="5xx-burst-passes",
        ),
        # A 5xx burst that outlasts the retries: the search fails with Google's own words in the details.
        pytest.param(
            [PlacesFault.INTERNAL] * 3,
            ["STEP_STARTED", "STEP_RETRYING", "STEP_RETRYING", "STEP_FAILED"],
            [1.0, 2.0],
            "failed",
            "google_places: Google Places had a problem on its side "
            "(details: HTTP 500 INTERNAL: Internal error encountered.)",
            id="5xx-burst-outlasts-retries",
        ),
        # Google's front end answers 502 with an HTML page instead of the JSON envelope.
        pytest.param(
            [PlacesFault.BAD_GATEWAY_HTML] * 3,
            ["STEP_STARTED", "STEP_RETRYING", "STEP_RETRYING", "STEP_FAILED"],
            [1.0, 2.0],
            "failed",
            "google_places: Google Places had a problem on its side (details: HTTP 502)",
            id="502-html-page",
        ),
        # Per-minute quota, no Retry-After (as Google sends it): backoff, not an instant retry.
        pytest.param(
            [PlacesFault.QUOTA_PER_MINUTE] * 2,
            ["STEP_STARTED", "STEP_RETRYING", "STEP_RETRYING", "STEP_SUCCEEDED"],
            [1.0, 2.0],
            "completed",
            None,
            id="per-minute-quota-no-retry-after",
        ),
        # Per-day quota: no retry can pass today, so one request and the step fails at once.
        pytest.param(
            [PlacesFault.QUOTA_PER_DAY],
            ["STEP_STARTED", "STEP_FAILED"],
            [],
            "failed",
            "google_places: Google Places' daily allowance of searches is used up; it renews at midnight Pacific "
            "time, or can be raised in the Google Cloud console (details: HTTP 429 RESOURCE_EXHAUSTED "
            "(RATE_LIMIT_EXCEEDED): daily quota SearchTextRequestsPerDayPerProject used up: "
            + QUOTA_SAID.format("day")
            + ")",
            id="per-day-quota",
        ),
        # The API is not enabled for the key's project: permanent.
        pytest.param(
            [PlacesFault.PERMISSION_DENIED],
            ["STEP_STARTED", "STEP_FAILED"],
            [],
            "failed",
            "google_places: Places API (New) is not switched on for the API key's Google Cloud project (switch it on "
            "in the Google Cloud console) (details: HTTP 403 PERMISSION_DENIED (SERVICE_DISABLED): Places API (New) "
            "has not been used in project 123456789012 before or it is disabled. Enable it by visiting "
            "https://console.developers.google.com/apis/api/places.googleapis.com/overview?project=123456789012 "
            "then retry.)",
            id="service-disabled",
        ),
        # A bad key, which Google quotes back: the message names the setting, never the key.
        pytest.param(
            [PlacesFault.KEY_IN_MESSAGE],
            ["STEP_STARTED", "STEP_FAILED"],
            [],
            "failed",
            "google_places: Google Places refused the API key: it is not a valid key (details: check "
            "WYSHBONE_GOOGLE_PLACES_API_KEY; HTTP 400 INVALID_ARGUMENT (API_KEY_INVALID): API key not valid: [key]. "
            "Please pass a valid API key.)",
            id="bad-key",
        ),
        # Malformed JSON: a 200 whose body is cut off (its length as sent): a proxy's hiccup, so retried.
        pytest.param(
            [PlacesFault.MALFORMED],
            ["STEP_STARTED", "STEP_RETRYING", "STEP_SUCCEEDED"],
            [1.0],
            "completed",
            None,
            id="malformed-json-passes",
        ),
        pytest.param(
            [PlacesFault.MALFORMED] * 3,
            ["STEP_STARTED", "STEP_RETRYING", "STEP_RETRYING", "STEP_FAILED"],
            [1.0, 2.0],
            "failed",
            "google_places: Google Places sent an answer that could not be read (cut off or garbled) "
            "(details: HTTP 200 with a body that is not JSON)",
            id="malformed-json-persists",
        ),
        # Well-formed JSON that is not the API's shape: no crash, no retry, a plain message.
        pytest.param(
            [PlacesFault.WRONG_SHAPE],
            ["STEP_STARTED", "STEP_FAILED"],
            [],
            "failed",
            "google_places: Google Places answered in a form Wyshbone does not understand (please report it) "
            "(details: unexpected response: 'places' is not a list)",
            id="json-of-the-wrong-shape",
        ),
    ],
)
async def test_google_places_faults(
    tmp_path: Path,
    client: httpx.AsyncClient,
    places: FakeGooglePlaces,
    caplog: pytest.LogCaptureFixture,
    faults: list[PlacesFault],
    trail: list[str],
    sleeps: list[float],
    status: str,
    message: str | None,
) -> None:
    places.faults.extend(faults)
    ran = await run_plan(google_settings(tmp_path, places), client, caplog)

    assert [t for t, _, _ in ran.trail(SEARCH)] == trail
    assert ran.sleeps == sleeps
    assert ran.shown(SEARCH) == (status, message)
    assert ran.step(SEARCH).error_message == message
    if message is None:
        # The search got its ten cafés once the fault passed; the retries' notes said why it waited.
        assert ran.statuses[SAVE] == "succeeded" and len(ran.leads) == 5
        notes = [e.error_message for e in ran.events if e.type.value == "STEP_RETRYING"]
        assert len(notes) == len(sleeps)
        for note in notes:
            assert_plain(note)
    else:
        assert_plain(message)
        assert ran.statuses[SAVE] == "skipped" and ran.result.overall_status.value == "failed"
        assert len(places.requests) == len(trail) - 1  # one request per attempt, none after the failure


async def test_google_per_minute_quota_waits_as_long_as_retry_after_says(
    tmp_path: Path, client: httpx.AsyncClient, places: FakeGooglePlaces, caplog: pytest.LogCaptureFixture
) -> None:
    places.retry_after = "7"
    places.fail_next(PlacesFault.QUOTA_PER_MINUTE)
    ran = await run_plan(google_settings(tmp_path, places), client, caplog)

    assert ran.trail(SEARCH) == [
        ("STEP_STARTED", "google_places", 1),
        ("STEP_RETRYING", "google_places", 2),
        ("STEP_SUCCEEDED", "google_places", 2),
    ]
    assert ran.sleeps == [7.0]
    retrying = next(e for e in ran.events if e.type.value == "STEP_RETRYING")
    assert retrying.data == {"delaySeconds": 7.0}  # the page and the CLI show "retrying in 7 s"
    assert retrying.error_message == (
        "google_places: Google Places' per-minute limit on searches was reached (details: HTTP 429 "
        "RESOURCE_EXHAUSTED (RATE_LIMIT_EXCEEDED): rate limited SearchTextRequestsPerMinutePerProject: "
        + QUOTA_SAID.format("minute")
        + ")"
    )


async def test_retry_after_as_an_http_date_is_honoured(
    tmp_path: Path, client: httpx.AsyncClient, places: FakeGooglePlaces, caplog: pytest.LogCaptureFixture
) -> None:
    # RFC 9110 allows a date instead of seconds; proxies and CDNs send one. It is counted from the answer's Date.
    places.retry_after = formatdate(time.time() + 30, usegmt=True)
    places.fail_next(PlacesFault.UNAVAILABLE)
    ran = await run_plan(google_settings(tmp_path, places), client, caplog)

    assert [t for t, _, _ in ran.trail(SEARCH)] == ["STEP_STARTED", "STEP_RETRYING", "STEP_SUCCEEDED"]
    # Both dates are whole seconds (and the server's Date header may lag by one), so 29 to 31 seconds.
    assert ran.sleeps == [pytest.approx(30.0, abs=1.0)]


@pytest.mark.parametrize(
    ("headers", "waits"),
    [
        ({"Retry-After": "7"}, 7.0),  # delta-seconds
        ({"Retry-After": "0"}, 0.0),  # "now": the service's word, so no wait
        ({"Retry-After": "-3"}, 0.0),  # a negative wait is no wait
        ({"Retry-After": "3600"}, 60.0),  # longer than the policy's cap: waits the cap (60 s), then tries
        # An HTTP date, counted from the answer's own Date (not this machine's clock).
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT", "Date": "Wed, 21 Oct 2015 07:28:00 GMT"}, 30.0),
        ({"Retry-After": "nan"}, 1.0),  # not a time: the backoff (1 s for a first retry), never NaN
        ({"Retry-After": "soon"}, 1.0),  # words: the backoff
        ({}, 1.0),  # none: the backoff
    ],
)
def test_retry_after_forms_become_waits(headers: dict[str, str], waits: float) -> None:
    error = RetryableToolError(
        "x: HTTP 429", retry_after=retry_after_seconds(httpx.Response(429, headers=headers))
    )

    assert next_delay(DEFAULT_RETRY_POLICY, 1, error) == waits


async def test_google_per_day_quota_is_not_retried_even_with_a_retry_after(
    tmp_path: Path, client: httpx.AsyncClient, places: FakeGooglePlaces, caplog: pytest.LogCaptureFixture
) -> None:
    places.retry_after = "5"
    places.fail_next(PlacesFault.QUOTA_PER_DAY, times=10)
    ran = await run_plan(google_settings(tmp_path, places), client, caplog)

    assert [t for t, _, _ in ran.trail(SEARCH)] == ["STEP_STARTED", "STEP_FAILED"]
    assert (ran.sleeps, len(places.requests)) == ([], 1)


# --- OpenStreetMap (Overpass) -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "note"),
    [
        # 429 from the shared public server ("rate_limited" in its HTML page).
        pytest.param(
            OverpassFault.RATE_LIMITED,
            "overpass: OpenStreetMap's public server limits how often one computer may search, and that limit was "
            "reached (details: HTTP 429: too many requests from this address (rate limited))",
            id="429",
        ),
        # 504: the server is too busy.
        pytest.param(
            OverpassFault.GATEWAY_TIMEOUT,
            "overpass: OpenStreetMap's server is too busy right now "
            "(details: HTTP 504: the server is too busy (gateway timeout))",
            id="504",
        ),
        # A 200 whose JSON says "runtime error: Query timed out" and holds no elements.
        pytest.param(
            OverpassFault.QUERY_TIMED_OUT,
            "overpass: OpenStreetMap's server ran out of time for this search (it is busy) "
            '(details: runtime error: Query timed out in "query" at line 3 after 26 seconds.)',
            id="query-timed-out",
        ),
        # Malformed JSON: a 200 cut off.
        pytest.param(
            OverpassFault.MALFORMED,
            "overpass: OpenStreetMap's server sent an answer that could not be read (cut off or garbled) "
            "(details: HTTP 200 with a body that is not JSON)",
            id="malformed-json",
        ),
    ],
)
async def test_overpass_faults_are_retried_then_fall_back_to_google_places(
    tmp_path: Path,
    client: httpx.AsyncClient,
    places: FakeGooglePlaces,
    overpass: FakeOverpass,
    caplog: pytest.LogCaptureFixture,
    fault: OverpassFault,
    note: str,
) -> None:
    overpass.fail_next(fault, times=3)
    ran = await run_plan(google_settings(tmp_path, places, overpass=overpass.url), client, caplog)

    assert ran.trail(SEARCH) == [
        ("STEP_STARTED", "overpass", 1),
        ("STEP_RETRYING", "overpass", 2),
        ("STEP_RETRYING", "overpass", 3),
        ("STEP_FALLBACK", "google_places", 4),
        ("STEP_SUCCEEDED", "google_places", 4),
    ]
    assert ran.sleeps == [1.0, 2.0]  # no Retry-After: backoff, not an instant retry
    assert [e.error_message for e in ran.events if e.step_id == SEARCH and e.error_message] == [note] * 3
    assert_plain(note)
    assert ran.shown(SEARCH) == ("completed", None)
    assert (ran.step(SEARCH).provider, len(overpass.requests), len(ran.leads)) == ("google_places", 3, 5)


async def test_overpass_rate_limit_waits_as_long_as_retry_after_says(
    tmp_path: Path, client: httpx.AsyncClient, overpass: FakeOverpass, caplog: pytest.LogCaptureFixture
) -> None:
    overpass.retry_after = "30"
    overpass.fail_next(OverpassFault.RATE_LIMITED)
    ran = await run_plan(settings_for(tmp_path, overpass=overpass.url), client, caplog)

    assert ran.trail(SEARCH) == [
        ("STEP_STARTED", "overpass", 1),
        ("STEP_RETRYING", "overpass", 2),
        ("STEP_SUCCEEDED", "overpass", 2),
    ]
    assert ran.sleeps == [30.0]
    assert [lead.name for lead in ran.leads] == ["Ancoats Coffee Co.", "Federal Café"]


# --- Hunter -------------------------------------------------------------------------------------------------------


async def test_hunter_bad_key_401_fails_the_domain_step_at_once(
    tmp_path: Path,
    client: httpx.AsyncClient,
    places: FakeGooglePlaces,
    hunter: FakeHunter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cafes_for_hunter(places)
    wrong = "hunterWRONGkey0123456789abcdef"
    settings = google_settings(tmp_path, places, hunter=hunter.base_url, hunter_key=wrong)
    ran = await run_plan(settings, client, caplog)

    assert ran.trail(DOMAINS) == [("STEP_STARTED", "hunter", 1), ("STEP_FAILED", "hunter", 1)]
    assert ran.sleeps == []
    assert ran.shown(DOMAINS) == (
        "failed",
        "hunter: Hunter refused the API key (details: check WYSHBONE_HUNTER_API_KEY; HTTP 401: the key was "
        "refused (authentication_failed): No user found for the API key supplied)",
    )
    assert_plain(ran.shown(DOMAINS)[1])
    assert ran.statuses == {SEARCH: "succeeded", DOMAINS: "failed", ENRICH: "skipped", SAVE: "succeeded"}
    assert ran.result.overall_status.value == "partial"
    assert len(ran.leads) == 2


@pytest.mark.parametrize(
    ("retry_after", "sleeps"),
    [
        pytest.param("3", [3.0], id="with-retry-after"),  # Hunter's own wait is kept
        pytest.param(None, [1.0], id="without-retry-after"),  # backoff, not an instant retry
    ],
)
async def test_hunter_rate_limit_403_is_retried_and_passes(
    tmp_path: Path,
    client: httpx.AsyncClient,
    places: FakeGooglePlaces,
    hunter: FakeHunter,
    caplog: pytest.LogCaptureFixture,
    retry_after: str | None,
    sleeps: list[float],
) -> None:
    # Hunter's 403 means "too many requests per second"; the next second it answers.
    cafes_for_hunter(places)
    hunter.retry_after = retry_after
    hunter.fail_next(HunterFault.RATE_LIMITED)
    ran = await run_plan(hunter_settings(tmp_path, places, hunter), client, caplog)

    assert ran.trail(DOMAINS) == [
        ("STEP_STARTED", "hunter", 1),
        ("STEP_RETRYING", "hunter", 2),
        ("STEP_SUCCEEDED", "hunter", 2),
    ]
    assert ran.sleeps == sleeps
    retrying = next(e for e in ran.events if e.type.value == "STEP_RETRYING")
    assert retrying.error_message == (
        "hunter: Hunter is getting too many requests from Wyshbone right now "
        "(details: HTTP 403: rate limited (too_many_requests): You have reached the rate limit.)"
    )
    assert_plain(retrying.error_message)
    assert ran.statuses == {SEARCH: "succeeded", DOMAINS: "succeeded", ENRICH: "succeeded", SAVE: "succeeded"}
    assert {lead.name: lead.domain for lead in ran.leads} == {
        "Northern Roast Coffee": "northernroast.co.uk",
        "Ancoats Brew Co": "ancoatsbrew.com",
    }


async def test_hunter_quota_429_fails_enrichment_without_retrying_and_keeps_the_list(
    tmp_path: Path,
    client: httpx.AsyncClient,
    places: FakeGooglePlaces,
    hunter: FakeHunter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cafes_for_hunter(places, both_have_websites=True)  # the domain step needs no Hunter call
    hunter.fail_next(HunterFault.QUOTA)
    ran = await run_plan(hunter_settings(tmp_path, places, hunter), client, caplog)

    assert ran.trail(ENRICH) == [("STEP_STARTED", "hunter", 1), ("STEP_FAILED", "hunter", 1)]
    assert ran.sleeps == []
    assert ran.shown(ENRICH) == (
        "failed",
        "hunter: Hunter's allowance for this billing period is used up; it renews when the next period starts, "
        "or a larger Hunter plan raises it (details: HTTP 429: quota for the billing period used up "
        "(too_many_requests): You've reached the limit for the number of searches per billing period included "
        "in your plan.)",
    )
    assert_plain(ran.shown(ENRICH)[1])
    assert ran.statuses == {SEARCH: "succeeded", DOMAINS: "succeeded", ENRICH: "failed", SAVE: "succeeded"}
    assert ran.result.overall_status.value == "partial"
    assert [lead.emails for lead in ran.leads] == [[], []]  # saved, without addresses


@pytest.mark.parametrize(
    ("fault", "note"),
    [
        # A 5xx burst that passes.
        pytest.param(
            HunterFault.SERVER_ERROR, "hunter: Hunter had a problem on its side (details: HTTP 500)", id="5xx"
        ),
        # Malformed JSON: a 200 cut off.
        pytest.param(
            HunterFault.MALFORMED,
            "hunter: Hunter sent an answer that could not be read (cut off or garbled) "
            "(details: HTTP 200 with a body that is not JSON)",
            id="malformed-json",
        ),
    ],
)
async def test_hunter_passing_faults_are_retried(
    tmp_path: Path,
    client: httpx.AsyncClient,
    places: FakeGooglePlaces,
    hunter: FakeHunter,
    caplog: pytest.LogCaptureFixture,
    fault: HunterFault,
    note: str,
) -> None:
    cafes_for_hunter(places)
    hunter.fail_next(fault)
    ran = await run_plan(hunter_settings(tmp_path, places, hunter), client, caplog)

    assert [t for t, _, _ in ran.trail(DOMAINS)] == ["STEP_STARTED", "STEP_RETRYING", "STEP_SUCCEEDED"]
    assert ran.sleeps == [1.0]
    assert [e.error_message for e in ran.events if e.type.value == "STEP_RETRYING"] == [note]
    assert_plain(note)
    assert ran.statuses[ENRICH] == "succeeded"


def unverified(name: str, email: str) -> Lead:
    contact = {"value": email, "source": "website", "verification": "unverified"}
    return Lead(name=name, source="osm", source_id=f"osm:node/{len(name)}", emails=[contact])


async def test_hunter_451_at_verification_suppresses_the_address(
    hunter: FakeHunter, client: httpx.AsyncClient
) -> None:
    # The person behind the address asked Hunter not to process it: it is never written to.
    clock = FakeClock()
    verifier = HunterClient(
        api_key=hunter.api_key, base_url=hunter.base_url, client=client, sleep=clock.sleep
    )
    lead = unverified("Ancoats Brew Co", "private.person@ancoatsbrew.com")

    leads, suppressions, asked = await verify_contacts([lead], verifier, {})

    assert (leads, asked) == ([lead], 1)
    assert suppressions == [suppression_entry("private.person@ancoatsbrew.com", SuppressionReason.CLAIMED)]


@pytest.mark.parametrize(
    ("pending", "verification", "sleeps"),
    [
        # Still verifying twice, then the verdict: polled one second apart.
        pytest.param(2, "accept_all", [1.0, 1.0], id="202-then-verdict"),
        # Still verifying after five polls: drafting goes on, the address stays unverified.
        pytest.param(10, "unverified", [1.0] * 5, id="202-until-the-bound"),
    ],
)
async def test_hunter_202_verification_in_progress_is_polled(
    hunter: FakeHunter, client: httpx.AsyncClient, pending: int, verification: str, sleeps: list[float]
) -> None:
    email = "sam.patel@northernroast.co.uk"
    hunter.pending[email] = pending
    clock = FakeClock()
    verifier = HunterClient(
        api_key=hunter.api_key,
        base_url=hunter.base_url,
        client=client,
        sleep=clock.sleep,
        verify_limiter=InMemoryLimiter("verify", windows((100, 1.0))),
    )

    leads, suppressions, asked = await verify_contacts([unverified("Northern Roast", email)], verifier, {})

    assert [e.verification for e in leads[0].emails] == [verification]
    assert (suppressions, asked, clock.sleeps) == ([], 1, sleeps)


@pytest.mark.parametrize(
    ("fault", "key", "message"),
    [
        # 401: the key is wrong.
        pytest.param(
            None,
            "hunterWRONGkey0123456789abcdef",
            "hunter: Hunter refused the API key (details: check WYSHBONE_HUNTER_API_KEY; HTTP 401: the key was "
            "refused (authentication_failed): No user found for the API key supplied)",
            id="bad-key",
        ),
        # 400 whose details quote the key back: still the key's fault, and the key shows as [key].
        pytest.param(
            HunterFault.ECHO_KEY,
            None,
            "hunter: Hunter refused the API key (details: check WYSHBONE_HUNTER_API_KEY; HTTP 400: the key was "
            "refused (invalid_api_key): The API key [key] is not valid for this request)",
            id="400-quoting-the-key",
        ),
        # 403: too many requests per second.
        pytest.param(
            HunterFault.RATE_LIMITED,
            None,
            "hunter: Hunter is getting too many requests from Wyshbone right now "
            "(details: HTTP 403: rate limited (too_many_requests): You have reached the rate limit.)",
            id="rate_limited",
        ),
        # 429: the billing period's searches are used up.
        pytest.param(
            HunterFault.QUOTA,
            None,
            "hunter: Hunter's allowance for this billing period is used up; it renews when the next period starts, "
            "or a larger Hunter plan raises it (details: HTTP 429: quota for the billing period used up "
            "(too_many_requests): You've reached the limit for the number of searches per billing period included "
            "in your plan.)",
            id="quota",
        ),
        # 500.
        pytest.param(
            HunterFault.SERVER_ERROR,
            None,
            "hunter: Hunter had a problem on its side (details: HTTP 500)",
            id="server-error",
        ),
        # A 200 whose body is cut off.
        pytest.param(
            HunterFault.MALFORMED,
            None,
            "hunter: Hunter sent an answer that could not be read (cut off or garbled) "
            "(details: HTTP 200 with a body that is not JSON)",
            id="malformed",
        ),
    ],
)
async def test_hunter_messages_speak_plainly(
    hunter: FakeHunter, client: httpx.AsyncClient, fault: HunterFault | None, key: str | None, message: str
) -> None:
    if fault is not None:
        hunter.fail_next(fault)
    with pytest.raises(ToolError) as caught:
        await HunterClient(
            api_key=key or hunter.api_key, base_url=hunter.base_url, client=client
        ).domain_search(domain="northernroast.co.uk")

    assert caught.value.message == message
    assert_plain(message)


# --- SMTP ---------------------------------------------------------------------------------------------------------


@dataclass
class ContentFilteringSmtp(FakeSmtp):
    """A server whose content filter refuses the message itself after DATA (554), as spam filters do."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "554 5.7.1 Message rejected: content looks like spam"


@pytest.mark.parametrize(
    ("fake", "outcome", "reply"),
    [
        # 4xx for the recipient: a deferral. The message shows "failed" and is tried again by the next send.
        pytest.param(
            FakeSmtp(defer={"owner@beanthere.co.uk"}),
            "failed",
            "451 4.3.0 Mailbox temporarily unavailable, try again later",
            id="4xx-deferred",
        ),
        # 5xx for the recipient: a bounce. The message shows "bounced"; the address goes on the suppression list.
        pytest.param(
            FakeSmtp(bounce={"owner@beanthere.co.uk"}),
            "bounced",
            "550 5.1.1 <owner@beanthere.co.uk>: Recipient address rejected: User unknown",
            id="5xx-bounced",
        ),
        # 5xx for the message itself: "rejected", never retried.
        pytest.param(
            ContentFilteringSmtp(),
            "rejected",
            "554 5.7.1 Message rejected: content looks like spam",
            id="5xx-rejected",
        ),
    ],
)
async def test_smtp_answers_become_the_message_status_and_reply(
    tmp_path: Path, fake: FakeSmtp, outcome: str, reply: str
) -> None:
    with running_smtp(tmp_path, fake) as smtp:
        sender = SmtpSender(parse_smtp_url(smtp.url()), ca_file=smtp.ca_file, timeout=5)
        delivery = await sender.send(mail())  # type: ignore[arg-type]

    # services.Outreach.send stores exactly this as the message's status and the server's reply.
    assert (delivery.outcome, delivery.reply) == (outcome, reply)
    assert fake.received == []


async def test_smtp_refused_login_stops_the_send_and_never_shows_the_password(tmp_path: Path) -> None:
    with running_smtp(tmp_path) as smtp:
        url = smtp.url().replace("s3cret", "wr0ng")
        sender = SmtpSender(parse_smtp_url(url), ca_file=smtp.ca_file, timeout=5)
        with pytest.raises(SmtpUnavailableError) as caught:
            await sender.send(mail())  # type: ignore[arg-type]

    # The CLI prints this and exits 2; the message being sent is marked failed with it as the reply.
    assert caught.value.message == (
        f"the SMTP server 127.0.0.1:{smtp.port} refused the login: 535 5.7.8 Authentication credentials invalid"
    )
    assert "wr0ng" not in caught.value.message and PASSWORD not in caught.value.message


@pytest.mark.parametrize(
    ("silent", "words"),
    [
        # Nothing listening: the connection is refused.
        pytest.param(
            False,
            "the SMTP server could not be reached (details: check WYSHBONE_SMTP_URL; SMTPConnectError: Error "
            "connecting to 127.0.0.1 on port {port}: [Errno {refused}] Connect call failed ('127.0.0.1', {port}))",
            id="nothing-listening",
        ),
        # A server that takes the connection and never greets: a timeout.
        pytest.param(
            True,
            "the SMTP server did not answer in time "
            "(details: SMTPConnectTimeoutError: Timed out waiting for server ready message)",
            id="never-greets",
        ),
    ],
)
async def test_smtp_unreachable_server_is_explained_plainly(silent: bool, words: str) -> None:
    with SocketFault(then="hang").running() as server:
        address = server.base_url.removeprefix("http://") if silent else f"127.0.0.1:{free_port()}"
        with pytest.raises(SmtpUnavailableError) as caught:
            await SmtpSender(parse_smtp_url(f"smtp://{address}"), timeout=0.3).send(mail())  # type: ignore[arg-type]

    port = address.rpartition(":")[2]
    shown = words.format(port=port, refused=errno.ECONNREFUSED)
    assert caught.value.message == f"cannot deliver through {address}: {shown}"
    assert_plain(caught.value.message.removeprefix(f"cannot deliver through {address}: "))
