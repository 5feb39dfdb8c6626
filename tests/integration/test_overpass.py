"""OpenStreetMap Overpass against the local fake: persona → tags, the query sent, mapping, the one-request-at-a-time
rule, and every error path."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.overpass import FakeOverpass, Fault, qualified_elements
from tests.fakes.places import MANCHESTER_10KM as MANCHESTER
from wyshbone.config import Settings
from wyshbone.domain.models import Lead, LeadMatch, RegionKind, RegionMatch
from wyshbone.domain.planner import ProviderInfo
from wyshbone.domain.qualifiers import QUALIFIERS
from wyshbone.errors import PermanentToolError, RetryableToolError, ToolError
from wyshbone.providers.http import make_client
from wyshbone.providers.overpass import (
    OsmFilter,
    osm_filters,
    overpass_info,
    qualifier_conditions,
    search_overpass,
)


@pytest.fixture
def fake() -> Iterator[FakeOverpass]:
    with FakeOverpass().running() as running:
        yield running


async def _search(
    fake: FakeOverpass,
    client: httpx.AsyncClient,
    persona: str,
    *,
    limit: int = 20,
    region: RegionMatch = MANCHESTER,
) -> list[Lead]:
    return await search_overpass(client=client, url=fake.url, persona=persona, region=region, limit=limit)


async def test_search_overpass_maps_named_cafes_in_the_circle(
    fake: FakeOverpass, client: httpx.AsyncClient
) -> None:
    leads = await _search(fake, client, "coffee shops")

    # The nameless café and the one in York are not leads; nearest first.
    assert [lead.source_id for lead in leads] == ["osm:node/1001", "osm:way/2002"]
    ancoats, federal = leads
    assert ancoats == Lead(
        name="Ancoats Coffee Co.",
        source="osm",
        source_id="osm:node/1001",
        category="cafe",
        address="9 Royal Mills, Manchester, M4 5BD",
        postcode="M4 5BD",
        post_town="Manchester",
        lat=53.482,
        lon=-2.24,
        website="https://ancoats.coffee/",
        phone="+44 161 000 0001",
        emails=[{"value": "hello@ancoats.coffee", "source": "osm", "verification": "unverified"}],
        distance_km=ancoats.distance_km,
        match=LeadMatch(
            area="inside",
            kind="category+name",
            reasons=["OSM amenity=cafe", "name contains 'Coffee'", "0.2 km from Manchester centre"],
        ),
        provenance=dict.fromkeys(
            (
                "name",
                "address",
                "postcode",
                "post_town",
                "lat",
                "lon",
                "website",
                "phone",
                "category",
                "emails",
            ),
            "osm",
        ),
    )
    # A way has its centre; contact:* tags stand in for the plain ones; the first of several phones is kept.
    assert (federal.lat, federal.lon, federal.website, federal.phone, federal.emails[0].value) == (
        53.479,
        -2.245,
        "https://federalcafe.example/",
        "+44 161 000 0002",
        "info@federalcafe.example",
    )
    assert federal.address is None and "address" not in federal.provenance
    assert federal.distance_km is not None and ancoats.distance_km is not None
    assert ancoats.distance_km < federal.distance_km


async def test_search_overpass_sends_one_ql_query(fake: FakeOverpass, client: httpx.AsyncClient) -> None:
    await _search(fake, client, "coffee shop", limit=20)

    assert [(request.method, request.url) for request in fake.requests] == [("POST", fake.url)]
    assert fake.requests[0].body == (
        "[out:json][timeout:25];\n"
        "(\n"
        '  nwr["amenity"="cafe"]["name"](around:10000,53.480800,-2.242600);\n'
        ");\n"
        "out center tags 20;"
    )


@pytest.mark.parametrize(
    ("persona", "source_ids"),
    [
        ("pubs and bars", ["osm:node/1006", "osm:way/2005"]),  # two tags, one union
        ("breweries", ["osm:relation/3007"]),  # craft=brewery, a relation with a centre
        ("dentist", ["osm:node/1008"]),  # healthcare=dentist as well as amenity=dentist
        ("florists", ["osm:node/1009"]),  # shop=florist
        ("vintage clothing", ["osm:node/1010"]),  # no tag known: a name search
    ],
)
async def test_search_overpass_finds_each_persona_by_its_tags(
    fake: FakeOverpass, client: httpx.AsyncClient, persona: str, source_ids: list[str]
) -> None:
    leads = await _search(fake, client, persona)

    assert sorted(lead.source_id for lead in leads) == source_ids


async def test_search_overpass_asks_for_no_more_than_the_limit(
    fake: FakeOverpass, client: httpx.AsyncClient
) -> None:
    leads = await _search(fake, client, "pubs and bars", limit=1)

    assert len(leads) == 1
    assert fake.requests[0].body.endswith("out center tags 1;")


async def test_search_overpass_returns_nothing_for_no_elements(
    fake: FakeOverpass, client: httpx.AsyncClient
) -> None:
    fake.elements = []

    assert await _search(fake, client, "cafe") == []


async def test_search_overpass_needs_coordinates(fake: FakeOverpass, client: httpx.AsyncClient) -> None:
    yorkshire = RegionMatch(name="Yorkshire", kind=RegionKind.COUNTY, country="GB")

    with pytest.raises(PermanentToolError) as caught:
        await _search(fake, client, "cafe", region=yorkshire)

    assert str(caught.value) == "overpass: Overpass needs coordinates, and Yorkshire (county) has none"
    assert fake.requests == []


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (Fault.RATE_LIMITED, "overpass: HTTP 429: too many requests"),  # the dispatcher has no slot for us
        (Fault.GATEWAY_TIMEOUT, "overpass: HTTP 504: the server is too busy"),
        (Fault.QUERY_TIMED_OUT, "overpass: runtime error: Query timed out"),  # 200 with a remark, no data
        (Fault.MALFORMED, "overpass: HTTP 200 with a body that is not JSON"),  # cut off in transfer
    ],
)
async def test_search_overpass_failures_are_retryable(
    fake: FakeOverpass, client: httpx.AsyncClient, fault: Fault, words: str
) -> None:
    fake.fail_next(fault)

    with pytest.raises(ToolError) as caught:
        await _search(fake, client, "cafe")

    assert type(caught.value) is RetryableToolError
    assert str(caught.value).startswith(words)


@pytest.mark.parametrize("fault", [Fault.RATE_LIMITED, Fault.GATEWAY_TIMEOUT])
async def test_search_overpass_passes_on_retry_after(
    fake: FakeOverpass, client: httpx.AsyncClient, fault: Fault
) -> None:
    fake.retry_after = "30"
    fake.fail_next(fault)

    with pytest.raises(RetryableToolError) as caught:
        await _search(fake, client, "cafe")

    assert caught.value.retry_after == 30.0


async def test_search_overpass_sends_one_request_at_a_time(
    fake: FakeOverpass, client: httpx.AsyncClient
) -> None:
    fake.delay = 0.2

    results = await asyncio.gather(
        *(_search(fake, client, persona) for persona in ("cafe", "pub", "florist"))
    )

    assert [len(leads) for leads in results] == [2, 1, 1]
    assert (len(fake.requests), fake.max_in_flight) == (3, 1)


async def test_search_overpass_times_out_as_retryable(fake: FakeOverpass) -> None:
    fake.delay = 1.0

    async with make_client(timeout=httpx.Timeout(0.2)) as impatient:
        with pytest.raises(RetryableToolError) as caught:
            await _search(fake, impatient, "cafe")

    assert str(caught.value) == "overpass: ReadTimeout (no response)"


def test_overpass_info_is_configured_only_with_a_url() -> None:
    assert overpass_info(Settings(overpass_url="https://overpass-api.de/api/interpreter")) == ProviderInfo(
        "overpass", configured=True, label="OpenStreetMap"
    )
    assert overpass_info(Settings(overpass_url=None)) == ProviderInfo(
        "overpass", configured=False, reason="set WYSHBONE_OVERPASS_URL", label="OpenStreetMap"
    )


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("coffee shops", ((OsmFilter("amenity", ("cafe",)),), ())),
        ("pubs and bars", ((OsmFilter("amenity", ("pub",)), OsmFilter("amenity", ("bar",))), ())),
        ("craft beer pub", ((OsmFilter("amenity", ("pub",)),), ())),  # the longest known tail
        ("microbreweries", ((OsmFilter("craft", ("brewery",)),), ())),
        # known to the directory only as a category: its OSM tags
        ("gastropub", ((OsmFilter("amenity", ("pub", "bar")), OsmFilter("amenity", ("restaurant",))), ())),
        # unknown: search names, leaving out words that match half the town
        ("vintage clothing shop", ((), ("vintage", "clothing"))),
    ],
)
def test_osm_filters_maps_personas(
    persona: str, expected: tuple[tuple[OsmFilter, ...], tuple[str, ...]]
) -> None:
    assert osm_filters(persona) == expected


# --- qualifiers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "conditions"),
    [
        # a cuisine may be one of a ";" list; a name may say it instead
        (
            "italian",
            (
                '["cuisine"~"(^|;) *(italian) *(;|$)"]',
                '["name"~"italian|italia|pizzeria|trattoria|ristorante|osteria|pizza|pasta",i]',
            ),
        ),
        # a diet tag's "yes" or "only"
        ("vegan", ('["diet:vegan"~"^(yes|only)$"]', '["name"~"vegan|plant based|plant-based",i]')),
        # independent: no brand tag (chain names are checked word by word when the elements are read)
        ("independent", ('[!"brand"]',)),
        # no OSM tag and no name can say it
        ("family_run", ("",)),
    ],
)
def test_qualifier_conditions(key: str, conditions: tuple[str, ...]) -> None:
    assert qualifier_conditions(QUALIFIERS[key]) == conditions


async def _qualified(
    fake: FakeOverpass, client: httpx.AsyncClient, persona: str, qualifiers: list[str]
) -> list[Lead]:
    fake.elements = qualified_elements()
    return await search_overpass(
        client=client, url=fake.url, persona=persona, region=MANCHESTER, limit=20, qualifiers=qualifiers
    )


async def test_search_overpass_italian_restaurants_by_cuisine_tag_or_name(
    fake: FakeOverpass, client: httpx.AsyncClient
) -> None:
    leads = await _qualified(fake, client, "restaurants", ["italian"])

    # one statement per way of showing it, each with the persona's tag
    assert fake.requests[0].body.count('nwr["amenity"="restaurant"]["name"]') == 2
    # the tandoori house is not; the chain is Italian too (no "independent" was asked)
    assert [(lead.name, lead.match.qualifiers if lead.match else None) for lead in leads] == [
        ("Da Mario", {"italian": "tag"}),
        ("Trattoria Verde", {"italian": "name"}),
        ("Pizza Express", {"italian": "tag"}),
    ]
    assert leads[0].match is not None
    assert leads[0].match.reasons == [
        "OSM amenity=restaurant",
        "OSM cuisine=italian;pizza",
        "0.1 km from Manchester centre",
    ]


async def test_search_overpass_independent_leaves_out_branded_chains(
    fake: FakeOverpass, client: httpx.AsyncClient
) -> None:
    leads = await _qualified(fake, client, "restaurants", ["italian", "independent"])

    assert '[!"brand"]' in fake.requests[0].body
    assert [lead.name for lead in leads] == ["Da Mario", "Trattoria Verde"]


async def test_search_overpass_vegan_cafes_by_diet_tag_or_name(
    fake: FakeOverpass, client: httpx.AsyncClient
) -> None:
    leads = await _qualified(fake, client, "cafes", ["vegan"])

    # "diet:vegan=no" says the opposite
    assert [(lead.name, lead.match.qualifiers if lead.match else None) for lead in leads] == [
        ("Green Bean", {"vegan": "tag"}),
        ("Vegan Vibes", {"vegan": "name"}),
    ]


async def test_search_overpass_craft_breweries_by_tag(fake: FakeOverpass, client: httpx.AsyncClient) -> None:
    leads = await _qualified(fake, client, "breweries", ["craft"])

    assert [(lead.name, lead.match.kind, lead.match.qualifiers) for lead in leads if lead.match] == [
        ("Track", "category", {"craft": "tag"})
    ]
