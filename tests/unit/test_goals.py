"""Goal reading: a goal in plain words → LeadGenGoal + assumptions + problems (pure, given a gazetteer)."""

from __future__ import annotations

import time

import pytest

from tests.fakes.places import MANCHESTER_MATCH, YORKSHIRE
from wyshbone.domain.gazetteer import Gazetteer, Place, WorldCity
from wyshbone.domain.goals import EMPTY_GOAL, NO_PERSONA, NO_PLACE, apply_overrides, parse_goal
from wyshbone.domain.models import (
    GoalOverrides,
    LeadGenContext,
    LeadGenGoal,
    ParsedGoal,
    RegionKind,
    RegionMatch,
)

K = RegionKind
GB = "Assumed country GB (United Kingdom)."
NO_NUMBER = "No number given: assumed 20 leads."

MANCHESTER = Place(
    name="Manchester",
    kind=K.TOWN,
    lat=53.48095,
    lon=-2.23743,
    population=568996,
    county="Greater Manchester",
    region="North West",
    local_authority="Manchester",
)
LS6 = Place(
    name="LS6", kind=K.POSTCODE_DISTRICT, lat=53.8185, lon=-1.56626, radius_km=2.0, field_values=("LS6",)
)
PARIS = WorldCity(name="Paris", country="FR", lat=48.85341, lon=2.3488, population=2138551)


@pytest.fixture(scope="module")
def tiny() -> Gazetteer:
    return Gazetteer(
        places=(MANCHESTER, YORKSHIRE, LS6),
        world_cities=(PARIS,),
        countries={"UK": "GB"},
        country_names={"GB": "United Kingdom", "FR": "France", "ES": "Spain"},
    )


