"""SUP-001: the planner and plan validation, pure."""

from __future__ import annotations

import pytest

from wyshbone.domain.catalog import ProviderInfo
from wyshbone.domain.coverage import (
    CouncilGap,
    SearchCoverage,
    coverage_warnings,
    shortfall_clause,
    with_coverage,
)
from wyshbone.domain.models import (
    LeadGenContext,
    LeadGenGoal,
    LeadGenPlan,
    LeadGenPlanStep,
    RegionKind,
    RegionMatch,
)
from wyshbone.domain.models import (
    LeadToolIdentifier as T,
)
from wyshbone.domain.planner import plan_lead_generation, validate_plan
from wyshbone.domain.steps import PARAMS
from wyshbone.errors import InvalidPlanError

CTX = LeadGenContext(user_id="u1")
MANCHESTER = RegionMatch(
    name="Manchester", kind=RegionKind.TOWN, country="GB", lat=53.48, lon=-2.24, radius_km=6
)


def goal(**overrides: object) -> LeadGenGoal:
    base: dict[str, object] = {
        "raw_goal": "Find 20 coffee shops in Manchester",
        "target_region": "Manchester",
        "target_persona": "coffee shop",
        "volume": 20,
        "target_categories": ["cafe"],
        "region_match": MANCHESTER,
    }
    return LeadGenGoal.model_validate({**base, **overrides})


@pytest.mark.parametrize(
    ("overrides", "expected_ids"),
    [
        # no outreach, no monitoring: the four core steps
        ({}, ["global_db_search_1", "hunter_domain_lookup_1", "hunter_enrich_1", "lead_list_save_1"]),
        # email asked: + Prepare Outreach
        (
            {"preferred_channels": ["email"]},
            [
                "global_db_search_1",
                "hunter_domain_lookup_1",
                "hunter_enrich_1",
                "lead_list_save_1",
                "email_sequence_setup_1",
            ],
        ),
        # monitoring asked: + monitor, no outreach
        (
            {"include_monitoring": True, "monitor_cadence": "monthly"},
            [
                "global_db_search_1",
                "hunter_domain_lookup_1",
                "hunter_enrich_1",
                "lead_list_save_1",
                "monitor_setup_1",
            ],
        ),
    ],
)
def test_plan_lead_generation_steps_follow_goal(
    overrides: dict[str, object], expected_ids: list[str]
) -> None:
    plan = plan_lead_generation(goal(**overrides), CTX, plan_id="p1")
    assert [s.id for s in plan.steps] == expected_ids
    assert plan.status.value == "pending_approval"
    assert plan.user_id == "u1"


def test_plan_lead_generation_links_steps_and_overfetches() -> None:
    plan = plan_lead_generation(goal(preferred_channels=["email"], volume=15), CTX, plan_id="p1")
    by_id = {s.id: s for s in plan.steps}
    search = by_id["global_db_search_1"]
    assert search.title == "Search Wyshbone Global Database"
    assert search.tool == T.GLOBAL_DB_SEARCH
    assert search.params["maxResults"] == 30  # 2 × volume
    assert search.params["categories"] == ["cafe"]
    assert search.params["regionMatch"]["name"] == "Manchester"
    assert search.required
    assert by_id["hunter_enrich_1"].title == "Enrich Contact Data"
    assert by_id["hunter_enrich_1"].params["sourceStepId"] == "hunter_domain_lookup_1"
    assert by_id["lead_list_save_1"].params["sourceStepId"] == "global_db_search_1"
    assert by_id["lead_list_save_1"].params["volume"] == 15
    # the list needs the search; it waits for the (optional) enrichment but is saved even if that failed
    assert by_id["lead_list_save_1"].depends_on == ["global_db_search_1"]
    assert by_id["lead_list_save_1"].waits_for == ["hunter_domain_lookup_1", "hunter_enrich_1"]
    assert by_id["email_sequence_setup_1"].title == "Prepare Outreach"
    assert by_id["email_sequence_setup_1"].depends_on == ["lead_list_save_1"]


