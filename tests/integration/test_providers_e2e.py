"""Whole plans through ``AppContext`` against the fake providers: search → domains → emails → saved leads.

Google Places, Hunter, Overpass and the business websites are the local fakes; a fake resolver stands in for
DNS so that no test sends a query to the outside world (the named sites resolve to the fake sites on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from tests.fakes.google_places import FakeGooglePlaces
from tests.fakes.google_places import Fault as PlacesFault
from tests.fakes.hunter import DOMAIN_SEARCH_PATH, FakeHunter
from tests.fakes.hunter import Fault as HunterFault
from tests.fakes.overpass import FakeOverpass, manchester_elements
from tests.fakes.websites import FakeWebsites, running_websites
from wyshbone.bootstrap import open_context
from wyshbone.cli import app
from wyshbone.config import Settings
from wyshbone.domain.models import (
    ContactEmail,
    Lead,
    LeadGenExecutionResult,
    LeadGenPlan,
    PlanEvent,
    SupervisorUserContext,
)

pytestmark = pytest.mark.data

USER = SupervisorUserContext(user_id="u1")
GOAL = "Find 20 coffee shops in Manchester and email them"
SEARCH, DOMAINS, ENRICH, SAVE, OUTREACH = (
    "global_db_search_1",
    "hunter_domain_lookup_1",
    "hunter_enrich_1",
    "lead_list_save_1",
    "email_sequence_setup_1",
)
BEANERY_HOST = "thebeanery.co.uk"
"""Resolves (by the fake resolver) to the fake "mailto" site, whose contact page lists hello@thebeanery.co.uk."""
NORTHERN_HOST = "northernroast.co.uk"
"""A domain the fake Hunter knows; it does not resolve, so its emails can only come from Hunter."""


# --- the fakes ------------------------------------------------------------------------------------------------


@dataclass
class FakeResolver:
    """``loop.getaddrinfo`` for tests: the named hosts resolve to loopback, IP literals to themselves, and every
    other name fails as an unknown name would, without a DNS query."""

    names: dict[str, str]
    original: Any
    asked: list[str] = field(default_factory=list)

    async def getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        self.asked.append(name)
        if name in self.names:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (self.names[name], int(port or 0)))]
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in name else socket.AF_INET, name)
        except OSError:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        return await self.original(host, port, *args, **kwargs)


@dataclass
class Fakes:
    places: FakeGooglePlaces
    hunter: FakeHunter
    overpass: FakeOverpass
    sites: FakeWebsites
    resolver: FakeResolver


def _place(place_id: str, name: str, website: str | None, n: int) -> dict[str, Any]:
    """One ``places[]`` entry with Google's field names (and no ``websiteUri`` when there is none)."""
    place: dict[str, Any] = {
        "name": f"places/{place_id}",
        "id": place_id,
        "displayName": {"text": name, "languageCode": "en"},
        "formattedAddress": f"{n} Market St, Manchester M1 {n}AA, UK",
        "location": {"latitude": 53.4808 + n * 0.001, "longitude": -2.2426},
        "types": ["coffee_shop", "cafe", "food", "point_of_interest", "establishment"],
        "businessStatus": "OPERATIONAL",
    }
    if website is not None:
        place["websiteUri"] = website
    return place


def manchester_places(sites: FakeWebsites) -> list[dict[str, Any]]:
    """Six cafés, one per path through the domain and email waterfalls (see the happy-path test)."""
    return [
        _place("ChIJbeanery", "The Beanery", f"http://{BEANERY_HOST}:{sites.ports['mailto']}/", 1),
        _place("ChIJnorthern", "Northern Roast Coffee", f"https://{NORTHERN_HOST}/", 2),
        _place("ChIJancoats", "Ancoats Brew Co", None, 3),
        _place("ChIJcrumb", "Crumb & Coffee", sites.url("obfuscated"), 4),
        _place("ChIJquiet", "The Quiet Corner", None, 5),
        _place("ChIJempty", "Quiet Florist Café", sites.url("empty"), 6),
    ]