# --- whole results on a hand-built gazetteer -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the headline goal: everything read, two things assumed
        (
            "Find 20 coffee shops in Manchester",
            ParsedGoal(
                goal=LeadGenGoal(
                    raw_goal="Find 20 coffee shops in Manchester",
                    target_region="Manchester",
                    target_persona="coffee shop",
                    volume=20,
                    country="GB",
                    target_categories=["cafe"],
                    region_match=MANCHESTER_MATCH,
                ),
                assumptions=[GB],
            ),
        ),
        # everything at once: number word, channel, monitoring with a cadence, timing
        (
            "Get me thirty breweries in Yorkshire this week, email them and alert me monthly",
            ParsedGoal(
                goal=LeadGenGoal(
                    raw_goal="Get me thirty breweries in Yorkshire this week, email them and alert me monthly",
                    target_region="Yorkshire",
                    target_persona="brewery",
                    volume=30,
                    timing="this week",
                    preferred_channels=["email"],
                    include_monitoring=True,
                    country="GB",
                    target_categories=["brewery"],
                    region_match=RegionMatch(
                        name="Yorkshire",
                        kind=K.REGION,
                        country="GB",
                        region="Yorkshire and The Humber",
                        field_value="Yorkshire and The Humber",
                        field_values=("Yorkshire and The Humber",),
                    ),
                    monitor_cadence="monthly",
                ),
                assumptions=[GB],
            ),
        ),
        # a postcode district, a world city with its country, nothing assumed about the country
        (
            "a dozen florists in Paris, France",
            ParsedGoal(
                goal=LeadGenGoal(
                    raw_goal="a dozen florists in Paris, France",
                    target_region="Paris",
                    target_persona="florist",
                    volume=12,
                    country="FR",
                    target_categories=[],
                    region_match=RegionMatch(
                        name="Paris",
                        kind=K.WORLD_CITY,
                        country="FR",
                        lat=48.85341,
                        lon=2.3488,
                        radius_km=10.0,
                        population=2138551,
                    ),
                ),
            ),
        ),
        # a postcode district; monitoring without a cadence
        (
            "pubs near LS6, keep an eye out for new ones",
            ParsedGoal(
                goal=LeadGenGoal(
                    raw_goal="pubs near LS6, keep an eye out for new ones",
                    target_region="LS6",
                    target_persona="pub",
                    volume=20,
                    include_monitoring=True,
                    country="GB",
                    target_categories=["pub_bar"],
                    region_match=RegionMatch(
                        name="LS6",
                        kind=K.POSTCODE_DISTRICT,
                        country="GB",
                        lat=53.8185,
                        lon=-1.56626,
                        radius_km=2.0,
                        field_value="LS6",
                        field_values=("LS6",),
                    ),
                    monitor_cadence="weekly",
                ),
                assumptions=[NO_NUMBER, "No cadence given: will check for new ones weekly.", GB],
            ),
        ),
    ],
)
def test_parse_goal_reads_whole_goals(tiny: Gazetteer, text: str, expected: ParsedGoal) -> None:
    assert parse_goal(text, tiny) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ParsedGoal(goal=None, problems=[EMPTY_GOAL])),  # nothing
        ("   ", ParsedGoal(goal=None, problems=[EMPTY_GOAL])),  # only spaces
        (
            "hello",
            ParsedGoal(goal=None, assumptions=[NO_NUMBER], problems=[NO_PERSONA, NO_PLACE]),
        ),  # a greeting
        (
            "find stuff",
            ParsedGoal(goal=None, assumptions=[NO_NUMBER], problems=[NO_PERSONA, NO_PLACE]),
        ),  # vague
        (
            "Find 20 things in Manchester",
            ParsedGoal(goal=None, assumptions=[GB], problems=[NO_PERSONA]),
        ),  # vague
        ("Find 20 in Manchester", ParsedGoal(goal=None, assumptions=[GB], problems=[NO_PERSONA])),  # no noun
        ("find dentists", ParsedGoal(goal=None, assumptions=[NO_NUMBER], problems=[NO_PLACE])),  # nowhere
        (
            "Find 20 pubs near me",  # "me" is not a place, and no default region is set
            ParsedGoal(goal=None, problems=[NO_PLACE]),
        ),
        (
            "Find 10 florists in Narnia",  # an unknown place is a problem, never a guess
            ParsedGoal(
                goal=None,
                problems=["I couldn't tell where 'Narnia' is: add a town or region (e.g. 'in Leeds')."],
            ),
        ),
        (
            "Find 20 cafes in Spain",  # a country is too big to search
            ParsedGoal(
                goal=None,
                problems=["'Spain' is a whole country: name a city in it, e.g. 'in <city>, Spain'."],
            ),
        ),
        (
            "Find 0 pubs in Manchester",  # zero is not a request
            ParsedGoal(
                goal=None, assumptions=[GB], problems=["Asked for 0 leads: ask for between 1 and 1,000."]
            ),
        ),
        (
            "Find -5 pubs in Manchester",  # nor is a negative number (it was read as 5)
            ParsedGoal(
                goal=None, assumptions=[GB], problems=["Asked for -5 leads: ask for between 1 and 1,000."]
            ),
        ),
        (
            "x" * 1001,  # a pasted essay
            ParsedGoal(
                goal=None, problems=["The goal is too long (1001 characters): keep it to a sentence or two."]
            ),
        ),
    ],
)
def test_parse_goal_refuses_unplannable_goals(tiny: Gazetteer, text: str, expected: ParsedGoal) -> None:
    parsed = parse_goal(text, tiny)
    assert (parsed, parsed.plannable) == (expected, False)


@pytest.mark.parametrize(
    ("context", "expected_region", "expected_assumptions"),
    [
        # the user's default region stands in, and says so
        (
            LeadGenContext(user_id="u", default_region="Manchester"),
            "Manchester",
            [NO_NUMBER, "No place given: used your default region, Manchester.", GB],
        ),
        # a default region the gazetteer does not know is a problem, not a guess
        (LeadGenContext(user_id="u", default_region="Atlantis"), None, [NO_NUMBER]),
    ],
)
def test_parse_goal_uses_the_default_region(
    tiny: Gazetteer, context: LeadGenContext, expected_region: str | None, expected_assumptions: list[str]
) -> None:
    parsed = parse_goal("Find pubs", tiny, context)
    assert (parsed.goal.target_region if parsed.goal else None, parsed.assumptions) == (
        expected_region,
        expected_assumptions,
    )


def test_parse_goal_default_country_abroad(tiny: Gazetteer) -> None:
    # A French user's "Paris" is Paris, France, assumed from their settings.
    parsed = parse_goal("cafés in Paris", tiny, LeadGenContext(user_id="u", default_country="FR"))
    assert (parsed.goal.country if parsed.goal else None, parsed.assumptions) == (
        "FR",
        [NO_NUMBER, "Assumed country FR (France)."],
    )


