"""Google Places Text Search against the local fake: paging, mapping, qualifiers (types and names), each lead's
match, the price tier, and every error path."""

from __future__ import annotations

import traceback
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from tests.fakes.google_places import (
    SEARCH_TEXT_PATH,
    FakeGooglePlaces,
    Fault,
    restaurant_places,
    sample_places,
)
from tests.fakes.places import MANCHESTER_10KM as MANCHESTER
from wyshbone.config import Settings
from wyshbone.domain.catalog import ProviderInfo
from wyshbone.domain.models import Lead, LeadMatch, RegionKind, RegionMatch
from wyshbone.errors import PermanentToolError, RetryableToolError, ToolError
from wyshbone.providers.google_places import (
    FIELD_MASK,
    google_places_info,
    parse_error,
    search_places,
    sku_for_mask,
    tool_error,
)
from wyshbone.providers.http import make_client
from wyshbone.providers.limits import InMemoryLimiter, windows

ROOMY = InMemoryLimiter("google_places_test", windows((1000, 1.0)))
"""A limit these tests never reach (the quota held in total is tested in test_places_quota_shared.py)."""


@pytest.fixture
def fake() -> Iterator[FakeGooglePlaces]:
    with FakeGooglePlaces().running() as running:
        yield running


async def _search(
    fake: FakeGooglePlaces,
    client: httpx.AsyncClient,
    *,
    limit: int = 20,
    region: RegionMatch = MANCHESTER,
    api_key: str | None = None,
) -> list[Lead]:
    return await search_places(
        client=client,
        api_key=fake.api_key if api_key is None else api_key,
        base_url=fake.base_url,
        persona="coffee shop",
        region=region,
        limit=limit,
        limiter=ROOMY,
    )


def _ids(numbers: range | list[int]) -> list[str]:
    return [f"google_places:ChIJfake{i:04d}" for i in numbers]


def _text_of(exc: BaseException) -> str:
    """Everything a log of the exception would show: message, repr, causes and traceback."""
    return "".join(traceback.format_exception(exc)) + repr(exc)


# --- pages -------------------------------------------------------------------------------------------------


async def test_search_places_follows_next_page_token_until_the_limit(
    fake: FakeGooglePlaces, client: httpx.AsyncClient
) -> None:
    leads = await _search(fake, client, limit=45)

    # 45 places over three pages (20, 20, 5); every tenth is permanently closed and left out.
    assert [lead.source_id for lead in leads] == _ids([i for i in range(1, 46) if i % 10])
    bodies = [request.body for request in fake.requests]
    assert [body["pageSize"] for body in bodies] == [20, 20, 9]
    assert "pageToken" not in bodies[0]
    assert all(body["pageToken"] for body in bodies[1:])
    assert {body["textQuery"] for body in bodies} == {"coffee shop in Manchester"}
    assert bodies[0]["locationBias"] == {
        "circle": {"center": {"latitude": 53.4808, "longitude": -2.2426}, "radius": 10_000.0}
    }
    assert bodies[0]["regionCode"] == "GB"
    assert all(request.url == fake.base_url + SEARCH_TEXT_PATH for request in fake.requests)
    assert all(request.headers["x-goog-fieldmask"] == FIELD_MASK for request in fake.requests)


async def test_search_places_stops_at_the_60_result_cap(
    fake: FakeGooglePlaces, client: httpx.AsyncClient
) -> None:
    fake.places = sample_places(80)

    leads = await _search(fake, client, limit=500)

    # Google answers at most 60 places (three pages); six of those are closed.
    assert [lead.source_id for lead in leads] == _ids([i for i in range(1, 61) if i % 10])
    assert len(fake.requests) == 3


async def test_search_places_asks_for_no_more_than_the_limit(
    fake: FakeGooglePlaces, client: httpx.AsyncClient
) -> None:
    leads = await _search(fake, client, limit=5)

    assert [lead.source_id for lead in leads] == _ids(range(1, 6))
    assert [request.body["pageSize"] for request in fake.requests] == [5]


async def test_search_places_returns_nothing_for_an_empty_answer(
    fake: FakeGooglePlaces, client: httpx.AsyncClient
) -> None:
    fake.places = []

    assert await _search(fake, client) == []
    assert len(fake.requests) == 1


