"""Goal reading: a goal in plain words → LeadGenGoal + assumptions + problems (pure, given a gazetteer)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.fakes.places import MANCHESTER_MATCH, SW1_MATCH, SW1A, SW1P, YORKSHIRE
from wyshbone.domain.gazetteer import Gazetteer, Place, WorldCity
from wyshbone.domain.goals import (
    EMPTY_GOAL,
    NO_PERSONA,
    NO_PLACE,
    NO_PLACE_NEAR_ME,
    apply_overrides,
    parse_goal,
)
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
ITALIAN = "Looking only for Italian ones: kept when the name, a tag or a type shows it."
VEGAN = "Looking only for vegan ones: kept when the name, a tag or a type shows it."

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
        places=(MANCHESTER, YORKSHIRE, LS6, SW1A, SW1P),
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
                    nearby_allowed=True,  # "near": leads just outside LS6 are welcome
                ),
                assumptions=[NO_NUMBER, "No cadence given: will check for new ones weekly.", GB],
            ),
        ),
        # a qualifier kept apart from the kind, and said so
        (
            "Find 20 Italian restaurants in Manchester",
            ParsedGoal(
                goal=LeadGenGoal(
                    raw_goal="Find 20 Italian restaurants in Manchester",
                    target_region="Manchester",
                    target_persona="restaurant",
                    volume=20,
                    country="GB",
                    target_categories=["restaurant"],
                    region_match=MANCHESTER_MATCH,
                    qualifiers=["italian"],
                ),
                assumptions=[GB, ITALIAN],
            ),
        ),
        # a district with no row of its own: all its sub-districts; a refusal beats the words that ask
        (
            "vegan cafes around SW1 and email them, no emails please",
            ParsedGoal(
                goal=LeadGenGoal(
                    raw_goal="vegan cafes around SW1 and email them, no emails please",
                    target_region="SW1",
                    target_persona="cafe",
                    volume=20,
                    country="GB",
                    target_categories=["cafe"],
                    region_match=SW1_MATCH,
                    qualifiers=["vegan"],
                    nearby_allowed=True,
                ),
                assumptions=[NO_NUMBER, GB, VEGAN],
            ),
        ),
        # a misspelt place, read as the one clearly closest, and said so
        (
            "pubs in Manchster",
            ParsedGoal(
                goal=LeadGenGoal(
                    raw_goal="pubs in Manchster",
                    target_region="Manchester",
                    target_persona="pub",
                    volume=20,
                    country="GB",
                    target_categories=["pub_bar"],
                    region_match=MANCHESTER_MATCH,
                ),
                assumptions=[NO_NUMBER, "Read 'Manchster' as Manchester.", GB],
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
            "Find 20 pubs near me",  # "me" is not a place, and no default region is set: ask where
            ParsedGoal(goal=None, problems=[NO_PLACE_NEAR_ME]),
        ),
        (
            "nail salons near me",  # an unknown kind is still a kind: the place is what is missing
            ParsedGoal(goal=None, assumptions=[NO_NUMBER], problems=[NO_PLACE_NEAR_ME]),
        ),
        (
            "local florists",  # "local", with nowhere to be local to
            ParsedGoal(goal=None, assumptions=[NO_NUMBER], problems=[NO_PLACE_NEAR_ME]),
        ),
        (
            "10 dentists nearby",  # "nearby", likewise
            ParsedGoal(goal=None, problems=[NO_PLACE_NEAR_ME]),
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


def test_parse_goal_near_me_uses_the_default_region_and_allows_nearby(tiny: Gazetteer) -> None:
    parsed = parse_goal("nail salons near me", tiny, LeadGenContext(user_id="u", default_region="Manchester"))
    goal = parsed.goal
    assert ((goal.target_persona, goal.target_region, goal.nearby_allowed) if goal else None) == (
        "nail salon",
        "Manchester",
        True,
    )


def test_parse_goal_is_pure(tiny: Gazetteer) -> None:
    text = "Find 50 pubs in Manchester and email them"
    assert parse_goal(text, tiny) == parse_goal(text, tiny)


def test_parse_goal_imports_no_fuzzy_matcher_up_front() -> None:
    # rapidfuzz is imported when a place is misspelt, not when the CLI or the web app starts.
    code = "import sys, wyshbone.domain.goals; print('rapidfuzz' in sys.modules)"
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert ran.stdout.strip() == "False"


# --- corrections a person makes ------------------------------------------------------------------------

ITALIAN_GOAL = "Find 20 Italian restaurants in Manchester"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        # the qualifiers read are replaced, and the assumptions say what is looked for now
        (
            GoalOverrides(qualifiers=["vegan"]),
            (["vegan"], [GB, "Changed by you: qualifiers.", VEGAN], []),
        ),
        # ... by the words a person would type, or the keys the API shows
        (
            GoalOverrides(qualifiers=["Family-run", "outdoor_seating", "beer garden"]),
            (
                ["family_run", "outdoor_seating"],
                [
                    GB,
                    "Changed by you: qualifiers.",
                    "Looking for family-run ones: no source records that, so it is not checked.",
                    "Looking only for ones with outdoor seating: kept when the name or a tag shows it.",
                ],
                [],
            ),
        ),
        # [] clears them
        (GoalOverrides(qualifiers=[]), ([], [GB, "Changed by you: qualifiers."], [])),
        # another correction keeps them
        (GoalOverrides(volume=5), (["italian"], [GB, ITALIAN, "Changed by you: volume."], [])),
        # a new kind with a qualifier in it adds that qualifier
        (
            GoalOverrides(target_persona="vegan cafes"),
            (["italian", "vegan"], [GB, "Changed by you: targetPersona.", ITALIAN, VEGAN], []),
        ),
        # a word no qualifier answers to is a problem that names it and shows some that work
        (
            GoalOverrides(qualifiers=["Italian", "spicy"]),
            (
                None,
                [GB, ITALIAN],
                [
                    "I don't know the qualifier 'spicy': use one I know, e.g. Italian, vegan, craft, "
                    "independent, family-run, outdoor seating."
                ],
            ),
        ),
    ],
)
def test_apply_overrides_replaces_qualifiers(
    tiny: Gazetteer, overrides: GoalOverrides, expected: tuple[list[str] | None, list[str], list[str]]
) -> None:
    parsed = apply_overrides(ITALIAN_GOAL, overrides, tiny)
    qualifiers = parsed.goal.qualifiers if parsed.goal else None
    assert (qualifiers, parsed.assumptions, parsed.problems) == expected


def test_apply_overrides_keeps_what_the_wording_allowed(tiny: Gazetteer) -> None:
    # "near" in the goal still lets leads come from just outside after the kind is corrected.
    parsed = apply_overrides("pubs near Manchester", GoalOverrides(target_persona="bars"), tiny)
    goal = parsed.goal
    assert ((goal.target_persona, goal.target_region, goal.nearby_allowed) if goal else None) == (
        "bar",
        "Manchester",
        True,
    )


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
            # the kind is coffee shops; "independent" is a qualifier (test_parse_goal_reads_qualifiers)
            "Could you get me 25 independent coffee shops in Bath?",
            ("coffee shop", "Bath", "GB", 25, False, False),
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
        ("a brewery selling beer to pubs in Leeds", ("pub", "Leeds", "GB", 20, False, False)),  # not "beer"
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
        # refusals win over the words that ask
        (
            "Find me 20 estate agents in Reading, no emails please",
            ("estate agent", "Reading", "GB", 20, False, False),
        ),
        (
            "Find 20 pubs in Leeds and email them, don't set up any monitoring",
            ("pub", "Leeds", "GB", 20, True, False),
        ),
        # the seller's own business and town are not the target: what comes with the verb of finding is
        (
            "We roast coffee in Leeds - find 30 cafes in West Yorkshire we could supply, and email them",
            ("cafe", "West Yorkshire", "GB", 30, True, False),
        ),
        ("I run a brewery in Leeds and want 20 pubs in York", ("pub", "York", "GB", 20, False, False)),
        ("We're a brewery in Leeds looking for pubs in York", ("pub", "York", "GB", 20, False, False)),
        ("My bakery in Leeds needs 10 cafes in Bradford", ("cafe", "Bradford", "GB", 10, False, False)),
        ("As a roastery in Bristol we want 12 delis in Bath", ("deli", "Bath", "GB", 12, False, False)),
        # ... unless the search names no place: then the seller's own, with an assumption saying so
        ("I run a brewery in Leeds and want 20 pubs", ("pub", "Leeds", "GB", 20, False, False)),
        (
            "We sell beer to pubs; find 20 in Leeds",
            ("pub", "Leeds", "GB", 20, False, False),
        ),  # whom they sell to
        # misspelt places: the one clearly closest
        ("coffee shops in Manchster", ("coffee shop", "Manchester", "GB", 20, False, False)),
        ("cafes in Edinbrugh", ("cafe", "Edinburgh", "GB", 20, False, False)),  # two letters swapped
        ("pubs in Newcastel upon Tyne", ("pub", "Newcastle upon Tyne", "GB", 20, False, False)),
        ("pubs in the Peak Distrct", ("pub", "the Peak District", "GB", 20, False, False)),  # not Hong Kong's
        # ... two equally close: ask
        ("pubs in Swansae", ["'Swansae' is not a place I know. Did you mean Swansea or Swanage?"]),
        ("pubs in Shefield", ["'Shefield' is not a place I know. Did you mean Sheffield or Shenfield?"]),
        # ... and ordinary words are not misspelt places
        ("Find 20 pubs in town", [NO_PLACE]),  # not Towyn
        ("Find 20 pubs in the city", [NO_PLACE]),  # not Coity
        ("Find 20 pubs in detail", [NO_PLACE]),  # not Deal
        # postcode districts, areas and sectors
        ("restaurants in SW1", ("restaurant", "SW1", "GB", 20, False, False)),  # SW1A…SW1Y
        ("SW1 restaurants", ("restaurant", "SW1", "GB", 20, False, False)),
        ("cafes in EH1", ("cafe", "EH1", "GB", 20, False, False)),
        ("pubs in B15", ("pub", "B15", "GB", 20, False, False)),
        ("pubs in W1", ("pub", "W1", "GB", 20, False, False)),
        ("pubs in LS6 2", ("pub", "LS6", "GB", 20, False, False)),  # a sector: its district
        ("pubs in the LS postcode area", ("pub", "the LS postcode area", "GB", 20, False, False)),
        ("pubs in postcode area M", ("pub", "the M postcode area", "GB", 20, False, False)),
        (
            "pubs in LS",  # a bare area is not read as one, but the problem says how to ask for it
            [
                "'LS' reads as a postcode area: say 'in the LS postcode area' to search all of it, "
                "or name a district such as LS1."
            ],
        ),
        # "near me" with no default region: the place is what is missing, not the kind
        ("nail salons near me", [NO_PLACE_NEAR_ME]),
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
        # refusals rule out what they name, however else the goal words it
        ("Find me 20 estate agents in Reading, no emails please", ([], False, None, None)),
        ("Find 20 pubs in Leeds, don't email them", ([], False, None, None)),
        ("Find 20 pubs in Leeds and call them, no emails", (["phone"], False, None, None)),  # only email
        ("Find 20 pubs in Leeds and email them, no outreach", ([], False, None, None)),
        ("Find 20 pubs in Leeds without outreach", ([], False, None, None)),
        ("Find 20 pubs in Leeds and email them, no calls", (["email"], False, None, None)),  # only phone
        ("Find pubs in Leeds, email them and alert me weekly, no monitoring", (["email"], False, None, None)),
        ("Find 20 pubs in Leeds and keep watching, don't set up any monitoring", ([], False, None, None)),
        ("Find 20 pubs in Leeds and email them, just the list", ([], False, None, None)),  # nothing else
        ("Only the list please: 20 pubs in Leeds, email them weekly", ([], False, None, None)),
        ("find me 5 bakeries in Bath, no need to email them", ([], False, None, None)),
        ("Find pubs in Leeds without emailing them", ([], False, None, None)),
        ("Find 20 pubs in Leeds and don't monitor them", ([], False, None, None)),
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
        ("coffee shops in Manchster", [NO_NUMBER, "Read 'Manchster' as Manchester.", GB]),  # a typo
        ("Find 20 pubs in LS6 2", ["Used the postcode district LS6 for LS6 2.", GB]),  # a sector
        (
            "I run a brewery in Leeds and want 20 pubs",  # no place for the search: the seller's own, said so
            ["No place given for the search: looked in Leeds, where you said you are.", GB],
        ),
        (
            # "we" names no place (it was read as Huế, Vietnam): the radius is around the seller's town
            "We bake sourdough in Nottingham - find 12 delis within 15 miles we could sell to",
            ["No place given for the search: looked in Nottingham, where you said you are.", GB],
        ),
        # each qualifier says how leads will show it
        ("Find 20 Italian restaurants in Birmingham", [GB, ITALIAN]),
        (
            "Find 20 independent coffee shops in Bath",
            [GB, "Looking only for independent ones: known chains are left out."],
        ),
        (
            "Find 20 family-run pubs in York",
            [GB, "Looking for family-run ones: no source records that, so it is not checked."],
        ),
        (
            "Find 20 pubs in Leeds with a beer garden",
            [GB, "Looking only for ones with outdoor seating: kept when the name or a tag shows it."],
        ),
        (
            "30 craft breweries around Bristol",
            [GB, "Looking only for craft ones: kept when the name or a tag shows it."],
        ),
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
        # a postcode district with no row of its own: its sub-districts, every one
        ("restaurants in SW1", RegionMatch(
            name="SW1", kind=K.POSTCODE_DISTRICT, country="GB", lat=51.49651, lon=-0.13971, radius_km=4.0,
            population=53433, region="London", local_authority="Westminster",
            field_values=("SW1A", "SW1E", "SW1H", "SW1P", "SW1V", "SW1W", "SW1X", "SW1Y"),
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
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # (persona, qualifiers, region): the examples
        ("Find 20 Italian restaurants in Birmingham", ("restaurant", ["italian"], "Birmingham")),
        ("vegan cafes near Brighton", ("cafe", ["vegan"], "Brighton")),
        ("30 craft breweries around Bristol", ("brewery", ["craft"], "Bristol")),
        ("Could you get me 25 independent coffee shops in Bath?", ("coffee shop", ["independent"], "Bath")),
        ("family-run pubs in York", ("pub", ["family_run"], "York")),
        ("pubs with outdoor seating in Leeds", ("pub", ["outdoor_seating"], "Leeds")),
        (
            "Find 20 pubs in Leeds with a beer garden",
            ("pub", ["outdoor_seating"], "Leeds"),
        ),  # after the place
        # other wordings
        ("plant-based cafes in Leeds", ("cafe", ["vegan"], "Leeds")),  # another word for one
        ("dog friendly pubs in Leeds", ("pub", ["dog_friendly"], "Leeds")),  # two words
        ("independent and family-run cafes in Leeds", ("cafe", ["independent", "family_run"], "Leeds")),
        ("Find 15 micro breweries in Sheffield", ("brewery", ["micro"], "Sheffield")),
        ("craft beer shops in Leeds", ("beer shop", ["craft"], "Leeds")),  # a known kind, still a beer shop
        ("halal butchers in Bradford", ("butcher", ["halal"], "Bradford")),
        # words that only look like qualifiers
        ("fish and chip shops in Hull", ("fish and chip shop", [], "Kingston upon Hull")),
        ("fish bars in Hull", ("fish bar", [], "Kingston upon Hull")),  # a takeaway, not a bar
        ("garden centres in Leeds", ("garden centre", [], "Leeds")),
        ("Find 15 micro-breweries in Sheffield", ("micro-brewery", [], "Sheffield")),  # one word
        ("Find 20 pubs in Leeds", ("pub", [], "Leeds")),  # none at all
    ],
)
def test_parse_goal_reads_qualifiers(
    gazetteer: Gazetteer, text: str, expected: tuple[str, list[str], str]
) -> None:
    goal = parse_goal(text, gazetteer).goal
    assert ((goal.target_persona, goal.qualifiers, goal.target_region) if goal else None) == expected


@pytest.mark.data
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pubs in Leeds", False),  # "in": inside Leeds, topped up from outside only when short
        ("Leeds pubs", False),  # no preposition
        ("local pubs in Leeds", False),  # "local" to Leeds is in Leeds
        ("pubs across Yorkshire", False),
        ("pubs near Leeds", True),
        ("pubs nr Leeds", True),
        ("pubs around Leeds", True),
        ("pubs close to Leeds", True),
        ("pubs in and around Leeds", True),
        ("pubs in Leeds and nearby", True),
        ("pubs in Leeds and the surrounding area", True),
        ("pubs within 10 miles of Leeds", True),
        ("pubs within 5 km of LS6", True),
        ("pubs near Manchster", True),  # misspelt, but still "near"
    ],
)
def test_parse_goal_reads_whether_nearby_is_allowed(gazetteer: Gazetteer, text: str, expected: bool) -> None:
    goal = parse_goal(text, gazetteer).goal
    assert (goal.nearby_allowed if goal else None) == expected


@pytest.mark.data
def test_parse_goal_is_quick(gazetteer: Gazetteer) -> None:
    goals = [
        "Get me thirty breweries in Yorkshire, and keep watching for new ones",
        "find 40 restaurants in madrid, spain",
        "Could you get me 25 independent coffee shops in Bath and email them by Friday?",
        "Find 10 florists in Narnia",
        "coffee shops in Manchster",
        "We roast coffee in Leeds - find 30 cafes in West Yorkshire we could supply, and email them",
    ] * 50
    started = time.perf_counter()
    for text in goals:
        parse_goal(text, gazetteer)
    per_goal_ms = (time.perf_counter() - started) * 1000 / len(goals)
    assert per_goal_ms < 5.0
