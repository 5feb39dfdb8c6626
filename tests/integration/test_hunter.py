"""Hunter.io v2 against the local fake: domain search, the verifier, Hunter's status codes, limits and secrets."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from pydantic import SecretStr
from pyrate_limiter import InMemoryBucket, Rate, RateItem

from tests.fakes.hunter import DOMAIN_SEARCH_PATH, EMAIL_VERIFIER_PATH, Company, FakeHunter, Fault
from wyshbone.config import Settings
from wyshbone.domain.models import ContactEmail
from wyshbone.domain.planner import ProviderInfo
from wyshbone.errors import PermanentToolError, RetryableToolError, ToolError
from wyshbone.providers.http import make_client
from wyshbone.providers.hunter import (
    SEARCH_RATES,
    VERIFY_RATES,
    ClaimedEmailError,
    DomainSearch,
    HunterClient,
    hunter_limiters,
    hunter_provider_info,
    parse_domain_search,
)
from wyshbone.providers.limits import InMemoryLimiter, smoothed, windows


@pytest.fixture
def fake() -> Iterator[FakeHunter]:
    with FakeHunter().running() as running:
        yield running


@dataclass
class Sleeps:
    """An injected sleep that returns at once and records each delay."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def _hunter(
    fake: FakeHunter, client: httpx.AsyncClient, *, api_key: str | None = None, **options: object
) -> HunterClient:
    return HunterClient(
        api_key=fake.api_key if api_key is None else api_key,
        base_url=fake.base_url,
        client=client,
        **options,  # type: ignore[arg-type]
    )


def _text_of(exc: BaseException) -> str:
    """Everything a log of the exception would show: message, repr, causes and traceback."""
    return "".join(traceback.format_exception(exc)) + repr(exc)


# --- domain search ----------------------------------------------------------------------------------------


async def test_domain_search_reads_domain_organization_and_emails(
    fake: FakeHunter, client: httpx.AsyncClient
) -> None:
    found = await _hunter(fake, client).domain_search(domain="northernroast.co.uk")

    assert found == DomainSearch(
        domain="northernroast.co.uk",
        organization="Northern Roast Coffee",
        emails=(
            ContactEmail(
                value="hello@northernroast.co.uk",
                source="hunter",
                verification="valid",
                score=94,
                type="generic",
            ),
            ContactEmail(
                value="sam.patel@northernroast.co.uk",
                source="hunter",
                verification="accept_all",
                score=87,
                type="personal",
                first_name="Sam",
                last_name="Patel",
                position="Owner",
            ),
            # Hunter has not verified this one: its status is null, kept as "unknown".
            ContactEmail(
                value="jo@northernroast.co.uk",
                source="hunter",
                verification="unknown",
                score=41,
                type="personal",
                first_name="Jo",
            ),
        ),
    )
    [request] = fake.requests
    assert (request.method, request.path, request.query) == (
        "GET",
        DOMAIN_SEARCH_PATH,
        {"domain": "northernroast.co.uk", "limit": "10"},
    )


async def test_domain_search_by_company_finds_the_domain(fake: FakeHunter, client: httpx.AsyncClient) -> None:
    found = await _hunter(fake, client).domain_search(company="Ancoats Brew Co", limit=5)

    assert found == DomainSearch(
        domain="ancoatsbrew.com",
        organization="Ancoats Brew Co",
        emails=(
            ContactEmail(
                value="info@ancoatsbrew.com",
                source="hunter",
                verification="webmail",
                score=90,
                type="generic",
            ),
        ),
    )
    assert fake.requests[0].query == {"company": "Ancoats Brew Co", "limit": "5"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # A known domain with no addresses on record.
        ({"domain": "quietcorner.co.uk"}, DomainSearch("quietcorner.co.uk", "The Quiet Corner")),
        # A domain Hunter knows nothing about.
        ({"domain": "nowhere.example"}, DomainSearch("nowhere.example", None)),
        # A company name Hunter cannot place: no domain either.
        ({"company": "No Such Cafe Ltd"}, DomainSearch(None, None)),
    ],
)
async def test_domain_search_empty_results(
    fake: FakeHunter, client: httpx.AsyncClient, query: dict[str, str], expected: DomainSearch
) -> None:
    assert await _hunter(fake, client).domain_search(**query) == expected