@pytest.fixture
def fake_services() -> Iterator[tuple[FakeGooglePlaces, FakeHunter, FakeOverpass, FakeWebsites]]:
    with (
        running_websites() as sites,
        FakeGooglePlaces(places=[], retry_after="0").running() as places,
        FakeHunter(retry_after="0").running() as hunter,
        # No OSM café in the area: the search step falls back from Overpass to Google Places.
        FakeOverpass(elements=[]).running() as overpass,
    ):
        places.places = manchester_places(sites)
        yield places, hunter, overpass, sites


@pytest.fixture
async def fakes(
    fake_services: tuple[FakeGooglePlaces, FakeHunter, FakeOverpass, FakeWebsites],
    monkeypatch: pytest.MonkeyPatch,
) -> Fakes:
    places, hunter, overpass, sites = fake_services
    loop = asyncio.get_running_loop()
    resolver = FakeResolver({BEANERY_HOST: "127.0.0.1"}, loop.getaddrinfo)
    monkeypatch.setattr(loop, "getaddrinfo", resolver.getaddrinfo)
    return Fakes(places, hunter, overpass, sites, resolver)


def make_settings(
    tmp_path: Path,
    data_dir: Path,
    fakes: Fakes,
    *,
    google: bool = True,
    hunter: bool = True,
    overpass: bool = True,
    crawl: bool = True,
) -> Settings:
    """Settings pointing at the fakes; the directory file is never imported, so the search chain goes online."""
    return Settings(
        home=tmp_path / "home",
        directory_path=tmp_path / "not-imported.sqlite",
        open_data_dir=data_dir,
        google_places_api_key=SecretStr(fakes.places.api_key) if google else None,
        google_places_base_url=fakes.places.base_url,
        hunter_api_key=SecretStr(fakes.hunter.api_key) if hunter else None,
        hunter_base_url=fakes.hunter.base_url,
        overpass_url=fakes.overpass.url if overpass else None,
        website_crawl=crawl,
        allow_private_addresses=True,
    )


@dataclass
class Run:
    """Everything one run left behind."""

    plan: LeadGenPlan
    result: LeadGenExecutionResult
    events: list[PlanEvent]
    leads: list[Lead]

    @property
    def statuses(self) -> dict[str, str]:
        return {r.step_id: r.status.value for r in self.result.step_results}

    def step(self, step_id: str) -> Any:
        return next(r for r in self.result.step_results if r.step_id == step_id)

    def trail(self, step_id: str) -> list[tuple[str, str | None, int | None]]:
        """The step's events as (type, provider, attempt)."""
        return [(e.type.value, e.provider, e.attempt) for e in self.events if e.step_id == step_id]

    def lead(self, name: str) -> Lead:
        return next(lead for lead in self.leads if lead.name == name)


async def run_goal(settings: Settings) -> Run:
    sup = await open_context(settings)
    try:
        plan = await sup.plans.start_plan(GOAL, USER)
        approved = await sup.plans.approve_plan(plan.id)
        events: list[PlanEvent] = []
        result = await sup.plans.run_plan(approved, USER, on_event=events.append)
        leads = list(await sup.plans.leads(plan.id))
        return Run(plan, result, events, leads)
    finally:
        await sup.close()


def emails_of(lead: Lead) -> list[tuple[str, str, str, int | None, str | None]]:
    """(value, source, verification, score, foundOn) of each address."""
    found = [ContactEmail.model_validate(e) for e in lead.emails]
    return [(e.value, e.source, e.verification, e.score, e.found_on) for e in found]


# --- the happy path -------------------------------------------------------------------------------------------