def test_parse_goal_caps_volumes_at_the_callers_cap_and_says_so(tiny: Gazetteer) -> None:
    parsed = parse_goal("Find 80 pubs in Manchester", tiny, max_volume=50)
    assert (parsed.goal.volume if parsed.goal else None, parsed.assumptions[0]) == (
        50,
        "Asked for 80 leads: capped at 50, the most one plan gathers.",
    )
    corrected = apply_overrides("Find 20 pubs in Manchester", GoalOverrides(volume=5000), tiny, max_volume=50)
    assert (corrected.goal.volume if corrected.goal else None, corrected.assumptions[-1]) == (
        50,
        "Asked for 5,000 leads: capped at 50, the most one plan gathers.",
    )


def test_parse_goal_is_pure(tiny: Gazetteer) -> None:
    text = "Find 50 pubs in Manchester and email them"
    assert parse_goal(text, tiny) == parse_goal(text, tiny)


# --- the public examples and more, on the real gazetteer -----------------------------------------------

Row = tuple[str | None, str | None, str, int, bool, bool]


def summary(parsed: ParsedGoal) -> Row | list[str]:
    """(persona, region, country, volume, email?, monitoring?) — or the problems."""
    goal = parsed.goal
    if goal is None:
        return parsed.problems
    email = "email" in goal.preferred_channels
    return (
        goal.target_persona,
        goal.target_region,
        goal.country,
        goal.volume,
        email,
        goal.include_monitoring,
    )


@pytest.mark.data
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the public examples
        ("Find 20 coffee shops in Manchester", ("coffee shop", "Manchester", "GB", 20, False, False)),
        ("Find 50 pubs in Leeds and email them", ("pub", "Leeds", "GB", 50, True, False)),
        (
            "Get me thirty breweries in Yorkshire, and keep watching for new ones",
            ("brewery", "Yorkshire", "GB", 30, False, True),
        ),
        (
            "I need 15 dentists in Bristol for an email campaign",
            ("dentist", "Bristol", "GB", 15, True, False),
        ),
        ("find 40 restaurants in madrid, spain", ("restaurant", "Madrid", "ES", 40, False, False)),
        # places
        (
            "Find a dozen cafés in Newcastle upon Tyne",
            ("café", "Newcastle upon Tyne", "GB", 12, False, False),
        ),
        ("about 30 pubs in Kent", ("pub", "Kent", "GB", 30, False, False)),
        ("Find pubs in the Cotswolds", ("pub", "the Cotswolds", "GB", 20, False, False)),
        ("Find 10 restaurants in Paris, France", ("restaurant", "Paris", "FR", 10, False, False)),
        ("Find 25 bars in New York", ("bar", "New York City", "US", 25, False, False)),
        ("coffee shops near LS6", ("coffee shop", "LS6", "GB", 20, False, False)),
        ("dentists in M1", ("dentist", "M1", "GB", 20, False, False)),
        ("Find 20 pubs in LS6 2AB", ("pub", "LS6", "GB", 20, False, False)),  # a full postcode
        ("cafes in North Wales", ("cafe", "North Wales", "GB", 20, False, False)),
        ("hotels in Greater London", ("hotel", "London", "GB", 20, False, False)),
        ("pubs in West Yorkshire", ("pub", "West Yorkshire", "GB", 20, False, False)),
        ("Find 12 pubs in Newport, Wales", ("pub", "Newport", "GB", 12, False, False)),
        ("find 20 coffee shops in leeds, uk", ("coffee shop", "Leeds", "GB", 20, False, False)),
        ("Find 20 cafés in Boston", ("café", "Boston", "GB", 20, False, False)),  # at home first
        ("Find 20 cafés in Boston, USA", ("café", "Boston", "US", 20, False, False)),  # ... unless told
        ("find 12 pubs in paris, texas", ("pub", "Paris", "US", 12, False, False)),
        ("Find 20 Manchester coffee shops", ("coffee shop", "Manchester", "GB", 20, False, False)),
        ("Find 20 pubs in Hull", ("pub", "Kingston upon Hull", "GB", 20, False, False)),
        (
            "Could you get me 25 independent coffee shops in Bath?",
            ("independent coffee shop", "Bath", "GB", 25, False, False),
        ),
        # numbers
        ("find thirty-five takeaways in York", ("takeaway", "York", "GB", 35, False, False)),
        ("find a hundred hotels in Leeds", ("hotel", "Leeds", "GB", 100, False, False)),
        ("half a dozen butchers in Leeds", ("butcher", "Leeds", "GB", 6, False, False)),
        ("Find 1000 pubs in Leeds", ("pub", "Leeds", "GB", 1000, False, False)),  # the cap itself
        ("Find 5,000 pubs in Leeds", ("pub", "Leeds", "GB", 1000, False, False)),  # capped
        ("Find 1e9 pubs in Leeds", ("pub", "Leeds", "GB", 1000, False, False)),  # read as a number, capped
        ("Find 1E999 pubs in Leeds", ("pub", "Leeds", "GB", 1000, False, False)),  # more than any number
        ("Manchester coffee shops, 20 of them", ("coffee shop", "Manchester", "GB", 20, False, False)),
        # who
        ("a brewery selling to pubs in Leeds", ("pub", "Leeds", "GB", 20, False, False)),
        (
            "Find me 20 leads for coffee shops in Manchester",
            ("coffee shop", "Manchester", "GB", 20, False, False),
        ),
        ("Find 20 coffee shop owners in Manchester", ("coffee shop", "Manchester", "GB", 20, False, False)),
        ("Find 15 micro-breweries in Sheffield", ("micro-brewery", "Sheffield", "GB", 15, False, False)),
        ("Find 20 gyms in Leeds", ("gym", "Leeds", "GB", 20, False, False)),  # unknown persona: free text
        # outreach and monitoring
        ("Find 10 pubs in Leeds, set up an email sequence", ("pub", "Leeds", "GB", 10, True, False)),
        (
            "reach out by email to 30 off licences in Sheffield",
            ("off licence", "Sheffield", "GB", 30, True, False),
        ),
        ("Find 30 dentists in Leeds for a cold email campaign", ("dentist", "Leeds", "GB", 30, True, False)),
        ("Find pubs in Kent and alert me weekly", ("pub", "Kent", "GB", 20, False, True)),
        ("monitor for new ones every month: pubs in York", ("pub", "York", "GB", 20, False, True)),
        # unplannable
        ("hello", [NO_PERSONA, NO_PLACE]),
        ("find stuff", [NO_PERSONA, NO_PLACE]),
        ("", [EMPTY_GOAL]),
    ],
)
def test_parse_goal_examples(gazetteer: Gazetteer, text: str, expected: Row | list[str]) -> None:
    assert summary(parse_goal(text, gazetteer)) == expected