async def test_domain_search_splits_checks_and_normalises_every_address(
    fake: FakeHunter, client: httpx.AsyncClient
) -> None:
    # What a security probe had Hunter answer: two addresses in one value, a line break starting a Bcc header,
    # an address in capitals, and garbage.
    entry = fake.companies["ancoatsbrew.com"].emails[0]
    values = [
        "info@ancoatsbrew.com, victim@evil.example",
        "sales@ancoatsbrew.com\r\nBcc: victim@evil.example",
        "Brewer@AncoatsBrew.COM",
        "n/a",
    ]
    fake.companies["ancoatsbrew.com"] = Company(
        "Ancoats Brew Co", tuple(dict(entry, value=v) for v in values)
    )

    found = await _hunter(fake, client).domain_search(domain="ancoatsbrew.com")

    contact = ContactEmail(value="", source="hunter", verification="webmail", score=90, type="generic")
    assert found == DomainSearch(
        domain="ancoatsbrew.com",
        organization="Ancoats Brew Co",
        emails=tuple(
            contact.model_copy(update={"value": value})
            for value in ("info@ancoatsbrew.com", "victim@evil.example", "brewer@ancoatsbrew.com")
        ),
        refused=(
            "refused address 'sales@ancoatsbrew.com\\r\\nBcc: victim@evil.example' from hunter: "
            "it holds a line break or another control character",
            "refused address 'n/a' from hunter: An email address must have an @-sign.",
        ),
    )


async def test_domain_search_limit_is_sent_and_capped_at_100(
    fake: FakeHunter, client: httpx.AsyncClient
) -> None:
    hunter = _hunter(fake, client)

    one = await hunter.domain_search(domain="northernroast.co.uk", limit=1)
    await hunter.domain_search(domain="northernroast.co.uk", limit=500)

    assert [email.value for email in one.emails] == ["hello@northernroast.co.uk"]
    assert [r.query["limit"] for r in fake.requests] == ["1", "100"]


async def test_domain_search_needs_a_domain_or_company(fake: FakeHunter, client: httpx.AsyncClient) -> None:
    with pytest.raises(PermanentToolError, match="needs a domain or a company"):
        await _hunter(fake, client).domain_search()
    assert fake.requests == []


# --- the key ----------------------------------------------------------------------------------------------


async def test_key_travels_only_in_the_header(fake: FakeHunter, client: httpx.AsyncClient) -> None:
    hunter = _hunter(fake, client)
    await hunter.domain_search(domain="northernroast.co.uk")
    await hunter.domain_search(company="Northern Roast Coffee")
    await hunter.verify("hello@northernroast.co.uk")

    assert len(fake.requests) == 3
    for request in fake.requests:
        assert request.headers["x-api-key"] == fake.api_key
        assert fake.api_key not in request.url
        assert "api_key" not in request.query
    assert fake.api_key not in repr(hunter)


async def test_fake_takes_the_key_from_the_query_string_as_hunter_does(
    fake: FakeHunter, client: httpx.AsyncClient
) -> None:
    # Hunter documents ``api_key`` as a query parameter too; the fake answers alike (the client never uses it:
    # that is proved on the recorded requests above, not by a fake that refuses what the real service takes).
    response = await client.get(
        fake.base_url + DOMAIN_SEARCH_PATH, params={"domain": "northernroast.co.uk", "api_key": fake.api_key}
    )

    assert response.status_code == 200
    assert response.json()["data"]["domain"] == "northernroast.co.uk"


async def test_bad_key_is_permanent_and_never_shown(fake: FakeHunter, client: httpx.AsyncClient) -> None:
    wrong = "hunterWRONG" + "0" * 30
    with pytest.raises(PermanentToolError) as caught:
        await _hunter(fake, client, api_key=wrong).domain_search(domain="northernroast.co.uk")

    assert type(caught.value) is PermanentToolError
    assert (str(caught.value), caught.value.message) == (
        "hunter: HTTP 401: the key was refused (authentication_failed): No user found for the API key supplied",
        "hunter: Hunter refused the API key (details: check WYSHBONE_HUNTER_API_KEY; HTTP 401: the key was "
        "refused (authentication_failed): No user found for the API key supplied)",
    )
    assert wrong not in _text_of(caught.value)


# --- Hunter's status codes ----------------------------------------------------------------------------------