async def test_happy_path_finds_domains_and_emails_with_provenance(
    fakes: Fakes, tmp_path: Path, data_dir: Path
) -> None:
    run = await run_goal(make_settings(tmp_path, data_dir, fakes))

    # Every step ran except outreach (not built: skipped by design), so the plan is partial, not failed.
    assert run.statuses == {
        SEARCH: "succeeded",
        DOMAINS: "succeeded",
        ENRICH: "succeeded",
        SAVE: "succeeded",
        OUTREACH: "skipped",
    }
    assert run.result.overall_status.value == "partial"
    assert run.step(OUTREACH).skipped_by_design
    # The directory is in the chain but not imported, so the run starts at Overpass, which finds nothing.
    assert run.plan.step(SEARCH).providers == ["local_directory", "overpass", "google_places"]
    assert run.trail(SEARCH) == [
        ("STEP_STARTED", "overpass", 1),
        ("STEP_FALLBACK", "google_places", 2),
        ("STEP_SUCCEEDED", "google_places", 2),
    ]
    fallback = next(e for e in run.events if e.type.value == "STEP_FALLBACK")
    assert fallback.data == {"from": "overpass", "to": "google_places"}
    assert fallback.error_message == "overpass: found nothing"
    assert run.step(SEARCH).data["provider"] == "google_places"

    assert run.step(DOMAINS).data["outcomes"] == [
        {"sourceId": "google_places:ChIJbeanery", "outcome": "found", "via": "website", "reason": None},
        {"sourceId": "google_places:ChIJnorthern", "outcome": "found", "via": "website", "reason": None},
        {"sourceId": "google_places:ChIJancoats", "outcome": "found", "via": "hunter", "reason": None},
        {
            "sourceId": "google_places:ChIJcrumb",
            "outcome": "not_found",
            "via": "hunter",
            "reason": "Hunter knows no domain for this name",
        },
        {"sourceId": "google_places:ChIJquiet", "outcome": "found", "via": "hunter", "reason": None},
        {
            "sourceId": "google_places:ChIJempty",
            "outcome": "not_found",
            "via": "hunter",
            "reason": "Hunter knows no domain for this name",
        },
    ]
    enrich = run.step(ENRICH).data
    assert (enrich["found"], enrich["notFound"], enrich["errors"]) == (4, 2, 0)
    assert [(o["outcome"], o["via"]) for o in enrich["outcomes"]] == [
        ("found", "website"),
        ("found", "hunter"),  # the site does not resolve: Hunter's domain search is next
        ("found", "hunter"),
        ("found", "website"),
        ("not_found", None),
        ("not_found", None),
    ]
    assert enrich["outcomes"][4]["reason"] == "hunter: no addresses for this domain"
    assert enrich["outcomes"][5]["reason"].startswith("website: no addresses found")
    assert enrich["outcomes"][5]["reason"].endswith("; hunter: no domain to search")

    # The saved leads, in search order, each field with the source that supplied it.
    assert [lead.name for lead in run.leads] == [
        "The Beanery",
        "Northern Roast Coffee",
        "Ancoats Brew Co",
        "Crumb & Coffee",
        "The Quiet Corner",
        "Quiet Florist Café",
    ]
    beanery = run.lead("The Beanery")
    port = fakes.sites.ports["mailto"]
    assert (beanery.domain, beanery.provenance["domain"], beanery.provenance["emails"]) == (
        BEANERY_HOST,
        "website",
        "website",
    )
    assert emails_of(beanery) == [
        ("hello@thebeanery.co.uk", "website", "unverified", None, f"http://{BEANERY_HOST}:{port}/contact")
    ]
    northern = run.lead("Northern Roast Coffee")
    assert (northern.domain, northern.provenance["domain"], northern.provenance["emails"]) == (
        NORTHERN_HOST,
        "website",
        "hunter",
    )
    assert emails_of(northern) == [
        ("hello@northernroast.co.uk", "hunter", "valid", 94, None),
        ("sam.patel@northernroast.co.uk", "hunter", "accept_all", 87, None),
        ("jo@northernroast.co.uk", "hunter", "unknown", 41, None),  # Hunter gave no status
    ]
    ancoats = run.lead("Ancoats Brew Co")
    assert (ancoats.domain, ancoats.provenance["domain"], ancoats.provenance["emails"]) == (
        "ancoatsbrew.com",
        "hunter",
        "hunter",
    )
    assert emails_of(ancoats) == [("info@ancoatsbrew.com", "hunter", "webmail", 90, None)]
    crumb = run.lead("Crumb & Coffee")
    about = fakes.sites.url("obfuscated") + "about"
    assert (crumb.domain, "domain" in crumb.provenance, crumb.provenance["emails"]) == (
        None,
        False,
        "website",
    )
    assert emails_of(crumb) == [
        ("bookings@crumbandcoffee.co.uk", "website", "unverified", None, about),
        ("jobs@crumbandcoffee.co.uk", "website", "unverified", None, about),
    ]
    quiet = run.lead("The Quiet Corner")
    assert (quiet.domain, quiet.provenance["domain"], quiet.emails) == ("quietcorner.co.uk", "hunter", [])
    empty = run.lead("Quiet Florist Café")
    assert (empty.domain, empty.emails, empty.provenance["website"]) == (None, [], "google_places")

    # Hunter was asked once per company name without a usable website (its answer names the addresses too,
    # so those domains are not asked again), once per domain from a website without site emails (leads are
    # looked up side by side, so in no particular order).
    assert sorted(
        (r.query.get("company") or "", r.query.get("domain") or "") for r in fakes.hunter.requests
    ) == [
        ("", NORTHERN_HOST),
        ("Ancoats Brew Co", ""),
        ("Crumb & Coffee", ""),
        ("Quiet Florist Café", ""),
        ("The Quiet Corner", ""),
    ]
    assert NORTHERN_HOST in fakes.resolver.asked  # the crawler tried the site before falling back to Hunter


