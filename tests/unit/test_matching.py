"""Matching: is a business the asked kind, does it show every qualifier, is it inside the place or nearby, and
why — for the open data's businesses, OpenStreetMap features and Google Places results."""

from __future__ import annotations

import pytest

from wyshbone.domain.areas import Area, Where, area_for, circle_area, match_place
from wyshbone.domain.curated_places import council_keys
from wyshbone.domain.matching import Business, match_business, match_tagged, match_typed, wanted
from wyshbone.domain.models import LeadMatch, RegionKind, RegionMatch
from wyshbone.domain.names import find_term
from wyshbone.domain.personas import categories_for
from wyshbone.domain.qualifier_evidence import qualifier_reach
from wyshbone.domain.qualifiers import QUALIFIERS

RCC, PUB, MAKER, RETAIL, HOTEL = (
    "Restaurant/Cafe/Canteen",
    "Pub/bar/nightclub",
    "Manufacturers/packers",
    "Retailers - other",
    "Hotel/bed & breakfast/guest house",
)
BRISTOL = RegionMatch(name="Bristol", kind=RegionKind.REGION, country="GB", field_value="South West")
SOUTH_WEST = area_for(BRISTOL)
IN_SOUTH_WEST = Where(region="South West")


def _kind(
    persona: str, name: str, source_type: str, category: str, qualifiers: tuple[str, ...] = ()
) -> LeadMatch | None:
    want = wanted(persona=persona, categories=categories_for(persona), qualifiers=qualifiers)
    source = "openbrewerydb" if source_type.startswith("brewery:") else "fsa_fhrs"
    return match_business(want, SOUTH_WEST, Business(name, source, source_type, category, IN_SOUTH_WEST))