async def test_search_places_sends_no_location_bias_without_coordinates(
    fake: FakeGooglePlaces, client: httpx.AsyncClient
) -> None:
    yorkshire = RegionMatch(name="Yorkshire", kind=RegionKind.COUNTY, country="GB")

    await _search(fake, client, region=yorkshire, limit=1)

    assert fake.requests[0].body == {
        "textQuery": "coffee shop in Yorkshire",
        "pageSize": 1,
        "regionCode": "GB",
    }


async def test_search_places_caps_the_bias_radius_at_50_km(
    fake: FakeGooglePlaces, client: httpx.AsyncClient
) -> None:
    wide = MANCHESTER.model_copy(update={"radius_km": 80.0})

    await _search(fake, client, region=wide, limit=1)

    assert fake.requests[0].body["locationBias"]["circle"]["radius"] == 50_000.0


# --- mapping ------------------------------------------------------------------------------------------------


async def test_search_places_maps_every_filled_field_with_its_source(
    fake: FakeGooglePlaces, client: httpx.AsyncClient
) -> None:
    leads = {lead.source_id: lead for lead in await _search(fake, client, limit=20)}

    full = leads["google_places:ChIJfake0001"]
    assert full == Lead(
        name="Bean Counter 1",
        source="google_places",
        source_id="google_places:ChIJfake0001",
        address="1 Market St, Manchester M1 2AA, UK",
        postcode="M1 2AA",  # read from the formatted address, so other sources' records of it can be matched
        lat=53.4818,
        lon=-2.2436,
        website="https://bean-counter-1.example/",
        phone="0161 496 0001",
        category="coffee_shop",
        distance_km=full.distance_km,
        provenance=dict.fromkeys(
            ("name", "address", "lat", "lon", "website", "phone", "category", "postcode"), "google_places"
        ),
        match=LeadMatch(
            area="inside",
            kind="category",
            reasons=["Google Places type coffee_shop, cafe", "0.1 km from Manchester centre"],
        ),
    )
    assert full.distance_km is not None and 0.1 < full.distance_km < 0.2
    # Place 12 has neither website nor phone: Google leaves the fields out, and so does the lead.
    sparse = leads["google_places:ChIJfake0012"]
    assert (sparse.website, sparse.phone) == (None, None)
    assert set(sparse.provenance) == {"name", "address", "lat", "lon", "category", "postcode"}


async def test_search_places_tolerates_places_with_only_an_id_and_name(
    fake: FakeGooglePlaces, client: httpx.AsyncClient
) -> None:
    fake.places = [
        {
            "id": "ChIJbare",
            "displayName": {"text": "Bare Café"},
            "location": {"latitude": 53.48, "longitude": -2.24},
        },
        {"id": "ChIJnoname"},  # no display name: not a lead
        # nothing says where it is, so nothing says it is in Manchester: not a lead (it used to be)
        {"id": "ChIJnowhere", "displayName": {"text": "Nowhere Café"}},
    ]

    leads = await _search(fake, client)

    assert leads == [
        Lead(
            name="Bare Café",
            source="google_places",
            source_id="google_places:ChIJbare",
            lat=53.48,
            lon=-2.24,
            distance_km=leads[0].distance_km,
            provenance={"name": "google_places", "lat": "google_places", "lon": "google_places"},
            match=LeadMatch(
                area="inside",
                kind="name",
                reasons=["name contains 'Café'", "0.2 km from Manchester centre"],
            ),
        )
    ]


# --- kinds and qualifiers -------------------------------------------------------------------------------------