# --- addresses a provider gave that are not one address --------------------------------------------------------


async def test_refused_addresses_reach_the_saved_lead_as_notes(
    fakes: Fakes, tmp_path: Path, data_dir: Path
) -> None:
    # A security probe's values in Hunter's answers: two addresses in one value (Northern Roast's site does not
    # resolve, so Hunter is asked), and a line break starting a Bcc header (Ancoats Brew Co has no website).
    fakes.hunter.answer_with(NORTHERN_HOST, "info@a.example, victim@evil.example")
    fakes.hunter.answer_with("ancoatsbrew.com", "x@y.example\r\nBcc: z@evil.example")
    run = await run_goal(make_settings(tmp_path, data_dir, fakes))

    assert run.statuses[ENRICH] == "succeeded" and run.statuses[SAVE] == "succeeded"
    # The leads as the API returns them (``GET /api/plan/{id}/leads`` reads the same store).
    shown = {lead.name: lead.to_json_dict() for lead in run.leads}
    # Two addresses in one value: each is an address of its own, and nothing was refused.
    northern = shown["Northern Roast Coffee"]
    assert [(e["value"], e["source"]) for e in northern["emails"]] == [
        ("info@a.example", "hunter"),
        ("victim@evil.example", "hunter"),
    ]
    assert (northern["provenance"]["emails"], northern["notes"]) == ("hunter", [])
    # A line break refuses the value whole: no address, and a note naming the value and saying why.
    ancoats = shown["Ancoats Brew Co"]
    assert (ancoats["domain"], ancoats["emails"], "emails" in ancoats["provenance"]) == (
        "ancoatsbrew.com",
        [],
        False,
    )
    assert ancoats["notes"] == [
        "refused address 'x@y.example\\r\\nBcc: z@evil.example' from hunter: "
        "it holds a line break or another control character"
    ]
    assert run.step(ENRICH).data["outcomes"][2] == {
        "sourceId": "google_places:ChIJancoats",
        "outcome": "not_found",
        "via": None,
        "reason": "hunter: no addresses for this domain",
    }
    # Every other lead is as the happy path leaves it: no notes.
    assert {name: lead["notes"] for name, lead in shown.items() if lead["notes"]} == {
        "Ancoats Brew Co": ancoats["notes"]
    }


# --- Google Places quotas ---------------------------------------------------------------------------------------


async def test_google_daily_quota_fails_the_search_and_the_plan(
    fakes: Fakes, tmp_path: Path, data_dir: Path
) -> None:
    fakes.places.fail_next(PlacesFault.QUOTA_PER_DAY)
    run = await run_goal(make_settings(tmp_path, data_dir, fakes))

    # Google is the last provider of the chain and a used-up daily quota is permanent: no retry, no leads.
    assert run.trail(SEARCH) == [
        ("STEP_STARTED", "overpass", 1),
        ("STEP_FALLBACK", "google_places", 2),
        ("STEP_FAILED", "google_places", 2),
    ]
    message = run.step(SEARCH).error_message
    assert message.startswith("overpass: found nothing; google_places: ")
    assert "HTTP 429 RESOURCE_EXHAUSTED (RATE_LIMIT_EXCEEDED): daily quota" in message
    assert "SearchTextRequestsPerDayPerProject used up" in message
    assert run.statuses == {
        SEARCH: "failed",
        DOMAINS: "skipped",
        ENRICH: "skipped",
        SAVE: "skipped",
        OUTREACH: "skipped",
    }
    assert (
        run.step(DOMAINS).error_message
        == "Skipped because 'Search Wyshbone Global Database' did not complete"
    )
    assert run.result.overall_status.value == "failed"
    assert run.leads == []
    assert len(fakes.places.requests) == 1
    assert fakes.hunter.requests == []