async def test_rate_limited_403_is_retryable_with_retry_after(
    fake: FakeHunter, client: httpx.AsyncClient
) -> None:
    fake.retry_after = "7"
    fake.fail_next(Fault.RATE_LIMITED, times=2)
    hunter = _hunter(fake, client)

    outcomes: list[object] = []
    for _ in range(3):
        try:
            outcomes.append(await hunter.domain_search(domain="ancoatsbrew.com"))
        except RetryableToolError as exc:
            outcomes.append((str(exc), exc.retry_after))

    # A burst of two 403s, then the service answers again.
    limited = ("hunter: HTTP 403: rate limited (too_many_requests): You have reached the rate limit.", 7.0)
    assert outcomes[:2] == [limited, limited]
    assert isinstance(outcomes[2], DomainSearch)
    assert outcomes[2].domain == "ancoatsbrew.com"


async def test_rate_limited_403_without_retry_after(fake: FakeHunter, client: httpx.AsyncClient) -> None:
    fake.fail_next(Fault.RATE_LIMITED)
    with pytest.raises(RetryableToolError) as caught:
        await _hunter(fake, client).verify("hello@northernroast.co.uk")
    assert caught.value.retry_after is None


async def test_quota_429_is_permanent_for_the_run(fake: FakeHunter, client: httpx.AsyncClient) -> None:
    fake.fail_next(Fault.QUOTA)
    with pytest.raises(PermanentToolError) as caught:
        await _hunter(fake, client).domain_search(domain="northernroast.co.uk")

    assert (str(caught.value), caught.value.explanation, caught.value.setting) == (
        "hunter: HTTP 429: quota for the billing period used up (too_many_requests): You've reached the limit "
        "for the number of searches per billing period included in your plan.",
        "Hunter's allowance for this billing period is used up; it renews when the next period starts, or a "
        "larger Hunter plan raises it",
        None,
    )


async def test_claimed_email_451_carries_the_address(fake: FakeHunter, client: httpx.AsyncClient) -> None:
    with pytest.raises(ClaimedEmailError) as caught:
        await _hunter(fake, client).verify("private.person@ancoatsbrew.com")

    assert isinstance(caught.value, PermanentToolError)
    assert caught.value.email == "private.person@ancoatsbrew.com"
    assert str(caught.value).startswith(
        "hunter: HTTP 451: the person asked not to be processed (claimed_email)"
    )
    assert caught.value.message.startswith(
        "hunter: the person behind this address asked Hunter not to process it (details: HTTP 451: "
    )
    # The address is for the suppression list, not for logs.
    assert "private.person" not in str(caught.value)


async def test_bad_request_400_keeps_hunters_details(fake: FakeHunter, client: httpx.AsyncClient) -> None:
    with pytest.raises(PermanentToolError) as caught:
        await _hunter(fake, client).verify("not-an-address")

    assert caught.value.message == (
        "hunter: Hunter refused the request (details: HTTP 400: the request was refused (wrong_params): "
        "You are missing the email parameter)"
    )


async def test_details_repeating_the_key_are_scrubbed(fake: FakeHunter, client: httpx.AsyncClient) -> None:
    fake.fail_next(Fault.ECHO_KEY)
    with pytest.raises(PermanentToolError) as caught:
        await _hunter(fake, client).domain_search(domain="northernroast.co.uk")

    assert caught.value.message == (
        "hunter: Hunter refused the API key (details: check WYSHBONE_HUNTER_API_KEY; HTTP 400: the key was "
        "refused (invalid_api_key): The API key [key] is not valid for this request)"
    )
    assert fake.api_key not in _text_of(caught.value)


async def test_malformed_json_in_a_200_is_retryable(fake: FakeHunter, client: httpx.AsyncClient) -> None:
    fake.fail_next(Fault.MALFORMED)
    with pytest.raises(RetryableToolError, match="not JSON"):
        await _hunter(fake, client).domain_search(domain="northernroast.co.uk")


@pytest.mark.parametrize(
    ("payload", "details"),
    [
        # no "data" object at all
        ({"errors": []}, "unexpected response: no 'data' object"),
        # "data.emails" that is not a list
        (
            {"data": {"domain": "x.example", "emails": "none"}},
            "unexpected response: 'data.emails' is not a list",
        ),
    ],
)
def test_parse_domain_search_refuses_an_answer_of_the_wrong_shape_plainly(
    payload: dict[str, object], details: str
) -> None:
    with pytest.raises(PermanentToolError) as caught:
        parse_domain_search(payload)

    assert (str(caught.value), caught.value.message) == (
        f"hunter: {details}",
        f"hunter: Hunter answered in a form Wyshbone does not understand (please report it) (details: {details})",
    )