async def test_search_places_keeps_what_types_or_names_show_and_says_how(
    fake: FakeGooglePlaces, client: httpx.AsyncClient
) -> None:
    fake.places = restaurant_places()

    leads = await search_places(
        client=client,
        api_key=fake.api_key,
        base_url=fake.base_url,
        persona="restaurant",
        region=MANCHESTER,
        limit=20,
        limiter=ROOMY,
        qualifiers=["italian"],
    )

    # The qualifier goes into the text (includedType would drop an Italian place typed pizza_restaurant) ...
    assert fake.requests[0].body["textQuery"] == "Italian restaurant in Manchester"
    assert "includedType" not in fake.requests[0].body
    # ... and each place is kept only when its types or its name show it; nearby ones after those inside.
    # Every lead kept has its match (a place that does not match is left out, not kept without one).
    assert [(lead.name, lead.match.area, lead.match.qualifiers) for lead in leads] == [
        ("Da Mario", "inside", {"italian": "type"}),
        ("Slice", "inside", {"italian": "type"}),
        ("Trattoria Verde", "inside", {"italian": "name"}),
        ("Luigi's Pizzeria", "nearby", {"italian": "name"}),
    ]
    assert leads[-1].match is not None
    assert (
        leads[-1].match.reasons[-1] == "14.5 km from Manchester centre, beyond the 10 km taken as Manchester"
    )


async def test_search_places_a_kind_known_only_by_its_type(
    fake: FakeGooglePlaces, client: httpx.AsyncClient
) -> None:
    fake.places = restaurant_places()

    leads = await search_places(
        client=client,
        api_key=fake.api_key,
        base_url=fake.base_url,
        persona="gym",
        region=MANCHESTER,
        limit=20,
        limiter=ROOMY,
    )

    # The gym's own type marks it; no restaurant is a gym (nor is any place typed "food").
    assert [(lead.name, lead.match.kind) for lead in leads] == [("The Foundry", "category")]


# --- errors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error_type", "words"),
    [
        # a per-minute quota refills: try again later
        (Fault.QUOTA_PER_MINUTE, RetryableToolError, "rate limited SearchTextRequestsPerMinutePerProject"),
        # a per-day quota does not refill within a run: fall back
        (Fault.QUOTA_PER_DAY, PermanentToolError, "daily quota SearchTextRequestsPerDayPerProject used up"),
        # the API is not enabled for the key's project: no retry helps
        (Fault.PERMISSION_DENIED, PermanentToolError, "HTTP 403 PERMISSION_DENIED (SERVICE_DISABLED)"),
        (Fault.INTERNAL, RetryableToolError, "HTTP 500 INTERNAL"),
        (Fault.UNAVAILABLE, RetryableToolError, "HTTP 503 UNAVAILABLE"),
        # Google's front end answers in HTML, not the JSON envelope
        (Fault.BAD_GATEWAY_HTML, RetryableToolError, "HTTP 502"),
        # a cut-off body on a 200
        (Fault.MALFORMED, RetryableToolError, "not JSON"),
        # the server quotes the key back: the message must not
        (Fault.KEY_IN_MESSAGE, PermanentToolError, "HTTP 400 INVALID_ARGUMENT (API_KEY_INVALID)"),
    ],
)
async def test_search_places_translates_each_failure(
    fake: FakeGooglePlaces,
    client: httpx.AsyncClient,
    fault: Fault,
    error_type: type[ToolError],
    words: str,
) -> None:
    fake.fail_next(fault)

    with pytest.raises(ToolError) as caught:
        await _search(fake, client)

    assert type(caught.value) is error_type
    assert words in str(caught.value)
    assert str(caught.value).startswith("google_places: ")
    assert fake.api_key not in _text_of(caught.value)


async def test_search_places_passes_on_retry_after(fake: FakeGooglePlaces, client: httpx.AsyncClient) -> None:
    fake.retry_after = "7"
    fake.fail_next(Fault.QUOTA_PER_MINUTE)

    with pytest.raises(RetryableToolError) as caught:
        await _search(fake, client)

    assert caught.value.retry_after == 7.0


async def test_search_places_succeeds_once_a_5xx_burst_is_over(
    fake: FakeGooglePlaces, client: httpx.AsyncClient
) -> None:
    fake.fail_next(Fault.UNAVAILABLE, times=2)
    outcomes: list[str] = []

    for _ in range(3):
        try:
            outcomes.append(f"{len(await _search(fake, client, limit=3))} leads")
        except RetryableToolError as exc:
            outcomes.append(type(exc).__name__)

    assert outcomes == ["RetryableToolError", "RetryableToolError", "3 leads"]