async def test_search_failure_names_each_provider_once(fakes: Fakes, tmp_path: Path, data_dir: Path) -> None:
    fakes.places.fail_next(PlacesFault.QUOTA_PER_DAY)
    run = await run_goal(make_settings(tmp_path, data_dir, fakes))

    message = run.step(SEARCH).error_message
    assert message.startswith("overpass: found nothing; google_places: Google Places' daily allowance")
    assert (message.count("overpass:"), message.count("google_places:")) == (1, 1)


async def test_search_tops_up_and_keeps_what_it_found_when_the_next_provider_fails(
    fakes: Fakes, tmp_path: Path, data_dir: Path
) -> None:
    # Overpass finds 2 of the 40 wanted: Google is asked to top up; its daily quota is gone, so the step keeps
    # Overpass's cafés and succeeds.
    fakes.overpass.elements = manchester_elements()
    fakes.places.fail_next(PlacesFault.QUOTA_PER_DAY)
    run = await run_goal(make_settings(tmp_path, data_dir, fakes, hunter=False, crawl=False))

    assert run.trail(SEARCH) == [
        ("STEP_STARTED", "overpass", 1),
        ("STEP_FALLBACK", "google_places", 2),
        ("STEP_SUCCEEDED", "overpass", 2),
    ]
    assert len(fakes.places.requests) == 1
    assert [lead.name for lead in run.leads] == ["Ancoats Coffee Co.", "Federal Café"]


async def test_search_merges_providers_without_duplicates(
    fakes: Fakes, tmp_path: Path, data_dir: Path
) -> None:
    # Overpass finds 2 cafés, Google 3 — one of them is Overpass's "Federal Café" at the same postcode: it is
    # merged into one lead whose missing fields come from Google, each field saying where it came from.
    elements = manchester_elements()
    federal = next(e for e in elements if e.get("tags", {}).get("name") == "Federal Café")
    federal["tags"]["contact:website"] = "https://federalcafe.co.uk/"
    fakes.overpass.elements = elements
    fakes.places.places = [
        _place("ChIJone", "Grindsmith", None, 1),
        _place("ChIJtwo", "Pot Kettle Black", None, 2),
        _place(
            "ChIJfed", "Federal Café", "https://www.federalcafe.co.uk/menu", 3
        ),  # same business, by domain
    ]
    run = await run_goal(make_settings(tmp_path, data_dir, fakes, hunter=False, crawl=False))

    search = run.step(SEARCH)
    assert (search.status.value, search.provider) == ("succeeded", "overpass+google_places")
    names = [lead.name for lead in run.leads]
    assert sorted(names) == ["Ancoats Coffee Co.", "Federal Café", "Grindsmith", "Pot Kettle Black"]
    federal_lead = run.lead("Federal Café")
    assert federal_lead.source == "osm"  # the first provider's record, filled in by the second
    assert federal_lead.provenance["name"] == "osm"
    assert federal_lead.provenance["postcode"] == "google_places"  # OSM had none; Google's address did