@pytest.mark.data
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # (channels, monitoring, cadence, timing)
        ("Find 50 pubs in Leeds and email them", (["email"], False, None, None)),
        ("Find 20 pubs in Leeds and call them", (["phone"], False, None, None)),
        ("Find 20 pubs in Leeds, cold call them then email them", (["phone", "email"], False, None, None)),
        ("Find pubs in Leeds, keep an eye out for new ones", ([], True, "weekly", None)),
        ("Find pubs in Leeds and alert me weekly", ([], True, "weekly", None)),
        ("Find pubs in Leeds and notify me daily", ([], True, "daily", None)),
        ("monitor for new ones every month: pubs in Leeds", ([], True, "monthly", None)),
        ("pubs in Leeds, check every fortnight", ([], True, "weekly", None)),  # nearest offered cadence
        ("Find 20 pubs in Leeds this week", ([], False, None, "this week")),
        ("Find 20 pubs in Leeds by Friday", ([], False, None, "by Friday")),
        ("Find 20 pubs in Leeds ASAP", ([], False, None, "ASAP")),
        ("Find 20 pubs in Leeds within 3 days", ([], False, None, "within 3 days")),
        ("Find 20 pubs in Leeds by the end of the month", ([], False, None, "by the end of the month")),
        ("Find 20 pubs in Leeds", ([], False, None, None)),
    ],
)
def test_parse_goal_reads_channels_monitoring_and_timing(
    gazetteer: Gazetteer, text: str, expected: tuple[list[str], bool, str | None, str | None]
) -> None:
    goal = parse_goal(text, gazetteer).goal
    assert goal is not None
    assert (goal.preferred_channels, goal.include_monitoring, goal.monitor_cadence, goal.timing) == expected