def test_plan_lead_generation_estimate_prices_configured_paid_providers() -> None:
    catalog = {
        T.GLOBAL_DB_SEARCH: (
            ProviderInfo("local_directory", True, external=False),
            ProviderInfo("google_places", True, unit_price_usd=0.035, page_size=20, max_results=60),
        ),
        T.HUNTER_ENRICH: (
            ProviderInfo("hunter", False, reason="set WYSHBONE_HUNTER_API_KEY", unit_price_usd=0.05),
        ),
        T.LEAD_LIST_SAVE: (ProviderInfo("wyshbone_store", True, external=False),),
    }
    plan = plan_lead_generation(goal(volume=40), CTX, catalog=catalog, plan_id="p1")
    calls = [(c.step_id, c.provider, c.configured, c.calls, c.cost_usd) for c in plan.estimate.calls]
    assert calls == [
        ("global_db_search_1", "google_places", True, 3, 0.105),  # 80 wanted, capped at 60 → 3 pages of 20
        ("hunter_enrich_1", "hunter", False, 40, 2.0),  # shown, but not counted: not configured
    ]
    assert plan.estimate.total_cost_usd == 0.105
    availability = {a.step_id: (a.will_run, a.reason) for a in plan.estimate.steps}
    assert availability["global_db_search_1"] == (True, None)
    assert availability["hunter_enrich_1"] == (
        False,
        "Not set up: needs a Hunter.io key\nhunter: set WYSHBONE_HUNTER_API_KEY",
    )
    assert availability["hunter_domain_lookup_1"] == (
        False,
        "Not set up: no service is registered for this step",
    )
    assert plan.steps[0].providers == ["local_directory", "google_places"]


def test_a_monitor_s_baseline_search_is_in_the_estimate() -> None:
    catalog = {
        T.GLOBAL_DB_SEARCH: (
            ProviderInfo("local_directory", True, external=False),
            ProviderInfo("overpass", True, unit_price_usd=None),
            ProviderInfo("google_places", True, unit_price_usd=0.035, page_size=20, max_results=60),
        ),
        T.MONITOR_SETUP: (ProviderInfo("monitor", True, external=False),),
    }
    watched = goal(volume=10, include_monitoring=True, monitor_cadence="monthly")
    plan = plan_lead_generation(watched, CTX, catalog=catalog, plan_id="p1", monitor_max_results=150)
    monitor = [c for c in plan.estimate.calls if c.step_id == "monitor_setup_1"]
    assert [(c.provider, c.calls, c.cost_usd) for c in monitor] == [
        ("overpass", 1, None),
        ("google_places", 3, 0.105),  # 150 wanted, Google stops at 60 → 3 pages
    ]
    assert monitor[1].note.startswith("the monitor's baseline search; the same again at each monthly check")
    assert plan.step("monitor_setup_1").params["maxResults"] == 150
    # The plan's own search asks for 2 × volume: Google's share of it, then the monitor's baseline.
    assert plan.estimate.total_cost_usd == pytest.approx(0.035 + 0.105)


def _plan(*steps: tuple[str, list[str]]) -> LeadGenPlan:
    return LeadGenPlan(
        id="p",
        user_id="u",
        goal=goal(),
        steps=[LeadGenPlanStep(id=sid, title=sid, tool="X", depends_on=deps) for sid, deps in steps],
    )


@pytest.mark.parametrize(
    ("steps", "problem"),
    [
        ((("a", []), ("a", [])), "duplicate step id 'a'"),  # duplicate ids
        ((("a", ["zz"]),), "step 'a' depends on unknown step 'zz'"),  # unknown dependency
        ((("a", ["a"]),), "step 'a' depends on itself"),  # self-dependency
        ((("a", ["c"]), ("b", ["a"]), ("c", ["b"])), "dependency cycle: a → c → b → a"),  # a cycle
    ],
)
def test_validate_plan_rejects(steps: tuple[tuple[str, list[str]], ...], problem: str) -> None:
    with pytest.raises(InvalidPlanError) as info:
        validate_plan(_plan(*steps))
    assert info.value.problems == [problem]


def test_validate_plan_accepts_diamond() -> None:
    validate_plan(_plan(("a", []), ("b", ["a"]), ("c", ["a"]), ("d", ["b", "c"])))


@pytest.mark.parametrize(
    ("tool", "params", "problem"),
    [
        # a required field missing
        (T.LEAD_LIST_SAVE, {"listName": "x"}, "sourceStepId: Field required"),
        # a key the tool does not know (a typo the tool would silently ignore)
        (T.HUNTER_ENRICH, {"sourceStepId": "s", "limt": 5}, "limt: Extra inputs are not permitted"),
        # a value of the wrong type
        (T.GLOBAL_DB_SEARCH, {"maxResults": "many"}, "maxResults: Input should be a valid integer"),
        # a cadence a monitor cannot keep
        (T.MONITOR_SETUP, {"sourceStepId": "s", "searchStepId": "s", "cadence": "hourly"}, "cadence: Input"),
    ],
)
def test_validate_plan_rejects_a_step_whose_params_do_not_fit_its_tool(
    tool: T, params: dict[str, object], problem: str
) -> None:
    plan = _plan(("s", [])).model_copy(
        update={"steps": [LeadGenPlanStep(id="s", title="s", tool=tool, params=params)]}
    )
    with pytest.raises(InvalidPlanError) as info:
        validate_plan(plan)
    [message] = info.value.problems
    assert message.startswith(f"step 's' has params that do not fit {tool.value}: ") and problem in message