async def test_google_per_minute_quota_is_retried_then_succeeds(
    fakes: Fakes, tmp_path: Path, data_dir: Path
) -> None:
    fakes.places.fail_next(PlacesFault.QUOTA_PER_MINUTE)
    run = await run_goal(make_settings(tmp_path, data_dir, fakes))

    assert run.trail(SEARCH) == [
        ("STEP_STARTED", "overpass", 1),
        ("STEP_FALLBACK", "google_places", 2),
        ("STEP_RETRYING", "google_places", 3),
        ("STEP_SUCCEEDED", "google_places", 3),
    ]
    retrying = next(e for e in run.events if e.type.value == "STEP_RETRYING")
    assert retrying.data == {"delaySeconds": 0.0}  # the fake's Retry-After: 0 wins over the backoff
    assert retrying.error_message is not None
    assert "rate limited SearchTextRequestsPerMinutePerProject" in retrying.error_message
    assert run.step(SEARCH).attempts == 3
    assert run.statuses[SAVE] == "succeeded"
    assert run.result.overall_status.value == "partial"  # outreach only
    assert len(run.leads) == 6
    assert len(fakes.places.requests) == 2


# --- Hunter rate limits and quotas ------------------------------------------------------------------------------


async def test_hunter_rate_limit_burst_is_retried_and_visible_in_events(
    fakes: Fakes, tmp_path: Path, data_dir: Path
) -> None:
    # Hunter's 403 means "rate limited": two in a row, then the service answers again.
    fakes.hunter.fail_next(HunterFault.RATE_LIMITED, times=2)
    run = await run_goal(make_settings(tmp_path, data_dir, fakes))

    assert run.trail(DOMAINS) == [
        ("STEP_STARTED", "hunter", 1),
        ("STEP_RETRYING", "hunter", 2),
        ("STEP_RETRYING", "hunter", 3),
        ("STEP_SUCCEEDED", "hunter", 3),
    ]
    retries = [e for e in run.events if e.type.value == "STEP_RETRYING"]
    assert [e.data for e in retries] == [{"delaySeconds": 0.0}] * 2
    assert [e.error_message for e in retries] == [
        "hunter: Hunter is getting too many requests from Wyshbone right now "
        "(details: HTTP 403: rate limited (too_many_requests): You have reached the rate limit.)"
    ] * 2
    assert run.statuses == {
        SEARCH: "succeeded",
        DOMAINS: "succeeded",
        ENRICH: "succeeded",
        SAVE: "succeeded",
        OUTREACH: "skipped",
    }
    assert run.lead("Ancoats Brew Co").domain == "ancoatsbrew.com"
    assert emails_of(run.lead("Ancoats Brew Co")) == [("info@ancoatsbrew.com", "hunter", "webmail", 90, None)]


def _only_website_domains(fakes: Fakes) -> None:
    """Every café has a named website, so the domain step never asks Hunter: its first call is the enrichment."""
    fakes.places.places = [p for p in fakes.places.places if p["id"] in ("ChIJbeanery", "ChIJnorthern")]


async def test_hunter_quota_fails_the_enrich_step_without_retrying(
    fakes: Fakes, tmp_path: Path, data_dir: Path
) -> None:
    _only_website_domains(fakes)
    fakes.hunter.fail_next(HunterFault.QUOTA)
    run = await run_goal(make_settings(tmp_path, data_dir, fakes))

    assert run.statuses[DOMAINS] == "succeeded"
    assert run.trail(ENRICH) == [("STEP_STARTED", "website+hunter", 1), ("STEP_FAILED", "website+hunter", 1)]
    assert run.step(ENRICH).error_message == (
        "website+hunter: hunter: Hunter's allowance for this billing period is used up; it renews when the next "
        "period starts, or a larger Hunter plan raises it (details: HTTP 429: quota for the billing period used "
        "up (too_many_requests): You've reached the limit for the number of searches per billing period "
        "included in your plan.)"
    )
    assert [r.path for r in fakes.hunter.requests] == [DOMAIN_SEARCH_PATH]


@pytest.mark.parametrize(
    "website_domains_only",
    [
        pytest.param(True, id="quota-in-enrich"),  # the domain step needs no Hunter call; enrichment hits 429
        pytest.param(False, id="quota-in-domain-lookup"),  # the first company search hits 429
    ],
)
async def test_hunter_quota_leaves_the_plan_partial_with_leads_saved(
    fakes: Fakes, tmp_path: Path, data_dir: Path, website_domains_only: bool
) -> None:
    if website_domains_only:
        _only_website_domains(fakes)
    fakes.hunter.fail_next(HunterFault.QUOTA)
    run = await run_goal(make_settings(tmp_path, data_dir, fakes))

    assert run.result.overall_status.value == "partial"
    assert run.statuses[SAVE] == "succeeded"
    assert run.leads
    assert all(ContactEmail.model_validate(e).source != "hunter" for lead in run.leads for e in lead.emails)