@pytest.mark.data
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Find 20 coffee shops in Manchester", [GB]),  # the country
        ("Find coffee shops in Manchester", [NO_NUMBER, GB]),  # ... and the number
        ("find 40 restaurants in madrid, spain", []),  # the goal said both
        (
            "Find 25 bars in New York",
            ["Read 'New York' as New York City, US (United States): the largest place of that name."],
        ),
        ("find a few delis in York", ["Read 'a few' as 5.", GB]),
        (
            "Find 5000 pubs in Leeds",
            ["Asked for 5,000 leads: capped at 1,000, the most one plan gathers.", GB],
        ),
        ("Find 1e9 pubs in Leeds", ["Asked for 1e9 leads: capped at 1,000, the most one plan gathers.", GB]),
        (
            "Find pubs in Kent and keep watching",
            [NO_NUMBER, "No cadence given: will check for new ones weekly.", GB],
        ),
        ("Find 20 pubs in LS6 2AB", ["Used the postcode district LS6 for LS6 2AB.", GB]),
        (
            "Find 20 pubs in Manchester and Leeds",
            [GB, "One place per goal: searched Manchester only; run another goal for Leeds."],
        ),
        (
            "Find 20 pubs within 5 miles of Kent",
            ["A radius applies to towns and postcode districts: searched all of Kent instead.", GB],
        ),
        ("Find 20 pubs in Scotland", []),  # a nation names its country
    ],
)
def test_parse_goal_says_what_it_assumed(gazetteer: Gazetteer, text: str, expected: list[str]) -> None:
    assert parse_goal(text, gazetteer).assumptions == expected


@pytest.mark.data
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a city: by distance, radius from its size
        ("dentists in Bristol", RegionMatch(
            name="Bristol", kind=K.TOWN, country="GB", lat=51.45523, lon=-2.59665, radius_km=6.0, population=479024,
            county="Bristol", region="South West", local_authority="Bristol",
        )),
        # Leeds: the ceremonial county and the council as the directory spells them
        ("pubs in Leeds", RegionMatch(
            name="Leeds", kind=K.TOWN, country="GB", lat=53.79648, lon=-1.54785, radius_km=6.0, population=536280,
            county="West Yorkshire", region="Yorkshire and The Humber", local_authority="Leeds",
        )),
        # a radius written in miles, in km
        ("coffee shops within 5 miles of Leeds", RegionMatch(
            name="Leeds", kind=K.TOWN, country="GB", lat=53.79648, lon=-1.54785, radius_km=8.0, population=536280,
            county="West Yorkshire", region="Yorkshire and The Humber", local_authority="Leeds",
        )),
        # a world city
        ("restaurants in madrid, spain", RegionMatch(
            name="Madrid", kind=K.WORLD_CITY, country="ES", lat=40.4165, lon=-3.70256, radius_km=10.0,
            population=3255944,
        )),
        # a metropolitan county: every council in it
        ("pubs in Greater Manchester", RegionMatch(
            name="Greater Manchester", kind=K.COUNTY, country="GB", lat=53.50837, lon=-2.35595, radius_km=30.0,
            county="Greater Manchester", region="North West",
            field_values=("Bolton", "Bury", "Greater Manchester", "Manchester", "Oldham", "Rochdale", "Salford",
                          "Stockport", "Tameside", "Trafford", "Wigan"),
        )),
    ],
)  # fmt: skip
def test_parse_goal_region_matches(gazetteer: Gazetteer, text: str, expected: RegionMatch) -> None:
    goal = parse_goal(text, gazetteer).goal
    assert goal is not None and goal.region_match == expected


@pytest.mark.data
def test_parse_goal_is_quick(gazetteer: Gazetteer) -> None:
    goals = [
        "Get me thirty breweries in Yorkshire, and keep watching for new ones",
        "find 40 restaurants in madrid, spain",
        "Could you get me 25 independent coffee shops in Bath and email them by Friday?",
        "Find 10 florists in Narnia",
    ] * 50
    started = time.perf_counter()
    for text in goals:
        parse_goal(text, gazetteer)
    per_goal_ms = (time.perf_counter() - started) * 1000 / len(goals)
    assert per_goal_ms < 5.0
