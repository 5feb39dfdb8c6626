"""The website contact crawler: pure parts on in-memory HTML, then the crawler against real local sites.

The sites (``tests.fakes.websites``) live on 127.0.0.1, so the crawl tests pass ``allow_private=True``;
one test checks that without it the loopback sites themselves are refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.server import SocketFault, http_answer
from tests.fakes.websites import FakeWebsites, running_websites
from wyshbone.domain.models import (
    ContactEmail,
    Lead,
    LeadGenGoal,
    LeadGenPlan,
    LeadGenStepResult,
    LeadGenStepStatus,
    LeadToolExecutionEnv,
    SupervisorUserContext,
)
from wyshbone.domain.planner import ProviderInfo
from wyshbone.domain.steps import ContactsOutput, EnrichParams
from wyshbone.providers.website import (
    WebsiteContacts,
    address_refusal,
    candidate_pages,
    discover_contacts,
    extract_contacts,
    extract_emails,
    prefer_own_domain,
    registrable_domain,
)
from wyshbone.tools.contacts import enrich_provider


def web(value: str, found_on: str) -> ContactEmail:
    return ContactEmail(value=value, source="website", verification="unverified", found_on=found_on)


# --- registrable_domain -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("www.foo.co.uk/contact", "foo.co.uk"),  # two-label public suffix, path ignored
        ("https://shop.foo.co.uk:8443/a?b=c", "foo.co.uk"),  # scheme, port and query ignored
        ("foo.com", "foo.com"),
        ("a.b.c.foo.com", "foo.com"),  # deep subdomain
        ("HTTP://WWW.FOO.COM/", "foo.com"),  # case folded
        ("bar.org.uk", "bar.org.uk"),
        ("x.blogspot.com", "blogspot.com"),  # private-registry suffixes are not used: ICANN list only
        ("192.168.1.10", None),  # IPv4
        ("http://127.0.0.1:8000/", None),
        ("http://[::1]/", None),  # IPv6
        ("localhost", None),  # no public suffix
        ("co.uk", None),  # a suffix alone
        ("", None),
        ("not a url", None),
        ("foo.notarealtld", None),
    ],
)
def test_registrable_domain_cases(given: str, expected: str | None) -> None:
    assert registrable_domain(given) == expected


# --- extract_emails / prefer_own_domain / candidate_pages ---------------------------------------------

PAGE = "https://www.foo.co.uk/contact"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        # mailto with a query string, URL-encoded
        ('<a href="mailto:Info%40Foo.co.uk?subject=Hi">mail</a>', ["info@foo.co.uk"]),
        # plain text in a paragraph, trailing full stop
        ("<p>Write to sales@foo.co.uk.</p>", ["sales@foo.co.uk"]),
        # bracketed obfuscation, any case, spaces
        ("<p>hello [at] foo [dot] co [dot] uk</p>", ["hello@foo.co.uk"]),
        ("<p>hello (AT) foo (DOT) com</p>", ["hello@foo.com"]),
        # HTML entities
        ("<p>&#104;i&#64;foo&#46;com</p>", ["hi@foo.com"]),
        # an address in an attribute
        ('<span data-email="desk@foo.com"></span>', ["desk@foo.com"]),
        # duplicates across mailto and text collapse to one, mailto first
        ('<p>b@foo.com</p><a href="mailto:a@foo.com">a@foo.com</a>', ["a@foo.com", "b@foo.com"]),
        # junk: retina image names, placeholder domains, error-tracker ids, unknown TLDs
        (
            '<img src="logo@2x.png"><img srcset="hero@3x.webp 3x"><p>you@example.com</p>'
            '<script>"0123456789abcdef0123456789abcdef@o123.ingest.sentry.io"</script>'
            "<p>605a7baede844d278b89dc95ae0a9123@sentry-next.wixpress.com</p><p>me@host.invalidtld</p>",
            [],
        ),
        # prose "at" is not an address
        ("<p>Meet us at the market dot com stall</p>", []),
        # package versions in scripts are not addresses
        ('<script src="https://cdn.example.net/react-dom@18.2.0/umd/x.js"></script>', []),
    ],
)
def test_extract_emails_cases(html: str, expected: list[str]) -> None:
    assert extract_emails(html, PAGE) == [web(value, PAGE) for value in expected]


def test_extract_contacts_checks_each_address_and_says_which_it_refused() -> None:
    html = (
        '<a href="mailto:Hello@Foo.co.uk,Sales@Foo.co.uk">mail</a>'  # two in one mailto: each on its own
        "<p>jo.@foo.co.uk</p>"  # looks like an address, is not one (a dot before the @)
        "<p>a..b@foo.co.uk</p>"  # nor this (two dots in a row)
    )
    assert extract_contacts(html, PAGE) == (
        [web("hello@foo.co.uk", PAGE), web("sales@foo.co.uk", PAGE)],
        [
            "refused address 'jo.@foo.co.uk' from website: "
            "An email address cannot have a period immediately before the @-sign.",
            "refused address 'a..b@foo.co.uk' from website: An email address cannot have two periods in a row.",
        ],
    )


def test_prefer_own_domain_keeps_only_own_addresses_when_there_are_any() -> None:
    found = [web("owner@gmail.com", PAGE), web("hello@foo.co.uk", PAGE), web("dev@webco.com", PAGE)]
    assert prefer_own_domain(found, ["foo.co.uk"]) == [web("hello@foo.co.uk", PAGE)]


def test_prefer_own_domain_keeps_everything_when_none_is_own() -> None:
    found = [
        web("owner@gmail.com", PAGE),
        web("owner@gmail.com", "https://foo.co.uk/"),
        web("x@bar.com", PAGE),
    ]
    assert prefer_own_domain(found, ["foo.co.uk", None]) == [
        web("owner@gmail.com", PAGE),
        web("x@bar.com", PAGE),
    ]


def test_candidate_pages_prefers_contact_links_then_guesses() -> None:
    html = (
        '<a href="/get-in-touch">Contact us</a>'  # text mentions contact
        '<a href="https://shop.foo.co.uk/contact-form#top">Form</a>'  # same site, other subdomain
        '<a href="https://facebook.com/contact">Facebook</a>'  # other site: ignored
        '<a href="mailto:contact@foo.co.uk">mail</a>'  # not a page
        '<a href="/menu">Menu</a>'  # not about contact
    )
    assert candidate_pages(html, "https://www.foo.co.uk/", limit=4) == [
        "https://www.foo.co.uk/get-in-touch",
        "https://shop.foo.co.uk/contact-form",
        "https://www.foo.co.uk/contact",
        "https://www.foo.co.uk/contact-us",
    ]


@pytest.mark.parametrize(
    ("address", "allow_private", "expected"),
    [
        ("93.184.215.14", False, None),  # public IPv4
        ("2606:4700::6810:84e5", False, None),  # public IPv6
        ("127.0.0.1", False, "loopback address 127.0.0.1"),
        ("127.0.0.1", True, None),  # tests reach the fakes
        ("::1", True, None),
        ("10.0.0.1", True, "private address 10.0.0.1"),  # allow_private admits loopback only
        ("192.168.1.1", False, "private address 192.168.1.1"),
        ("fd00::1", False, "private address fd00::1"),
        ("169.254.169.254", True, "link-local address 169.254.169.254"),  # cloud metadata
        ("fe80::1", False, "link-local address fe80::1"),
        ("0.0.0.0", True, "unspecified address 0.0.0.0"),
        ("224.0.0.1", False, "multicast address 224.0.0.1"),
        ("240.0.0.1", False, "private address 240.0.0.1"),  # reserved, which ipaddress also calls private
        ("100.64.0.1", False, "non-public address 100.64.0.1"),  # carrier-grade NAT
        ("::ffff:10.1.2.3", False, "private address 10.1.2.3"),  # IPv4-mapped IPv6
    ],
)
def test_address_refusal_cases(address: str, allow_private: bool, expected: str | None) -> None:
    assert address_refusal(address, allow_private=allow_private) == expected


# --- discover_contacts against the fake sites ---------------------------------------------------------


@pytest.fixture
def sites() -> Iterator[FakeWebsites]:
    with running_websites() as running:
        yield running


async def crawl(sites: FakeWebsites, name: str, client: httpx.AsyncClient, **options: Any) -> WebsiteContacts:
    return await discover_contacts(sites.url(name), client=client, allow_private=True, **options)


async def test_discover_contacts_mailto_on_contact_page(
    sites: FakeWebsites, client: httpx.AsyncClient
) -> None:
    home = sites.url("mailto")
    result = await crawl(sites, "mailto", client)
    assert result == WebsiteContacts(
        domain=None,  # an IP-address site has no registrable domain
        emails=[web("hello@thebeanery.co.uk", home + "contact")],
        pages_fetched=[home, home + "contact"],
        reason=None,
    )
    assert sites.requests["mailto"] == ["/robots.txt", "/", "/contact"]


async def test_discover_contacts_obfuscated_on_about_page(
    sites: FakeWebsites, client: httpx.AsyncClient
) -> None:
    home = sites.url("obfuscated")
    result = await crawl(sites, "obfuscated", client)
    about = home + "about"
    assert result == WebsiteContacts(
        domain=None,
        emails=[web("bookings@crumbandcoffee.co.uk", about), web("jobs@crumbandcoffee.co.uk", about)],
        pages_fetched=[home, about],
        reason=None,
    )
    # /about is linked from home but does not mention contact: it is reached as a guess, after the 404s
    assert sites.requests["obfuscated"] == ["/robots.txt", "/", "/contact", "/contact-us", "/about"]


async def test_discover_contacts_obeys_robots_txt(sites: FakeWebsites, client: httpx.AsyncClient) -> None:
    home = sites.url("robots")
    result = await crawl(sites, "robots", client)
    assert result == WebsiteContacts(
        domain=None,
        emails=[],
        pages_fetched=[home],
        # "Disallow: /contact" is a prefix: it covers /contact-us too
        reason="no addresses found; robots.txt disallows /contact; robots.txt disallows /contact-us",
    )
    assert sites.requests["robots"] == ["/robots.txt", "/", "/about"]


async def test_discover_contacts_follows_redirects(sites: FakeWebsites, client: httpx.AsyncClient) -> None:
    welcome = sites.url("moved") + "welcome"
    result = await crawl(sites, "moved", client)
    assert result == WebsiteContacts(
        domain=None, emails=[web("team@moved-bakery.com", welcome)], pages_fetched=[welcome], reason=None
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        # the guard refuses the redirect target before any connection is made
        ("private_redirect", "refused: 10.0.0.1 is a private address 10.0.0.1"),
        ("metadata_redirect", "refused: 169.254.169.254 is a link-local address 169.254.169.254"),
        # / → /a → /b → /a: over the limit of three
        ("loop", "more than 3 redirects"),
    ],
)
async def test_discover_contacts_refuses_bad_redirects(
    sites: FakeWebsites, client: httpx.AsyncClient, name: str, reason: str
) -> None:
    result = await crawl(sites, name, client)
    assert result == WebsiteContacts(domain=None, emails=[], pages_fetched=[], reason=reason)


async def test_discover_contacts_refuses_loopback_without_allow_private(
    sites: FakeWebsites, client: httpx.AsyncClient
) -> None:
    result = await discover_contacts(sites.url("mailto"), client=client)
    assert result == WebsiteContacts(
        domain=None, emails=[], pages_fetched=[], reason="refused: 127.0.0.1 is a loopback address 127.0.0.1"
    )
    assert "mailto" not in sites.requests  # not even robots.txt was asked for


async def test_discover_contacts_caps_bytes_per_page(sites: FakeWebsites, client: httpx.AsyncClient) -> None:
    home = sites.url("huge")
    result = await crawl(sites, "huge", client, max_bytes=100_000)
    # the address past the cap was never read; the one before it was
    assert result.emails == [web("early@hugepage.co.uk", home)]
    assert result.pages_fetched == [home]


async def test_discover_contacts_times_out_fast(sites: FakeWebsites, client: httpx.AsyncClient) -> None:
    result = await crawl(sites, "slow", client, page_timeout=0.5)
    host = sites.url("slow").removeprefix("http://").rstrip("/")
    assert result == WebsiteContacts(
        domain=None, emails=[], pages_fetched=[], reason=f"site unreachable: {host} timed out"
    )


async def test_discover_contacts_refuses_non_html(sites: FakeWebsites, client: httpx.AsyncClient) -> None:
    result = await crawl(sites, "pdf", client)
    assert result == WebsiteContacts(
        domain=None, emails=[], pages_fetched=[], reason="not HTML: / is application/pdf"
    )


async def test_discover_contacts_no_addresses(sites: FakeWebsites, client: httpx.AsyncClient) -> None:
    home = sites.url("empty")
    result = await crawl(sites, "empty", client)
    assert result == WebsiteContacts(
        domain=None,
        emails=[],
        pages_fetched=[home, home + "contact", home + "about"],
        reason="no addresses found",
    )


async def test_discover_contacts_caps_pages_per_site(sites: FakeWebsites, client: httpx.AsyncClient) -> None:
    home = sites.url("empty")
    result = await crawl(sites, "empty", client, max_pages=2)
    assert result.pages_fetched == [home, home + "contact"]
    assert sites.requests["empty"] == ["/robots.txt", "/", "/contact"]


async def test_discover_contacts_unreachable_site(client: httpx.AsyncClient) -> None:
    with running_websites() as stopped:
        url = stopped.url("mailto")
    # the server has gone: nothing listens on that port any more
    result = await discover_contacts(url, client=client, allow_private=True, page_timeout=5.0)
    assert result.emails == [] and result.pages_fetched == []
    assert result.reason == "site unreachable: ConnectError"


async def test_discover_contacts_unresolvable_host(client: httpx.AsyncClient) -> None:
    result = await discover_contacts("no-such-host.invalid", client=client)
    assert result == WebsiteContacts(
        domain=None,
        emails=[],
        pages_fetched=[],
        reason="site unreachable: no-such-host.invalid does not resolve",
    )


@pytest.mark.parametrize("url", ["ftp://foo.com/", "file:///etc/passwd", "javascript:alert(1)"])
async def test_discover_contacts_refuses_other_schemes(client: httpx.AsyncClient, url: str) -> None:
    result = await discover_contacts(url, client=client)
    assert result.pages_fetched == [] and result.emails == []
    assert result.reason is not None and result.reason.startswith("refused: not a usable http(s) URL")


# --- what the enrichment step makes of a site's refused addresses -----------------------------------------


def one_page_site(html: str) -> SocketFault:
    """A site whose home page is ``html``; every other path (robots.txt, the contact pages) is not found."""

    def reply(request: bytes) -> bytes:
        if request.split(b" ", 2)[1] == b"/":
            return http_answer(200, html.encode(), content_type="text/html; charset=utf-8")
        return http_answer(404, b"not found", content_type="text/plain")

    return SocketFault(reply)


@pytest.mark.parametrize(
    ("html", "found"),
    [
        # a good address and one that only looks like an address: the good one kept, the other noted
        ("<p>hello@crown.pub</p><p>jo.@crown.pub</p>", ["hello@crown.pub"]),
        # only the one that looks like an address: nothing kept, and still the note says what and why
        ("<p>jo.@crown.pub</p>", []),
    ],
)
async def test_enrich_notes_the_addresses_a_website_refused_on_the_lead(
    client: httpx.AsyncClient, html: str, found: list[str]
) -> None:
    with one_page_site(html).running() as site:
        home = site.base_url + "/"
        lead = Lead(name="The Crown", source="osm", source_id="osm:node/1", website=home)
        searched = LeadGenStepResult(
            step_id="search", status=LeadGenStepStatus.SUCCEEDED, data={"leads": [lead.to_json_dict()]}
        )
        env = LeadToolExecutionEnv(
            user=SupervisorUserContext(user_id="u1"),
            plan=LeadGenPlan(id="p1", user_id="u1", goal=LeadGenGoal(raw_goal="pubs in Leeds"), steps=[]),
            prior_results={"search": searched},
            step_id="enrich",
        )
        enrich = enrich_provider(
            ProviderInfo("website", configured=True),
            None,
            client=client,
            crawl_websites=True,
            allow_private=True,
        )
        result = await enrich.run(EnrichParams(source_step_id="search"), env)

    assert isinstance(result.output, ContactsOutput)
    assert result.output.leads == [
        lead.model_copy(
            update={
                "emails": [web(value, home) for value in found],
                "provenance": {"emails": "website"} if found else {},
                "notes": [
                    "refused address 'jo.@crown.pub' from website: "
                    "An email address cannot have a period immediately before the @-sign."
                ],
            }
        )
    ]