# --- no keys ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overpass", "statuses", "overall", "names"),
    [
        # Overpass is keyless: with its URL set the search runs there; domains and emails are skipped by design.
        pytest.param(
            True,
            ["succeeded", "skipped", "skipped", "succeeded", "skipped"],
            "partial",
            ["Ancoats Coffee Co.", "Federal Café"],
            id="overpass-only",
        ),
        # Nothing online is configured and the directory is not imported: nothing to search, nothing to save.
        pytest.param(
            False,
            ["skipped", "skipped", "skipped", "failed", "skipped"],
            "failed",
            [],
            id="nothing-configured",
        ),
    ],
)
async def test_no_keys_skips_domains_and_enrichment_by_design(
    fakes: Fakes,
    tmp_path: Path,
    data_dir: Path,
    overpass: bool,
    statuses: list[str],
    overall: str,
    names: list[str],
) -> None:
    fakes.overpass.elements = manchester_elements()
    settings = make_settings(
        tmp_path, data_dir, fakes, google=False, hunter=False, overpass=overpass, crawl=False
    )
    run = await run_goal(settings)

    assert list(run.statuses.values()) == statuses
    assert run.result.overall_status.value == overall
    for step_id in (DOMAINS, ENRICH):
        result = run.step(step_id)
        assert result.skipped_by_design
        assert result.error_message.startswith("Not set up: needs a Hunter.io key")
    assert "hunter: set WYSHBONE_HUNTER_API_KEY" in run.step(DOMAINS).error_message
    availability = {s.step_id: s for s in run.plan.estimate.steps}
    assert not availability[DOMAINS].will_run and not availability[ENRICH].will_run
    assert [lead.name for lead in run.leads] == names
    # No key, no call.
    assert fakes.places.requests == [] and fakes.hunter.requests == []
    assert fakes.sites.requests == {}
    if overpass:
        ancoats = run.lead("Ancoats Coffee Co.")
        assert (ancoats.domain, ancoats.provenance["emails"]) == (None, "osm")
        assert emails_of(ancoats) == [("hello@ancoats.coffee", "osm", "unverified", None, None)]
    else:
        assert run.step(SEARCH).skipped_by_design
        assert run.step(SAVE).error_message == f"wyshbone_store: no leads to save: step {SEARCH!r} found none"


# --- secrets ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param("happy", id="happy-path"),
        pytest.param("google-echoes-key", id="google-echoes-key"),  # a 400 whose message quotes the key
        pytest.param("hunter-echoes-key", id="hunter-echoes-key"),  # a 400 whose details repeat the key
    ],
)
async def test_keys_appear_in_no_output(
    fakes: Fakes, tmp_path: Path, data_dir: Path, caplog: pytest.LogCaptureFixture, scenario: str
) -> None:
    fakes.places.api_key = "AIzaDISTINCTIVE-places-key-0123456789"
    fakes.hunter.api_key = "hunterDISTINCTIVEkey0123456789abcdef"
    if scenario == "google-echoes-key":
        fakes.places.fail_next(PlacesFault.KEY_IN_MESSAGE)
    if scenario == "hunter-echoes-key":
        fakes.hunter.fail_next(HunterFault.ECHO_KEY)
    settings = make_settings(tmp_path, data_dir, fakes)
    caplog.set_level(logging.INFO)

    sup = await open_context(settings)
    try:
        plan = await sup.plans.start_plan(GOAL, USER, session_id="s1")
        approved = await sup.plans.approve_plan(plan.id, session_id="s1")
        events: list[PlanEvent] = []
        result = await sup.plans.run_plan(approved, USER, on_event=events.append)
        outputs = [
            *(e.model_dump_json() for e in events),
            *(e.model_dump_json() for e in await sup.plans.events(plan.id)),
            *(r.model_dump_json() for r in result.step_results),
            result.model_dump_json(),
            (await sup.plans.result(plan.id)).model_dump_json(),
            *(r.model_dump_json() for r in (await sup.repos.plans.step_results(plan.id)).values()),
            *(lead.model_dump_json() for lead in await sup.plans.leads(plan.id)),
            plan.model_dump_json(),
            (await sup.plans.get_plan(plan.id)).model_dump_json(),
            (await sup.plans.progress(plan.id)).model_dump_json(),
            caplog.text,
            *(repr(vars(record)) for record in caplog.records),
        ]
    finally:
        await sup.close()

    # The keys were really in use (the fakes saw them, in headers only) ...
    if scenario != "google-echoes-key":
        assert any(r.headers.get("x-api-key") == fakes.hunter.api_key for r in fakes.hunter.requests)
    assert all("api_key" not in r.query for r in fakes.hunter.requests)
    assert fakes.places.requests[0].headers["x-goog-api-key"] == fakes.places.api_key
    assert any("[LEAD_GEN_PLAN]" in r.getMessage() for r in caplog.records if r.name == "wyshbone.plan")
    if scenario != "happy":
        assert "[key]" in "".join(outputs)  # the echo reached an output, scrubbed
    # ... and none of the outputs shows them.
    for key in (fakes.places.api_key, fakes.hunter.api_key):
        leaks = [text[:200] for text in outputs if key in text]
        assert leaks == []