async def test_search_places_refused_key_is_permanent_and_not_quoted(
    fake: FakeGooglePlaces, client: httpx.AsyncClient
) -> None:
    wrong = "AIzaWRONG-key-0123456789"

    with pytest.raises(PermanentToolError) as caught:
        await _search(fake, client, api_key=wrong)

    assert str(caught.value) == (
        "google_places: HTTP 400 INVALID_ARGUMENT (API_KEY_INVALID): API key not valid. Please pass a valid API key."
    )
    assert wrong not in _text_of(caught.value)


async def test_search_places_times_out_as_retryable(fake: FakeGooglePlaces) -> None:
    fake.delay = 1.0

    async with make_client(timeout=httpx.Timeout(0.2)) as impatient:
        with pytest.raises(RetryableToolError) as caught:
            await _search(fake, impatient)

    assert str(caught.value) == "google_places: ReadTimeout (no response)"
    assert fake.api_key not in _text_of(caught.value)


async def test_search_places_unreachable_server_is_retryable(client: httpx.AsyncClient) -> None:
    with FakeGooglePlaces().running() as gone:
        base_url, key = gone.base_url, gone.api_key

    with pytest.raises(RetryableToolError) as caught:
        await search_places(
            client=client,
            api_key=key,
            base_url=base_url,
            persona="cafe",
            region=MANCHESTER,
            limit=5,
            limiter=ROOMY,
        )

    assert str(caught.value) == "google_places: ConnectError (no response)"
    assert key not in _text_of(caught.value)


async def test_search_places_sends_the_key_only_in_its_header(
    fake: FakeGooglePlaces, client: httpx.AsyncClient
) -> None:
    await _search(fake, client, limit=45)

    assert len(fake.requests) == 3
    for request in fake.requests:
        assert request.headers["x-goog-api-key"] == fake.api_key
        assert fake.api_key not in request.url
        assert fake.api_key not in str(request.body)


async def test_missing_field_mask_is_a_permanent_invalid_argument(
    fake: FakeGooglePlaces, client: httpx.AsyncClient
) -> None:
    # search_places always sends the mask; this is what Google answers (and what it means) when one does not.
    response = await client.post(
        fake.base_url + SEARCH_TEXT_PATH, json={"textQuery": "cafe"}, headers={"X-Goog-Api-Key": fake.api_key}
    )
    error = parse_error(response.json())
    assert response.status_code == 400 and error is not None

    translated = tool_error(response.status_code, error, retry_after=None, secret=fake.api_key)

    assert type(translated) is PermanentToolError
    assert str(translated).startswith(
        "google_places: HTTP 400 INVALID_ARGUMENT: FieldMask is a required parameter."
    )


# --- what the planner sees ----------------------------------------------------------------------------------


def test_google_places_info_is_configured_only_with_a_key() -> None:
    with_key = google_places_info(Settings(google_places_api_key=SecretStr("AIza-test")))
    without = google_places_info(Settings(google_places_api_key=None))

    assert with_key == ProviderInfo(
        "google_places",
        configured=True,
        unit_price_usd=0.035,
        page_size=20,
        max_results=60,
        label="Google Places",
    )
    assert without == ProviderInfo(
        "google_places",
        configured=False,
        reason="set WYSHBONE_GOOGLE_PLACES_API_KEY",
        unit_price_usd=0.035,
        page_size=20,
        max_results=60,
        label="Google Places",
    )


@pytest.mark.parametrize(
    ("mask", "sku", "price"),
    [
        ("places.id,nextPageToken", "Text Search Essentials (IDs Only)", 0.0),  # ids only: no charge
        ("places.id,places.displayName,places.location", "Text Search Pro", 0.032),
        (FIELD_MASK, "Text Search Enterprise", 0.035),  # website, phone, rating: Enterprise
        ("places.displayName,places.reviews", "Text Search Enterprise + Atmosphere", 0.040),
        ("*", "Text Search Enterprise + Atmosphere", 0.040),  # everything costs the top tier
    ],
)
def test_sku_for_mask_follows_the_most_expensive_field(mask: str, sku: str, price: float) -> None:
    assert sku_for_mask(mask) == (sku, price)