def test_plan_lead_generation_makes_steps_whose_params_fit_their_tools() -> None:
    plan = plan_lead_generation(
        goal(preferred_channels=["email"], include_monitoring=True), CTX, catalog={}, plan_id="p1"
    )
    typed = {s.id: s.params_as(PARAMS[s.tool]) for s in plan.steps}
    assert [type(p).__name__ for p in typed.values()] == [
        "SearchParams",
        "DomainLookupParams",
        "EnrichParams",
        "SaveListParams",
        "SequenceParams",
        "MonitorParams",
    ]
    # the JSON boundary: the typed params read back are the step's params, key for key
    assert all(typed[s.id].to_json_dict() == s.params for s in plan.steps)


def test_plan_lead_generation_warns_when_no_configured_provider_covers_the_country() -> None:
    madrid = RegionMatch(
        name="Madrid", kind=RegionKind.WORLD_CITY, country="ES", lat=40.4, lon=-3.7, radius_km=10
    )
    catalog = {
        T.GLOBAL_DB_SEARCH: (ProviderInfo("local_directory", True, external=False, countries=("GB",)),)
    }
    plan = plan_lead_generation(
        goal(country="ES", target_region="Madrid", region_match=madrid), CTX, catalog=catalog, plan_id="p1"
    )
    search = next(a for a in plan.estimate.steps if a.step_id == "global_db_search_1")
    assert (search.will_run, search.reason) == (
        True,
        "Will find nothing: what is set up searches GB only, not ES\nlocal_directory covers GB only",
    )


# --- coverage before approval: the words of each warning ---------------------------------------------------

DIRECTORY = ProviderInfo("local_directory", True, external=False, countries=("GB",), label="the directory")
OSM = ProviderInfo("overpass", False, reason="set WYSHBONE_OVERPASS_URL", label="OpenStreetMap")
PLACES = ProviderInfo(
    "google_places", False, reason="set WYSHBONE_GOOGLE_PLACES_API_KEY", label="Google Places"
)
SEARCH_CHAIN = (DIRECTORY, OSM, PLACES)
BIRMINGHAM = RegionMatch(
    name="Birmingham", kind=RegionKind.TOWN, country="GB", lat=52.48, lon=-1.9, radius_km=10
)


def _configured(info: ProviderInfo) -> ProviderInfo:
    return ProviderInfo(info.name, True, label=info.label, max_results=60 if info is PLACES else None)