def test_cli_run_with_keys_set_to_the_fakes_saves_leads_with_domains_and_emails(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 4's "done when", through the command line: keys point at the fakes (no crawl: no DNS needed)."""
    places = [
        _place(
            "ChIJnorthern", "Northern Roast Coffee", f"https://{NORTHERN_HOST}/", 1
        ),  # domain from its website
        _place("ChIJancoats", "Ancoats Brew Co", None, 2),  # domain from Hunter's company search
        _place("ChIJnone", "Nobody Knows Café", None, 3),  # neither: saved without contacts
    ]
    with (
        FakeGooglePlaces(places=places).running() as google,
        FakeHunter().running() as hunter,
    ):
        for name, value in {
            "WYSHBONE_HOME": str(tmp_path / "home"),
            "WYSHBONE_DIRECTORY_PATH": str(tmp_path / "not-imported.sqlite"),
            "WYSHBONE_OPEN_DATA_DIR": str(data_dir),
            "WYSHBONE_GOOGLE_PLACES_API_KEY": google.api_key,
            "WYSHBONE_GOOGLE_PLACES_BASE_URL": google.base_url,
            "WYSHBONE_HUNTER_API_KEY": hunter.api_key,
            "WYSHBONE_HUNTER_BASE_URL": hunter.base_url,
        }.items():
            monkeypatch.setenv(name, value)
        runner = CliRunner()
        ran = runner.invoke(app, ["run", GOAL, "--yes", "--json"])
        assert ran.exit_code == 0, ran.stderr
        outcome = json.loads(ran.stdout)
        listed = runner.invoke(app, ["leads", outcome["planId"]])
    assert listed.exit_code == 0, listed.stderr
    steps = {s["stepId"]: s for s in outcome["stepResults"]}
    assert steps[SEARCH]["provider"] == "google_places"
    assert [steps[s]["status"] for s in (SEARCH, DOMAINS, ENRICH, SAVE)] == ["succeeded"] * 4
    assert outcome["overallStatus"] == "partial"  # outreach drafting is not built yet: skipped by design
    leads = {lead["name"]: lead for lead in json.loads(listed.stdout)}
    assert set(leads) == {"Northern Roast Coffee", "Ancoats Brew Co", "Nobody Knows Café"}
    northern, ancoats = leads["Northern Roast Coffee"], leads["Ancoats Brew Co"]
    assert (northern["domain"], northern["provenance"]["domain"]) == (NORTHERN_HOST, "website")
    assert (ancoats["domain"], ancoats["provenance"]["domain"]) == ("ancoatsbrew.com", "hunter")
    for lead in (northern, ancoats):
        assert lead["emails"] and all(e["source"] == "hunter" and e["verification"] for e in lead["emails"])
        assert lead["provenance"]["emails"] == "hunter"
    assert leads["Nobody Knows Café"]["emails"] == []
    for secret in (google.api_key, hunter.api_key):
        assert secret not in ran.stdout + ran.stderr + listed.stdout