@pytest.mark.parametrize(
    ("persona", "name", "source_type", "category", "kind", "reasons"),
    [
        # a café whose name has "Brew" in it is no brewery: a café's type is not compatible with one
        ("brewery", "Brew Coffee Company", RCC, "cafe", None, None),
        # a maker of food and drink called "... Beer Factory" is a brewery by its name
        ("brewery", "Bristol Beer Factory", MAKER, "shop", "name", ["FSA type Manufacturers/packers", "name contains 'Beer Factory'"]),
        # a university bar called "... Brewhouse Club": a pub's name must say brewery, brewing, ...
        ("brewery", "University of Bristol The Brewhouse Club", PUB, "brewery", None, None),
        # ... as a brewery's own bar does
        ("brewery", "Wylam Brewery", PUB, "brewery", "name", ["FSA type Pub/bar/nightclub", "name contains 'Brewery'"]),
        # a pub carrying a brewery's name is a pub; a brewery's own tap room is a brewery's
        ("brewery", "The Brewery Tap", PUB, "brewery", None, None),
        ("brewery", "Magic Rock Tap Room and Brewery", PUB, "brewery", "name", ["FSA type Pub/bar/nightclub", "name contains 'Brewery Tap Room'"]),
        # a coffee roaster filed as a maker is not brewing beer
        ("brewery", "Brew Coffee Company Brewing", MAKER, "food_producer", None, None),
        # Open Brewery DB's own type decides alone; with the persona's word in the name, both
        ("brewery", "Arbor Ales", "brewery:micro", "brewery", "category", ["Open Brewery DB type micro"]),
        ("brewery", "Moor Brewing", "brewery:micro", "brewery", "category+name", ["Open Brewery DB type micro", "name contains 'Brewing'"]),
        # a restaurant is what the FSA files as one, unless the publisher read its name as a café's
        ("restaurant", "The Ivy", RCC, "restaurant", "category", ["FSA type Restaurant/Cafe/Canteen"]),
        ("restaurant", "Costa", RCC, "cafe", None, None),
        # a café is a compatible type with a café's name, or the publisher's own reading of one
        ("coffee shop", "Ancoats Coffee Co", RCC, "restaurant", "name", ["FSA type Restaurant/Cafe/Canteen", "name contains 'Coffee'"]),
        ("cafe", "Bean There", RCC, "cafe", "name", ["FSA type Restaurant/Cafe/Canteen", "its name reads as a café's in the open data"]),
        # a persona narrower than its category must be shown by the name: a pizzeria, a farm shop
        ("pizzeria", "The Ivy", RCC, "restaurant", None, None),
        ("pizzeria", "Luigi's Pizzeria", RCC, "restaurant", "category+name", ["FSA type Restaurant/Cafe/Canteen", "name contains 'Pizzeria'"]),
        ("farm shop", "Tesco Express", RETAIL, "shop", None, None),
        ("farm shop", "Ashby Farm Shop", RETAIL, "shop", "category+name", ["FSA type Retailers - other", "name contains 'Farm Shop'"]),
        # ... and a farm's name that shows another trade is that trade's
        ("farm shop", "Harpers Farm Supplies", RETAIL, "shop", None, None),
        # an inn filed as a hotel is a pub by its name; a hotel chain's "Inn" is not
        ("pub", "The Swan Inn", HOTEL, "hotel", "name", ["FSA type Hotel/bed & breakfast/guest house", "name contains 'Inn'"]),
        ("pub", "Premier Inn Bristol", HOTEL, "hotel", None, None),
        # a kind the open data does not hold is matched on names only, whatever the type
        ("gym", "Pure Gym", RCC, "restaurant", "name", ["FSA type Restaurant/Cafe/Canteen", "name contains 'Gym'"]),
        ("gym", "Members Kitchen", RCC, "restaurant", None, None),
        # schools, care homes and hospitals are not leads unless asked for
        ("gym", "Hillside School Gym", "School/college/university", "institution", None, None),
    ],
)  # fmt: skip
def test_match_business_kind(
    persona: str, name: str, source_type: str, category: str, kind: str | None, reasons: list[str] | None
) -> None:
    found = _kind(persona, name, source_type, category)

    if kind is None:
        assert found is None
    else:
        assert found == LeadMatch(area="inside", kind=kind, reasons=[*(reasons or []), "in Bristol"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("persona", "name", "source_type", "qualifiers", "shown", "reason"),
    [
        # the FSA records no cuisine: a pizzeria called so shows "Italian" by its name
        (
            "restaurant",
            "Luigi's Pizzeria",
            RCC,
            ("italian",),
            {"italian": "name"},
            "name contains 'Pizzeria'",
        ),
        # ... and a tandoori restaurant does not
        ("restaurant", "Haweli Tandoori", RCC, ("italian",), None, None),
        # a chain's name is not independent
        ("coffee shop", "Costa Coffee", RCC, ("independent",), None, None),
        (
            "coffee shop",
            "Bean There Coffee",
            RCC,
            ("independent",),
            {"independent": "name"},
            "not a chain's name",
        ),
        # no source records "family-run": not filtered on, and not claimed
        ("coffee shop", "Costa Coffee", RCC, ("family_run",), {}, None),
        # Open Brewery DB's "micro" shows "craft" by type
        (
            "brewery",
            "Arbor Ales",
            "brewery:micro",
            ("craft",),
            {"craft": "type"},
            "Open Brewery DB type micro",
        ),
        # "brewery" in a brewery's name says what it is, not that it is craft ...
        ("brewery", "Tapestry Brewery", "brewery:large", ("craft",), None, None),
        # ... "craft" does
        (
            "brewery",
            "Crafty Devil Craft Brewery",
            "brewery:large",
            ("craft",),
            {"craft": "name"},
            "name contains 'Craft'",
        ),
        # "dog-friendly" is an OSM tag only: no business of the open data can show it
        ("pub", "The Dog and Duck", PUB, ("dog_friendly",), None, None),
    ],
)
def test_match_business_qualifiers(
    persona: str,
    name: str,
    source_type: str,
    qualifiers: tuple[str, ...],
    shown: dict[str, str] | None,
    reason: str | None,
) -> None:
    found = _kind(persona, name, source_type, "restaurant", qualifiers)

    if shown is None:
        assert found is None
    else:
        assert found is not None
        assert found.qualifiers == shown
        assert reason is None or reason in found.reasons


ITALIAN = wanted(persona="restaurant", categories=["restaurant"], qualifiers=["italian"])
MANCHESTER = RegionMatch(
    name="Manchester", kind=RegionKind.TOWN, country="GB", lat=53.4808, lon=-2.2426, radius_km=10
)


@pytest.mark.parametrize(
    ("tags", "kind", "shown"),
    [
        # an OSM cuisine tag lists several: Italian among them
        ({"amenity": "restaurant", "cuisine": "italian;pizza"}, "category", {"italian": "tag"}),
        # no cuisine tag, a name that says so
        ({"amenity": "restaurant", "name": "Trattoria Verde"}, "category", {"italian": "name"}),
        # another cuisine: not Italian
        ({"amenity": "restaurant", "cuisine": "indian"}, None, None),
    ],
)
def test_match_tagged_reads_osm_tags(
    tags: dict[str, str], kind: str | None, shown: dict[str, str] | None
) -> None:
    name = tags.get("name", "Da Mario")
    found = match_tagged(
        ITALIAN,
        circle_area(MANCHESTER),
        name=name,
        tags=tags,
        kind_tags=[("amenity", "restaurant")],
        specific=False,
        where=Where(lat=53.4820, lon=-2.2400),
    )

    if shown is None:
        assert found is None
    else:
        assert found is not None
        assert (found.area, found.kind, found.qualifiers) == ("inside", kind, shown)
        assert found.reasons[0] == "OSM amenity=restaurant"


def test_match_tagged_vegan_diet_and_brand() -> None:
    vegan_cafes = wanted(persona="cafe", categories=["cafe"], qualifiers=["vegan", "independent"])
    area = circle_area(MANCHESTER)

    def match(tags: dict[str, str]) -> LeadMatch | None:
        return match_tagged(
            vegan_cafes, area, name="Green Bean", tags=tags, kind_tags=[("amenity", "cafe")], specific=True,
            where=Where(lat=53.4820, lon=-2.2400),
        )  # fmt: skip

    found = match({"amenity": "cafe", "diet:vegan": "only"})
    assert found is not None
    assert found.qualifiers == {"vegan": "tag", "independent": "name"}
    assert "OSM diet:vegan=only" in found.reasons
    # a brand tag marks a chain in OSM: not independent
    assert match({"amenity": "cafe", "diet:vegan": "yes", "brand": "Pret"}) is None


@pytest.mark.parametrize(
    ("persona", "qualifiers", "types", "name", "kind", "shown"),
    [
        # the Places type shows the cuisine
        (
            "restaurant",
            ("italian",),
            ["italian_restaurant", "restaurant"],
            "Da Mario",
            "category",
            {"italian": "type"},
        ),
        # a pizza place is Italian to the qualifier's list of types
        (
            "restaurant",
            ("italian",),
            ["pizza_restaurant", "restaurant"],
            "Slice",
            "category",
            {"italian": "type"},
        ),
        # no type, no name: refused
        ("restaurant", ("italian",), ["restaurant"], "The Grill", None, None),
        # a kind the directory does not hold, marked by its own type
        ("gym", (), ["gym", "health"], "The Foundry", "category", {}),
        # ... and a place of another type with no such name
        ("gym", (), ["cafe"], "The Foundry", None, None),
    ],
)
def test_match_typed_reads_places_types(
    persona: str,
    qualifiers: tuple[str, ...],
    types: list[str],
    name: str,
    kind: str | None,
    shown: dict[str, str] | None,
) -> None:
    want = wanted(persona=persona, categories=categories_for(persona), qualifiers=qualifiers)
    marking = {"restaurant", "gym"}
    found = match_typed(
        want,
        circle_area(MANCHESTER),
        name=name,
        types=types,
        kind_types=[t for t in types if t in marking],
        specific=persona == "gym",
        where=Where(lat=53.4820, lon=-2.2400),
    )

    if kind is None:
        assert found is None
    else:
        assert found is not None
        assert (found.kind, found.qualifiers) == (kind, shown)


def _town(name: str, lat: float, lon: float, radius: float, council: str) -> RegionMatch:
    return RegionMatch(
        name=name,
        kind=RegionKind.TOWN,
        country="GB",
        lat=lat,
        lon=lon,
        radius_km=radius,
        local_authority=council,
    )


def _key(spelling: str) -> str:
    """The council key the importer gives a row, as the gazetteer reconciles spellings."""
    return council_keys(spelling)[0]


LIVERPOOL = area_for(
    _town("Liverpool", 53.41058, -2.97794, 6.0, "Liverpool"), councils=["liverpool"], own_council=True
)
BIRMINGHAM = area_for(
    _town("Birmingham", 52.48142, -1.89983, 10.0, "Birmingham"), councils=["birmingham"], own_council=True
)
CARDIFF = area_for(_town("Cardiff", 51.48, -3.18, 6.0, "Cardiff"), councils=["cardiff"], own_council=True)
# Harrogate's council is a district of North Yorkshire: the town is its radius within that council.
HARROGATE = area_for(
    _town("Harrogate", 53.99078, -1.5373, 4.0, "Harrogate"), councils=["harrogate"], own_council=False
)
INVERNESS = area_for(
    _town("Inverness", 57.47908, -4.22398, 3.0, "Highland"), councils=["highland"], own_council=False
)
KENT = area_for(
    RegionMatch(name="Kent", kind=RegionKind.COUNTY, country="GB", field_values=("Kent", "Medway")),
    councils=["kent", "medway"],
)
LS6 = area_for(
    RegionMatch(name="LS6", kind=RegionKind.POSTCODE_DISTRICT, country="GB", lat=53.8185, lon=-1.56626, radius_km=2.0, field_value="LS6")
)  # fmt: skip


@pytest.mark.parametrize(
    ("area", "where", "expected"),
    [
        # Liverpool is its own council: anywhere in it is inside ...
        (LIVERPOOL, Where(53.40, -2.90, "liverpool", "Liverpool"), ("inside", "in Liverpool, 5.3 km from the centre")),
        # ... even beyond the town's 6 km
        (LIVERPOOL, Where(53.36, -2.88, "liverpool", "Liverpool"), ("inside", "in Liverpool, 8.6 km from the centre")),
        # Bootle, 4 km from the centre, is in Sefton: nearby, and said so
        (LIVERPOOL, Where(53.4457, -2.9891, "sefton", "Sefton"), ("nearby", "in Sefton, 4.0 km from Liverpool centre")),
        # Smethwick is in Sandwell, not Birmingham
        (BIRMINGHAM, Where(52.4928, -1.9668, "sandwell", "Sandwell"), ("nearby", "in Sandwell, 4.7 km from Birmingham centre")),
        # the NHS spells the council "Caerdydd - Cardiff", the FSA "Cardiff": one council
        (CARDIFF, Where(51.49, -3.17, _key("Caerdydd - Cardiff"), "Cardiff"), ("inside", "in Cardiff, 1.3 km from the centre")),
        # Penarth is in the Vale of Glamorgan
        (CARDIFF, Where(51.4386, -3.1740, _key("Bro Morgannwg - the Vale of Glamorgan"), "the Vale of Glamorgan"), ("nearby", "in the Vale of Glamorgan, 4.6 km from Cardiff centre")),
        # Harrogate: within its 4 km and its council
        (HARROGATE, Where(53.995, -1.54, "harrogate", "Harrogate"), ("inside", "0.5 km from Harrogate centre, in Harrogate")),
        # Knaresborough, the same council 5 km off: nearby
        (HARROGATE, Where(54.0084, -1.4670, "harrogate", "Harrogate"), ("nearby", "5.0 km from Harrogate centre, beyond the 4 km taken as Harrogate, in Harrogate")),
        # Ripon, the same council 16 km off: neither
        (HARROGATE, Where(54.1367, -1.5239, "harrogate", "Harrogate"), None),
        # Inverness: its radius within Highland
        (INVERNESS, Where(57.48, -4.23, "highland", "Highland"), ("inside", "0.4 km from Inverness centre, in Highland")),
        # a county: its councils, or its county field
        (KENT, Where(None, None, "medway", "Medway"), ("inside", "in Kent")),
        (KENT, Where(None, None, "maidstone", "Maidstone", county="Kent"), ("inside", "in Kent")),
        (KENT, Where(None, None, "croydon", "Croydon"), None),
        # a postcode district: its outward code; next door, nearby
        (LS6, Where(53.82, -1.57, "leeds", "Leeds", district="LS6"), ("inside", "in LS6")),
        (LS6, Where(53.81, -1.59, "leeds", "Leeds", district="LS4"), ("nearby", "in Leeds, 1.8 km from LS6 centre")),
        # no point, no council: nothing can place it
        (LIVERPOOL, Where(), None),
    ],
)  # fmt: skip
def test_match_place_inside_or_nearby(area: Area, where: Where, expected: tuple[str, str] | None) -> None:
    assert match_place(area, where) == expected


def test_match_place_online_circle() -> None:
    area = circle_area(MANCHESTER)

    assert match_place(area, Where(53.48, -2.24)) == ("inside", "0.2 km from Manchester centre")
    assert match_place(area, Where(53.60, -2.24)) == (
        "nearby",
        "13.3 km from Manchester centre, beyond the 10 km taken as Manchester",
    )
    assert match_place(area, Where(53.70, -2.24)) is None  # beyond twice the radius


@pytest.mark.parametrize(
    ("persona", "required"),
    [
        ("coffee shop", False),  # the whole café category
        ("pubs and bars", False),  # each part generic
        ("craft beer pub", False),  # words before "pub" that name nothing narrower
        ("pizzeria", True),  # narrower than restaurants and takeaways
        ("farm shop", True),  # words of its own before "shop"
        ("gym", True),  # no category at all: the name must say it
    ],
)
def test_wanted_persona_narrower_than_its_category_needs_its_name(persona: str, required: bool) -> None:
    assert wanted(persona=persona, categories=categories_for(persona)).terms_required is required


def test_wanted_splits_verifiable_qualifiers_and_reads_unknown_ones_from_names() -> None:
    want = wanted(persona="cafes", categories=["cafe"], qualifiers=["vegan", "family_run", "rooftop"])

    assert [q.key for q in want.qualifiers] == ["vegan", "rooftop"]
    assert [q.key for q in want.unverifiable] == ["family_run"]
    assert want.qualifiers[1].name_terms == ("rooftop",)
    assert want.asked() == "vegan rooftop family-run cafes"


def test_find_term_reads_words_as_the_index_does() -> None:
    assert find_term("LUIGI'S PIZZERIA", ["pizzeria"]) == "PIZZERIA"
    assert find_term("Café Nero", ["cafe"]) == "Café"
    assert find_term("Pizzaland", ["pizza"]) is None  # whole words only
    assert find_term("The Tea Room", ["tea room"]) == "Tea Room"


def test_qualifier_reach_by_source() -> None:
    qualifiers = [QUALIFIERS[k] for k in ("italian", "independent", "dog_friendly", "caribbean")]

    assert qualifier_reach(qualifiers) == (("italian", "independent", "caribbean"), ("dog_friendly",))
    assert qualifier_reach(qualifiers, tags=True) == (("independent",), ())
    assert qualifier_reach(qualifiers, types=True) == (("independent", "caribbean"), ("dog_friendly",))