async def test_server_error_is_retryable(fake: FakeHunter, client: httpx.AsyncClient) -> None:
    fake.fail_next(Fault.SERVER_ERROR)
    with pytest.raises(RetryableToolError, match="HTTP 500"):
        await _hunter(fake, client).domain_search(domain="northernroast.co.uk")


async def test_slow_response_times_out_as_retryable(fake: FakeHunter) -> None:
    fake.delay = 1.0
    async with make_client(timeout=httpx.Timeout(0.2)) as http:
        with pytest.raises(RetryableToolError) as caught:
            await _hunter(fake, http).domain_search(domain="northernroast.co.uk")

    assert str(caught.value) == "hunter: ReadTimeout (no response)"
    assert fake.api_key not in _text_of(caught.value)


async def test_unreachable_service_is_retryable(client: httpx.AsyncClient) -> None:
    with FakeHunter().running() as gone:
        base_url, key = gone.base_url, gone.api_key
    hunter = HunterClient(api_key=key, base_url=base_url, client=client)

    with pytest.raises(RetryableToolError, match="ConnectError"):
        await hunter.domain_search(domain="northernroast.co.uk")


@pytest.mark.parametrize("fault", list(Fault))
async def test_no_error_message_contains_the_key(
    fake: FakeHunter, client: httpx.AsyncClient, fault: Fault
) -> None:
    fake.fail_next(fault)
    with pytest.raises(ToolError) as caught:
        await _hunter(fake, client).domain_search(domain="northernroast.co.uk")
    assert fake.api_key not in _text_of(caught.value)


# --- the verifier -----------------------------------------------------------------------------------------


async def test_verify_keeps_hunters_status_and_score(fake: FakeHunter, client: httpx.AsyncClient) -> None:
    hunter = _hunter(fake, client)

    verdicts = [
        await hunter.verify(email)
        for email in ("hello@northernroast.co.uk", "nobody@quietcorner.co.uk", "who@nowhere.example")
    ]

    assert verdicts == [
        ContactEmail(value="hello@northernroast.co.uk", source="hunter", verification="valid", score=97),
        ContactEmail(value="nobody@quietcorner.co.uk", source="hunter", verification="invalid", score=12),
        ContactEmail(value="who@nowhere.example", source="hunter", verification="unknown", score=0),
    ]
    assert [(r.path, r.query) for r in fake.requests] == [
        (EMAIL_VERIFIER_PATH, {"email": "hello@northernroast.co.uk"}),
        (EMAIL_VERIFIER_PATH, {"email": "nobody@quietcorner.co.uk"}),
        (EMAIL_VERIFIER_PATH, {"email": "who@nowhere.example"}),
    ]


async def test_verify_polls_while_hunter_answers_202(fake: FakeHunter, client: httpx.AsyncClient) -> None:
    fake.pending["sam.patel@northernroast.co.uk"] = 2
    sleeps = Sleeps()

    verdict = await _hunter(fake, client, sleep=sleeps, poll_interval=0.5).verify(
        "sam.patel@northernroast.co.uk"
    )

    assert verdict == ContactEmail(
        value="sam.patel@northernroast.co.uk", source="hunter", verification="accept_all", score=72
    )
    assert sleeps.delays == [0.5, 0.5]
    assert len(fake.requests) == 3


async def test_verify_gives_up_polling_after_the_bound(fake: FakeHunter, client: httpx.AsyncClient) -> None:
    fake.pending["hello@northernroast.co.uk"] = 10
    sleeps = Sleeps()

    with pytest.raises(RetryableToolError) as caught:
        await _hunter(fake, client, sleep=sleeps, verify_polls=3, poll_interval=2.0).verify(
            "hello@northernroast.co.uk"
        )

    assert (caught.value.message, caught.value.retry_after) == (
        "hunter: Hunter was still checking the address after 3 tries "
        "(details: verification still running after 3 polls)",
        2.0,
    )
    assert len(fake.requests) == 3
    assert fake.pending["hello@northernroast.co.uk"] == 7


# --- rate limits ------------------------------------------------------------------------------------------