@pytest.mark.parametrize(
    ("the_goal", "found", "chain", "expected"),
    [
        # a kind the directory does not hold, found by name once: 9 short, and how to look further
        (
            goal(raw_goal="10 gyms", target_persona="gym", target_categories=[], volume=10),
            [(DIRECTORY, SearchCoverage(available=1, kind_held=False))],
            SEARCH_CHAIN,
            [
                "The directory holds 1 business like 'gym' in Manchester; 10 were asked for. Set up Google Places "
                "or OpenStreetMap to look further.",
                "The directory's open data covers food, drink and dental businesses, not gyms: 'gym' is matched on "
                "business names only.",
            ],
        ),
        # enough inside: nothing to say
        (goal(), [(DIRECTORY, SearchCoverage(available=390))], SEARCH_CHAIN, []),
        # none inside, some nearby; the council's data gap from the coverage records; cuisine by name only
        (
            goal(
                target_persona="restaurant",
                target_categories=["restaurant"],
                qualifiers=["italian"],
                region_match=BIRMINGHAM,
            ),
            [
                (
                    DIRECTORY,
                    SearchCoverage(
                        available=0,
                        nearby=29,
                        name_only=("italian",),
                        gaps=(CouncilGap("Birmingham", ("pub_bar", "dentist"), ("FSA",)),),
                    ),
                )
            ],
            SEARCH_CHAIN,
            [
                "The directory holds no Italian restaurants in Birmingham and 29 nearby; 20 were asked for. They "
                "will all come from nearby, labelled as such.",
                "Birmingham council: pubs and dentists only in the open data (FSA data missing for this council).",
                "The directory does not record cuisine: 'Italian' is matched on business names only.",
            ],
        ),
        # nearby allowed by the wording ("around"), and enough there: only the cuisine note
        (
            goal(qualifiers=["italian"], nearby_allowed=True),
            [(DIRECTORY, SearchCoverage(available=3, nearby=30, name_only=("italian",)))],
            SEARCH_CHAIN,
            ["The directory does not record cuisine: 'Italian' is matched on business names only."],
        ),
        # OpenStreetMap is set up: it cannot count before searching, so it will look for the rest
        (
            goal(volume=30),
            [(DIRECTORY, SearchCoverage(available=4)), (_configured(OSM), SearchCoverage())],
            (DIRECTORY, _configured(OSM), PLACES),
            ["The directory holds 4 coffee shops in Manchester; 30 were asked for. OpenStreetMap will look for the rest."],
        ),
        # only Google Places is set up, and its cap cannot reach the volume
        (
            goal(volume=100),
            [(DIRECTORY, SearchCoverage(available=4)), (_configured(PLACES), SearchCoverage(cap=60))],
            (DIRECTORY, OSM, _configured(PLACES)),
            ["The directory holds 4 coffee shops in Manchester; 100 were asked for. Google Places returns at most 60 per search."],
        ),
        # a qualifier no source records, one the directory cannot show, and ownership read from names
        (
            goal(qualifiers=["family_run", "dog_friendly", "independent"]),
            [(DIRECTORY, SearchCoverage(available=40, name_only=("independent",), unshowable=("dog_friendly",)))],
            SEARCH_CHAIN,
            [
                "The directory does not record who owns a business: 'independent' means the name is not a known "
                "chain's.",
                "The directory does not record 'dog-friendly' and business names do not show it: it will find none.",
                "No source records 'family-run': businesses are not filtered on it.",
            ],
        ),
    ],
)  # fmt: skip
def test_coverage_warnings(
    the_goal: LeadGenGoal,
    found: list[tuple[ProviderInfo, SearchCoverage]],
    chain: tuple[ProviderInfo, ...],
    expected: list[str],
) -> None:
    assert coverage_warnings(the_goal, found, chain) == expected


def test_with_coverage_fills_the_estimate_and_the_warnings() -> None:
    the_goal = goal(raw_goal="10 gyms", target_persona="gym", target_categories=[], volume=10)
    catalog = {T.GLOBAL_DB_SEARCH: SEARCH_CHAIN}
    plan = plan_lead_generation(the_goal, CTX, catalog=catalog, plan_id="p1")
    counted = SearchCoverage(available=1, nearby=4, kind_held=False, dates=(("FSA", "2021-12-25"),))

    covered = with_coverage(plan, {"global_db_search_1": [(DIRECTORY, counted)]}, catalog)

    assert [c.to_json_dict() for c in covered.estimate.coverage] == [
        {
            "stepId": "global_db_search_1",
            "provider": "local_directory",
            "available": 1,
            "cap": None,
            "note": "1 inside Manchester, 4 nearby; does not hold gyms: matched on names only; data: FSA 2021-12-25",
        }
    ]
    assert covered.warnings[0] == (
        "The directory holds 1 business like 'gym' in Manchester and 4 nearby; 10 were asked for. Set up Google "
        "Places or OpenStreetMap to look further."
    )
    assert covered.estimate.calls == plan.estimate.calls  # the rest of the estimate is left as it was


def test_plan_lead_generation_search_params_carry_qualifiers_volume_and_nearby() -> None:
    plan = plan_lead_generation(goal(qualifiers=["vegan"], nearby_allowed=True, volume=15), CTX, plan_id="p1")

    params = plan.steps[0].params
    assert (params["qualifiers"], params["volume"], params["nearbyAllowed"]) == (["vegan"], 15, True)


@pytest.mark.parametrize(
    ("searched", "nearby", "online", "expected"),
    [
        # the directory alone, nothing online: it reads after "1 of 10 gyms: "
        (["the directory"], False, False, "the directory holds no more gyms in Manchester and no online search is set up"),
        # nearby leads topped it up
        (["the directory"], True, False, "the directory holds no more gyms in or near Manchester and no online search is set up"),
        # online searches set up (they failed, or come next)
        (["the directory"], False, True, "the directory holds no more gyms in Manchester"),
        # several looked
        (["the directory", "Google Places"], False, True, "the directory and Google Places found no more gyms in Manchester"),
    ],
)  # fmt: skip
def test_shortfall_clause(searched: list[str], nearby: bool, online: bool, expected: str) -> None:
    clause = shortfall_clause(
        asked="gyms", place="Manchester", searched=searched, nearby=nearby, online=online
    )

    assert clause == expected