async def test_shared_limiter_keeps_concurrent_searches_within_15_per_second(
    fake: FakeHunter, client: httpx.AsyncClient
) -> None:
    # Three "steps", each with its own client object, all drawing on the process-wide limiter.
    hunters = [_hunter(fake, client) for _ in range(3)]
    domains = ["northernroast.co.uk", "ancoatsbrew.com", "quietcorner.co.uk"]

    results = await asyncio.gather(*(hunters[i % 3].domain_search(domain=domains[i % 3]) for i in range(45)))

    assert [r.domain for r in results] == [domains[i % 3] for i in range(45)]
    arrivals = sorted(r.at for r in fake.requests)
    assert len(arrivals) == 45
    # Arrival times carry a little network jitter, so the windows are a touch shorter than a second.
    assert fake.max_in_window(DOMAIN_SEARCH_PATH, 0.9) <= 15
    # 45 requests at 15/s need at least two full seconds between the first and the last.
    assert arrivals[-1] - arrivals[0] >= 1.9


async def test_shared_limiter_keeps_concurrent_verifications_within_10_per_second(
    fake: FakeHunter, client: httpx.AsyncClient
) -> None:
    hunter = _hunter(fake, client)

    verdicts = await asyncio.gather(*(hunter.verify(f"person{i}@nowhere.example") for i in range(25)))

    assert {v.verification for v in verdicts} == {"unknown"}
    arrivals = sorted(r.at for r in fake.requests)
    assert fake.max_in_window(EMAIL_VERIFIER_PATH, 0.9) <= 10
    assert arrivals[-1] - arrivals[0] >= 1.9


async def test_client_accepts_the_generic_rate_limiter(fake: FakeHunter, client: httpx.AsyncClient) -> None:
    hunter = _hunter(fake, client, search_limiter=InMemoryLimiter("search", windows((4, 1.0))))

    await asyncio.gather(*(hunter.domain_search(domain="ancoatsbrew.com") for _ in range(8)))

    assert fake.max_in_window(DOMAIN_SEARCH_PATH, 0.9) <= 4


def _pairs(rates: Iterable[Rate]) -> list[tuple[int, int]]:
    return [(rate.limit, rate.interval) for rate in rates]


def _grants(rates: list[Rate], n: int) -> list[int]:
    """When ``n`` requests asked one after another are granted (ms), by pyrate-limiter's own bucket and
    its own wait, on a clock that moves only by the waits it asks for."""
    bucket, now, grants = InMemoryBucket(rates), 1_000_000, []
    for _ in range(n):
        while not bucket.put(RateItem("hunter", now)):
            wait = bucket.waiting(RateItem("hunter", now))
            assert isinstance(wait, int) and wait > 0
            now += wait
        grants.append(now - 1_000_000)
    return grants


def test_search_limits_hold_per_second_and_per_minute() -> None:
    grants = _grants(list(SEARCH_RATES), 520)

    def most_within(ms: int) -> int:
        return max(sum(1 for t in grants if start <= t < start + ms) for start in grants)

    # One every 72 ms (evenly spaced: 14 a second, room for one a pause of the process held back), 500 in 61 s.
    assert _pairs(SEARCH_RATES) == [(1, 71), (500, 61_000)]
    assert most_within(1000) <= 14  # Hunter's per-second limit, less the one request a pause may hold back
    assert most_within(72) <= 1  # spread out: no burst at a window's edge
    assert most_within(60_000) == 500  # the per-minute limit, reached exactly
    assert grants[500] - grants[0] >= 61_000  # the 501st waits until the first leaves the (stretched) minute


def test_hunter_limiters_are_shared_by_the_process() -> None:
    shared = hunter_limiters()
    assert shared is hunter_limiters()
    assert isinstance(shared.verify, InMemoryLimiter)
    assert _pairs(shared.verify.rates) == _pairs(VERIFY_RATES) == [(1, 111), (300, 61_000)]
    assert _pairs(VERIFY_RATES) == _pairs([*smoothed(10, 1.0), *windows((300, 61.0))])


# --- planner ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        # A key: configured, priced per domain search at the Starter list price.
        (
            SecretStr("hunter-secret-key"),
            ProviderInfo("hunter", configured=True, reason=None, unit_price_usd=0.049),
        ),
        # No key: not configured, and the plan says which setting to set.
        (
            None,
            ProviderInfo(
                "hunter", configured=False, reason="set WYSHBONE_HUNTER_API_KEY", unit_price_usd=0.049
            ),
        ),
        # An empty key is no key.
        (
            SecretStr(""),
            ProviderInfo(
                "hunter", configured=False, reason="set WYSHBONE_HUNTER_API_KEY", unit_price_usd=0.049
            ),
        ),
    ],
)
def test_hunter_provider_info(key: SecretStr | None, expected: ProviderInfo) -> None:
    assert hunter_provider_info(Settings(hunter_api_key=key)) == expected
