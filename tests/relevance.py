"""The public relevance set (issue 11): goals people type, each with an oracle written from the open data's own
fields — which businesses are the asked kind (category, publisher's type, name), which are inside the asked
place (local authority, county, region, postcode district, distance) — and the checks a finished run must pass.

Shared by ``tests/integration/test_relevance.py`` (one test per goal and check) and ``bench/relevance.py`` (the
shares). The oracles read the businesses' rows in the imported directory, never the search's own reasons.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

from wyshbone.bootstrap import AppContext
from wyshbone.config import Settings
from wyshbone.domain.gazetteer import distance_km
from wyshbone.domain.models import Lead, LeadGenExecutionResult, LeadGenPlan, SupervisorUserContext
from wyshbone.errors import InputError, UnplannableGoalError
from wyshbone.tools.registry import ToolRegistry, count_providers

Row = Mapping[str, Any]
"""A business as the open data has it: its 17 columns (``id, source, name, category, source_type, ...``)."""

USER = SupervisorUserContext(user_id="relevance")
DIRECTORY = "local_directory"
"""The embedded directory's provider name in ``plan.estimate.coverage``."""


def embedded_settings(*, home: Path, directory: Path, open_data: Path) -> Settings:
    """The embedded default on ``directory``: no online search, no enrichment, whatever the environment says."""
    return Settings(
        home=home,
        directory_path=directory,
        open_data_dir=open_data,
        overpass_url=None,
        google_places_api_key=None,
        hunter_api_key=None,
        website_crawl=False,
        plugins="",
        database_url=None,
    )


# ------------------------------------------------------------------------------------------ names


def folded(text: str) -> str:
    """Lower case, accents and hyphens gone, spaces single: "Café-Bar  Nero" → "cafe bar nero"."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(ascii_text.replace("-", " ").split())


def words(phrases: str) -> str:
    """A pattern for any of the comma-separated ``phrases`` as whole words, in a folded name: a plural "s"
    allowed, and a phrase's words may be run together ("tea room" also finds "Tearooms")."""
    alternatives = (r" ?".join(re.escape(part) for part in phrase.split()) for phrase in phrases.split(","))
    return rf"\b(?:{'|'.join(alternatives)})s?\b"


def _shows(pattern: str | None, name: str) -> bool:
    return pattern is not None and re.search(pattern, folded(name)) is not None


# ------------------------------------------------------------------------------------------ kinds

# The publishers' own business types (the data's ``source_type``), as the FSA, the NHS and Open Brewery DB write them.
RESTAURANT_CAFE = "Restaurant/Cafe/Canteen"
TAKEAWAY = "Takeaway/sandwich shop"
PUB_BAR = "Pub/bar/nightclub"
HOTEL = "Hotel/bed & breakfast/guest house"
OTHER_CATERING = "Other catering premises"
MOBILE = "Mobile caterer"
RETAIL = "Retailers - other"
MAKERS = frozenset(
    {"Manufacturers/packers", "Farmers/growers", "Distributors/Transporters", "Importers/Exporters"}
)
WORKING_BREWERIES = frozenset(
    f"brewery:{t}"
    for t in ("micro", "nano", "regional", "brewpub", "large", "contract", "proprietor", "taproom")
)
"""Open Brewery DB's types of a brewery that brews ("closed" and "planning" ones do not)."""
SMALL_BREWERIES = frozenset({"brewery:micro", "brewery:nano", "brewery:brewpub", "brewery:taproom"})
"""Open Brewery DB's types that make a brewery "craft" by its size."""


class Named(NamedTuple):
    """A business of ``types`` (None: any) whose name matches ``shows`` and not ``unless`` is the kind."""

    types: frozenset[str] | None
    shows: str
    unless: str | None = None

    def accepts(self, source_type: str | None, name: str) -> bool:
        return (
            (self.types is None or source_type in self.types)
            and _shows(self.shows, name)
            and not _shows(self.unless, name)
        )


@dataclass(frozen=True, slots=True)
class Kind:
    """Which businesses of the open data are the asked kind, and, for a goal with a qualifier ("Italian",
    "vegan", "craft"), what must show it. A business is the kind when the data's category or the publisher's
    type says so, or when its name does within types where a name can be believed."""

    label: str
    """The kind as the goal asks for it ("Italian restaurants")."""
    why: str
    """The rule in words, for whoever reads a failure."""
    said: str
    """How a plan's warning or a delivery note names the kind: a pattern ("gym")."""
    categories: frozenset[str] = frozenset()
    """The data's own categories that are the kind."""
    types: frozenset[str] = frozenset()
    """Publishers' types that are the kind by themselves."""
    named: tuple[Named, ...] = ()
    qualifier: str | None = None
    """A name pattern for the qualifier; None when the goal has none."""
    qualifier_types: frozenset[str] = frozenset()
    """Publishers' types that show the qualifier without the name."""

    def refusal(self, row: Row) -> str | None:
        """Why the business is not the asked kind; None when it is."""
        name, source_type = str(row["name"]), row["source_type"]
        of_kind = (
            row["category"] in self.categories
            or source_type in self.types
            or any(by.accepts(source_type, name) for by in self.named)
        )
        if not of_kind:
            return f"not {self.label} by its category, type or name"
        if self.qualifier is not None and not (
            source_type in self.qualifier_types or _shows(self.qualifier, name)
        ):
            return f"its type and name do not show it is one of the {self.label}"
        return None


CATERING = frozenset({RESTAURANT_CAFE, TAKEAWAY, OTHER_CATERING, MOBILE})
CAFES = Kind(
    "cafés",
    "the data's category cafe (FSA catering premises its publisher's names read as cafés), or any catering "
    "premises whose name says café, coffee or tea room",
    r"\bcafe|coffee",
    categories=frozenset({"cafe"}),
    named=(Named(CATERING, rf"{words('caffe, espresso, tea room, tea shop, tea house')}|\bcafe|coffee"),),
)
VEGAN_CAFES = replace(
    CAFES,
    label="vegan cafés",
    why=f"{CAFES.why}; and its name says vegan or plant-based",
    said=r"vegan|\bcafe",
    qualifier=words("vegan, plant based"),
)
PUBS = Kind(
    "pubs",
    "the data's category pub_bar (Open Pubs, FSA), any FSA Pub/bar/nightclub (a brewery's tap room too), a "
    "brewpub or taproom of Open Brewery DB, or a restaurant, hotel or caterer whose name says pub, inn, tavern "
    "or arms — not a Premier or Holiday Inn",
    r"\bpub",
    categories=frozenset({"pub_bar"}),
    types=frozenset({PUB_BAR, "brewery:brewpub", "brewery:taproom"}),
    named=(
        Named(
            frozenset({RESTAURANT_CAFE, HOTEL, OTHER_CATERING}),
            words("pub, inn, tavern, arms, alehouse, ale house, free house, freehouse"),
            words("premier inn, holiday inn, travelodge"),
        ),
    ),
)
RESTAURANTS = Kind(
    "restaurants",
    "the data's category restaurant (FSA Restaurant/Cafe/Canteen not read as a café), or a pub, hotel or caterer "
    "whose name says restaurant, bistro or brasserie",
    r"restaurant",
    categories=frozenset({"restaurant"}),
    named=(
        Named(
            frozenset({PUB_BAR, HOTEL, OTHER_CATERING}),
            words("restaurant, bistro, brasserie, trattoria, ristorante, osteria, steakhouse"),
        ),
    ),
)
ITALIAN_RESTAURANTS = replace(
    RESTAURANTS,
    label="Italian restaurants",
    why=f"{RESTAURANTS.why}; and its name shows Italian cooking (pizzeria, trattoria, ristorante, pasta, "
    "'Italian', or an Italian chain's name: Zizzi, Prezzo, Bella Italia, Carluccio's, Pizza Express…)",
    said=r"italian|restaurant",
    qualifier=words(
        "italian, italiano, italiana, italia, pizzeria, pizza, trattoria, ristorante, osteria, pasta, zizzi, "
        "prezzo, bella italia, carluccio, carluccios, franco manca, vapiano, strada"
    ),
)
INDIAN_RESTAURANTS = replace(
    RESTAURANTS,
    label="Indian restaurants",
    why=f"{RESTAURANTS.why}; and its name shows Indian or Bangladeshi cooking (Indian, tandoori, balti, curry, "
    "masala, biryani, a region or city of India: Bombay, Delhi, Punjab, Bengal, Madras…, or a word such as "
    "Raj, Taj, Mahal, Mughal)",
    said=r"indian|restaurant",
    qualifier=words(
        "india, indian, tandoor, tandoori, balti, curry, masala, tikka, biryani, dosa, bombay, mumbai, delhi, "
        "punjab, punjabi, bengal, bengali, bangla, madras, kerala, goa, goan, mughal, moghul, raj, taj, mahal, "
        "maharaja, maharajah, namaste, chutney"
    ),
)
TAKEAWAYS = Kind(
    "takeaways",
    "the data's category takeaway (FSA Takeaway/sandwich shop not read as a café), or a restaurant or mobile "
    "caterer whose name says takeaway, fish bar, chippy or kebab",
    r"takeaway|take away",
    categories=frozenset({"takeaway"}),
    named=(
        Named(frozenset({RESTAURANT_CAFE, MOBILE}), words("takeaway, take away, fish bar, chippy, kebab")),
    ),
)
DENTISTS = Kind(
    "dentists",
    "the data's category dentist (NHS dental practices, England only)",
    r"dentist|dental",
    categories=frozenset({"dentist"}),
)
BREWING = words("brewery, breweries, brewing, brewers, brewer, brewhouse, microbrewery, brew co")
NOT_BREWING = words("coffee, tea, kombucha")
"""A coffee roaster or tea maker "brewing" is no brewery ("Brew Coffee Company")."""
A_PUB = r"\bbrewery tap\b(?! ?room)|\bold brewery\b|" + words(
    "public house, inn, arms, tavern, hotel, ale house, bar, club, university, students, union, fayre"
)
"""Names of a pub or bar that only carries a brewery's name: "The Brewery Tap", "The Old Brewery", "The Brewhouse
Club" (a university bar), "Bank Top Brewery Ale House", "Brewers Fayre" (a chain of pub restaurants)."""
BREWERIES = Kind(
    "breweries",
    "a working brewery of Open Brewery DB; or an FSA maker (Manufacturers/packers, Farmers/growers, "
    "Distributors, Importers) whose name says brewery, brewing, brewers, ales or beer, not coffee or tea; or "
    "a shop whose name says brewery or brewing (a brewery's own shop); or a bar or caterer whose name says "
    "brewing ('Morton Collins Brewing Co @ Star Inn') or is a brewery's ('Sharps Brewery', 'Musket Brewery, "
    "Unit 7'), not a pub's or a club's that carries the word ('The Brewery Tap', 'The Old Brewery', '… Public "
    "House', 'The Brewhouse Club', 'Brewers Fayre') — never a restaurant or café",
    r"brewer",
    types=WORKING_BREWERIES,
    named=(
        Named(MAKERS, rf"{BREWING}|{words('ales, beer')}", NOT_BREWING),
        Named(frozenset({RETAIL}), words("brewery, breweries, brewing, brew co"), NOT_BREWING),
        Named(frozenset({PUB_BAR, OTHER_CATERING}), words("brewing, brew co, microbrewery"), NOT_BREWING),
        Named(frozenset({PUB_BAR, OTHER_CATERING}), BREWING, rf"{A_PUB}|{NOT_BREWING}"),
    ),
)
CRAFT_BREWERIES = replace(
    BREWERIES,
    label="craft breweries",
    why=f"{BREWERIES.why}; and craft shown by Open Brewery DB's micro, nano, brewpub or taproom type, or "
    "'craft' or 'microbrewery' in the name",
    said=r"craft|brewer",
    qualifier=words("craft, microbrewery, micro brewery"),
    qualifier_types=SMALL_BREWERIES,
)
HOTELS = Kind(
    "hotels",
    "the data's category hotel (FSA Hotel/bed & breakfast/guest house), or a pub whose name says hotel or "
    "guest house",
    r"hotel",
    categories=frozenset({"hotel"}),
    named=(Named(frozenset({PUB_BAR}), words("hotel, guest house, guesthouse")),),
)
DELIS = Kind(
    "delis",
    "a shop, café, restaurant or sandwich shop whose name says deli or delicatessen",
    r"\bdeli",
    named=(Named(frozenset({RETAIL, RESTAURANT_CAFE, TAKEAWAY}), words("deli, delicatessen, salumeria")),),
)
FARM_SHOPS = Kind(
    "farm shops",
    "a shop, grower, maker or caterer whose name says farm shop; or a shop or grower named as a farm ('Shute "
    "Farm', 'Turtle Farm Produce': a farm that sells to the public), unless the name shows another trade "
    "(farm supplies, a leisure or holiday park, machinery, feeds, vets)",
    r"farm shop",
    named=(
        Named(
            frozenset({RETAIL, RESTAURANT_CAFE, TAKEAWAY, OTHER_CATERING, *MAKERS}),
            words("farm shop, farmshop"),
        ),
        Named(
            frozenset({RETAIL, "Farmers/growers"}),
            words("farm"),
            words("supplies, supply, leisure, holiday, caravan, camping, machinery, feeds, vets, equipment"),
        ),
    ),
)
OFF_LICENCES = Kind(
    "off-licences",
    "the data's category off_licence (FSA shops its publisher's names read as off-licences), or a shop whose "
    "name says off-licence, wines, wine merchant, bottle shop, beer shop, liquor or booze",
    r"off licen[cs]e",
    categories=frozenset({"off_licence"}),
    named=(
        Named(
            frozenset({RETAIL}),
            words(
                "off licence, off license, offy, wine, wine merchant, bottle shop, beer shop, liquor, booze"
            ),
        ),
    ),
)
DISTILLING = words("distillery, distilleries, distillers, distiller, distilling")
DISTILLERIES = Kind(
    "distilleries",
    "an FSA maker or grower whose name says distillery or distillers, or a producer (Manufacturers/packers) "
    "whose name says gin, whisky or spirits; or a distributor, shop, bar or caterer whose name says distillery "
    "(a distillery's own shop or visitor centre) — not a whisky dealer or auction house, nor a gin bar",
    r"distill",
    named=(
        Named(
            frozenset({"Manufacturers/packers"}), rf"{DISTILLING}|{words('gin, whisky, whiskey, spirits')}"
        ),
        Named(MAKERS | {RETAIL, PUB_BAR, OTHER_CATERING}, DISTILLING, words("gin bar, auction, auctions")),
    ),
)
GYMS = Kind(
    "gyms",
    "the open data holds no gyms as such: a business whose name says gym, gymnasium, fitness or health club "
    "(as in 'PureGym')",
    r"\bgym",
    named=(Named(None, r"gym(?:s|nasium)?\b|\bfitness\b|health club"),),
)


# ------------------------------------------------------------------------------------------ places


def outward(postcode: str | None) -> str | None:
    """The outward code (district) of a postcode: "LS6 1AB" → "LS6"; "LS61AB" → "LS6"."""
    if not postcode:
        return None
    compact = postcode.upper().replace(" ", "")
    return compact[:-3] if len(compact) > 3 else compact


@dataclass(frozen=True, slots=True)
class Place:
    """Where a business counts as inside the asked place, read from its row: its council (``local_authority`` as
    the directory spells it), county, region or postcode district — and, for a town within a larger council,
    its distance from the town's centre."""

    name: str
    why: str
    """The rule in words."""
    centre: tuple[float, float]
    """(lat, lon) of the place's centre (the gazetteer's point for a town)."""
    councils: frozenset[str] = frozenset()
    counties: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    districts: str | None = None
    """A pattern the outward code must match in full ("LS6", "SW1[A-Z]")."""
    radius_km: float | None = None
    """For a town within a larger council: inside only this close to its centre (and in its council)."""
    nearby_km: float | None = 30.0
    """A lead labelled nearby must be this close to the centre; None: no distance says (a county, a region)."""

    def distance(self, row: Row) -> float | None:
        if row["lat"] is None or row["lon"] is None:
            return None
        return distance_km(*self.centre, float(row["lat"]), float(row["lon"]))

    def refusal(self, row: Row) -> str | None:
        """Why the business is not inside; None when it is."""
        district = outward(row["postcode"])
        bounded = (
            not (self.councils or self.counties or self.regions or self.districts)
            or row["local_authority"] in self.councils
            or row["county"] in self.counties
            or row["region"] in self.regions
            or (
                self.districts is not None and district is not None and re.fullmatch(self.districts, district)
            )
        )
        if not bounded:
            return f"not in {self.name}"
        if self.radius_km is not None:
            away = self.distance(row)
            if away is None or away > self.radius_km:
                return f"{_km(away)} from {self.name} centre, beyond its {self.radius_km:g} km"
        return None


def _km(value: float | None) -> str:
    return "an unknown distance" if value is None else f"{value:.1f} km"


def city(name: str, centre: tuple[float, float], *councils: str) -> Place:
    """A town or city that is its own council: inside is that council's area, as the directory spells it."""
    spelled = " or ".join(f"'{c}'" for c in councils)
    return Place(name, f"its own council: local authority {spelled}", centre, councils=frozenset(councils))


def town(name: str, centre: tuple[float, float], radius_km: float, *councils: str) -> Place:
    """A town within a larger council: in that council and within ``radius_km`` of its centre."""
    spelled = " or ".join(f"'{c}'" for c in councils)
    why = f"local authority {spelled} and within {radius_km:g} km of the town's centre"
    return Place(name, why, centre, councils=frozenset(councils), radius_km=radius_km)


def district(name: str, centre: tuple[float, float], pattern: str) -> Place:
    """A postcode district (or the sub-districts of one, "SW1" → SW1A…SW1Y): by the postcode's outward code."""
    return Place(name, f"postcode outward code {pattern}", centre, districts=pattern, nearby_km=10.0)


MANCHESTER = city("Manchester", (53.48095, -2.23743), "Manchester")
LIVERPOOL = city("Liverpool", (53.41058, -2.97794), "Liverpool")
CARDIFF = city("Cardiff", (51.48, -3.18), "Cardiff", "Caerdydd - Cardiff")
YORK = city("York", (53.95763, -1.08271), "York")
BRISTOL = city("Bristol", (51.45523, -2.59665), "Bristol", "City of Bristol")
LEEDS = city("Leeds", (53.79648, -1.54785), "Leeds")
BIRMINGHAM = city("Birmingham", (52.48142, -1.89983), "Birmingham")
NORWICH = city("Norwich", (52.62783, 1.29834), "Norwich City", "Norwich")
NEWCASTLE = city("Newcastle upon Tyne", (54.97328, -1.61396), "Newcastle Upon Tyne", "Newcastle upon Tyne")
SHEFFIELD = city("Sheffield", (53.38297, -1.4659), "Sheffield")
GLASGOW = city("Glasgow", (55.86515, -4.25763), "Glasgow City")
BRIGHTON = city("Brighton", (50.82838, -0.13947), "Brighton and Hove", "The City of Brighton and Hove")
EDINBURGH = city("Edinburgh", (55.95206, -3.19648), "Edinburgh (City of)")
HARROGATE = town("Harrogate", (53.99078, -1.5373), 8.0, "Harrogate")  # Knaresborough in, Ripon (16 km) out
INVERNESS = town("Inverness", (57.47908, -4.22398), 8.0, "Highland")  # Highland reaches from Skye to Wick
BATH = town("Bath", (51.3751, -2.36172), 5.0, "Bath and North East Somerset")  # Keynsham (10 km) out
NEWCASTLE_UNDER_LYME = town(
    "Newcastle-under-Lyme", (53.0116, -2.2273), 6.0, "Newcastle-Under-Lyme", "Newcastle-under-Lyme"
)  # a Staffordshire borough that reaches Kidsgrove (9 km); not Newcastle upon Tyne
AROUND_HARROGATE = Place(
    "10 miles of Harrogate",
    "within 16.1 km (10 miles) of Harrogate's centre, in any council",
    HARROGATE.centre,
    radius_km=16.1,
)
KENT_COUNCILS = (
    "Ashford", "Canterbury", "Canterbury City", "Dartford", "Dover", "Folkestone and Hythe", "Shepway",
    "Gravesham", "Maidstone", "Sevenoaks", "Swale", "Thanet", "Tonbridge and Malling", "Tunbridge Wells",
    "Medway",
)  # fmt: skip
DEVON_COUNCILS = (
    "East Devon", "Exeter", "Exeter City", "Mid Devon", "North Devon", "South Hams", "Teignbridge", "Torridge",
    "West Devon", "Plymouth City", "City of Plymouth", "Torbay",
)  # fmt: skip
KENT = Place(
    "Kent",
    "county 'Kent', or a council of the ceremonial county (its twelve districts, and Medway, whose rows name "
    "no county)",
    (51.19, 0.73),
    councils=frozenset(KENT_COUNCILS),
    counties=frozenset({"Kent"}),
    nearby_km=None,
)
DEVON = Place(
    "Devon",
    "county 'Devon', or a council of the ceremonial county (its eight districts, Plymouth and Torbay)",
    (50.72, -3.79),
    councils=frozenset(DEVON_COUNCILS),
    counties=frozenset({"Devon"}),
    nearby_km=None,
)
CORNWALL = Place(
    "Cornwall",
    "council 'Cornwall' or 'Isles of Scilly', or county 'Cornwall'",
    (50.3, -4.95),
    councils=frozenset({"Cornwall", "Isles of Scilly"}),
    counties=frozenset({"Cornwall"}),
    nearby_km=None,
)
WEST_YORKSHIRE = Place(
    "West Yorkshire",
    "one of its five councils: Leeds, Bradford, Calderdale, Kirklees, Wakefield",
    (53.75, -1.7),
    councils=frozenset({"Leeds", "Bradford", "Calderdale", "Kirklees", "Wakefield"}),
    counties=frozenset({"West Yorkshire"}),
    nearby_km=None,
)
YORKSHIRE = Place(
    "Yorkshire",
    "region 'Yorkshire and The Humber', or Middlesbrough and Redcar and Cleveland (Yorkshire's North Riding, "
    "now filed under the North East)",
    (53.96, -1.3),
    councils=frozenset({"Middlesbrough", "Redcar and Cleveland"}),
    regions=frozenset({"Yorkshire and The Humber"}),
    nearby_km=None,
)
SCOTLAND = Place(
    "Scotland", "region 'Scotland'", (56.8, -4.2), regions=frozenset({"Scotland"}), nearby_km=None
)
SOUTH_EAST = Place(
    "the South East", "region 'South East'", (51.3, -0.8), regions=frozenset({"South East"}), nearby_km=None
)
LS6 = district("LS6", (53.8185, -1.56626), "LS6")
M1 = district("M1", (53.4777, -2.23678), "M1")
SW1 = district("SW1", (51.4968, -0.140162), "SW1[A-Z]")
B15 = district("B15", (52.468, -1.92336), "B15")
EH1 = district("EH1", (55.9523, -3.19208), "EH1")


# ------------------------------------------------------------------------------------------ the set


@dataclass(frozen=True, slots=True)
class Goal:
    """A goal as a person types it, what it asks for, and what the open data holds for it."""

    text: str
    kind: Kind
    place: Place
    volume: int
    """How many the text asks for."""
    note: str
    """Why it is in the set: what it tests, what the data holds."""


GOALS: tuple[Goal, ...] = (
    # cities that are their own council
    Goal("Find 10 coffee shops in Manchester", CAFES, MANCHESTER, 10, "the issue's example; Manchester's FSA data is full"),
    Goal("Find 10 pubs in Liverpool", PUBS, LIVERPOOL, 10, "Bootle (Sefton) and Huyton (Knowsley) are not Liverpool"),
    Goal("Find 200 takeaways in Liverpool", TAKEAWAYS, LIVERPOOL, 200, "the issue: Sefton and Knowsley mixed in, unlabelled"),
    Goal("Find 40 dentists in Cardiff", DENTISTS, CARDIFF, 40, "the issue: one from the Vale of Glamorgan; spelled 'Caerdydd - Cardiff'"),
    Goal("Find 10 hotels in York", HOTELS, YORK, 10, "York is its own council (City of York)"),
    Goal("Find 10 restaurants in Bristol", RESTAURANTS, BRISTOL, 10, "'Bristol' and 'City of Bristol' are one council"),
    Goal("Find 10 pubs in Leeds", PUBS, LEEDS, 10, "Leeds has pubs (Open Pubs) though no FSA data"),
    Goal("Find 10 dentists in Birmingham", DENTISTS, BIRMINGHAM, 10, "Birmingham has NHS dentists though no FSA data"),
    Goal("Find 10 pubs in Norwich", PUBS, NORWICH, 10, "the directory spells it 'Norwich City' and 'Norwich'"),
    Goal("Find 10 restaurants in Newcastle", RESTAURANTS, NEWCASTLE, 10, "Newcastle upon Tyne, not Newcastle-under-Lyme"),
    Goal("Find 10 hotels in Edinburgh", HOTELS, EDINBURGH, 10, "a Scottish city council"),
    Goal("Find 15 pubs in Glasgow", PUBS, GLASGOW, 15, "Glasgow has pubs (Open Pubs) though no FSA data"),
    Goal("Find 10 coffee shops in Manchster", CAFES, MANCHESTER, 10, "a typo the gazetteer reads as Manchester"),
    # towns within a larger council
    Goal("Find 30 cafes in Harrogate", CAFES, HARROGATE, 30, "Harrogate council reaches Ripon and Pateley Bridge"),
    Goal("Find 10 hotels in Inverness", HOTELS, INVERNESS, 10, "Highland council is a quarter of Scotland"),
    Goal("Find 10 pubs in Bath", PUBS, BATH, 10, "Bath and North East Somerset reaches Keynsham and Midsomer Norton"),
    Goal("Find 20 pubs in Newcastle-under-Lyme", PUBS, NEWCASTLE_UNDER_LYME, 20, "not Newcastle upon Tyne; a borough reaching Kidsgrove"),
    # counties and regions
    Goal("Find 10 farm shops in Devon", FARM_SHOPS, DEVON, 10, "a kind known by name only, in a county"),
    Goal("Find 10 off-licences in Kent", OFF_LICENCES, KENT, 10, "a county of twelve districts and Medway"),
    Goal("Find 15 breweries in Yorkshire", BREWERIES, YORKSHIRE, 15, "a region; FSA makers and Open Brewery DB"),
    Goal("Find 10 delis in the South East", DELIS, SOUTH_EAST, 10, "a region; delis known by name only"),
    Goal("Find 20 distilleries in Scotland", DISTILLERIES, SCOTLAND, 20, "a nation; whisky dealers and auctions are filed beside distillers"),
    # postcode districts
    Goal("Find 10 cafes in LS6", CAFES, LS6, 10, "Leeds has no FSA data: LS6's cafés are missing"),
    Goal("Find 10 restaurants in M1", RESTAURANTS, M1, 10, "M1 is central Manchester, not M11 or M13"),
    Goal("Find 10 restaurants in SW1", RESTAURANTS, SW1, 10, "SW1 is SW1A…SW1Y; the issue: it was refused"),
    Goal("Find 10 pubs in EH1", PUBS, EH1, 10, "Edinburgh's Old Town"),
    Goal("Find 10 takeaways in B15", TAKEAWAYS, B15, 10, "Edgbaston: Birmingham has no FSA data, so no takeaway"),
    # cuisines
    Goal("Find 8 Indian restaurants in Manchester", INDIAN_RESTAURANTS, MANCHESTER, 8, "cuisine shown by names only"),
    Goal("Find 8 Italian restaurants in York", ITALIAN_RESTAURANTS, YORK, 8, "cuisine shown by names only"),
    # wording that lets leads come from around the place
    Goal("Find 250 pubs near York", PUBS, YORK, 250, "'near': more than York holds, the rest from around it, labelled"),
    Goal("Find 350 takeaways around Cardiff", TAKEAWAYS, CARDIFF, 350, "'around': more than Cardiff holds; Penarth (Vale of Glamorgan) is nearby"),
    Goal("Find 40 pubs within 10 miles of Harrogate", PUBS, AROUND_HARROGATE, 40, "a radius in miles, across councils"),
    # the data's gaps and shortfalls
    Goal("Find 5 Italian restaurants in Birmingham", ITALIAN_RESTAURANTS, BIRMINGHAM, 5, "the issue: Birmingham has no FSA data; it gave Sandwell's Haweli Tandoori"),
    Goal("Find 10 restaurants in Leeds", RESTAURANTS, LEEDS, 10, "Leeds has no FSA data: no restaurant inside"),
    Goal("Find 10 Indian restaurants in Leeds", INDIAN_RESTAURANTS, LEEDS, 10, "a cuisine in a council with no FSA data"),
    Goal("Find 10 hotels in Cornwall", HOTELS, CORNWALL, 10, "Cornwall has pubs and dentists only; some pubs are hotels"),
    Goal("Find 10 cafes in Sheffield", CAFES, SHEFFIELD, 10, "Sheffield has no FSA data: no café inside"),
    Goal("Find 10 restaurants in Glasgow", RESTAURANTS, GLASGOW, 10, "Glasgow City has no FSA data"),
    Goal("Find 5 dentists in Glasgow", DENTISTS, GLASGOW, 5, "NHS dental data is England only: none anywhere near"),
    Goal("Find 10 gyms in Manchester", GYMS, MANCHESTER, 10, "the issue: 1 saved, 9 missing, nothing said"),
    Goal("Find 10 vegan cafes near Brighton", VEGAN_CAFES, BRIGHTON, 10, "the issue: 'vegan' dropped, 20 ordinary cafés"),
    Goal("Find 30 craft breweries around Bristol", CRAFT_BREWERIES, BRISTOL, 30, "the issue: 14 with a coffee company and a university bar, 16 missing unsaid"),
    Goal("Find 20 breweries in Cornwall", BREWERIES, CORNWALL, 20, "Cornwall has pubs and dentists only"),
    Goal("Find 100 breweries in Kent", BREWERIES, KENT, 100, "more than Kent's open data holds"),
    Goal("Find 200 dentists in York", DENTISTS, YORK, 200, "more than York's NHS data holds"),
    Goal(
        "We roast coffee in Leeds - find 30 cafes in West Yorkshire we could supply, and email them",
        CAFES,
        WEST_YORKSHIRE,
        30,
        "the seller's town is not the target; Leeds' cafés are missing from the data (no FSA data)",
    ),
)  # fmt: skip


# ------------------------------------------------------------------------------------------ running a goal


@dataclass(slots=True)
class Outcome:
    """One goal planned, approved and run on the embedded default, with its leads' rows in the open data."""

    goal: Goal
    plan: LeadGenPlan | None = None
    result: LeadGenExecutionResult | None = None
    leads: Sequence[Lead] = ()
    rows: Mapping[str, Row] = field(default_factory=dict)
    """The directory's row of each lead, by ``source_id``."""
    counted: tuple[int, int] | None = None
    """(inside, nearby) as the directory counted them before approval."""
    error: str | None = None
    """Why the goal could not be planned or run."""

    @property
    def delivered(self) -> int:
        return len(self.leads)

    def shown(self) -> int | None:
        """How many inside the place the plan showed before approval (its directory coverage)."""
        if self.plan is None:
            return None
        found = [
            c.available
            for c in self.plan.estimate.coverage
            if c.provider == DIRECTORY and c.available is not None
        ]
        return sum(found) if found else None


def directory_count(plan: LeadGenPlan, registry: ToolRegistry) -> tuple[int, int] | None:
    """(inside, nearby) the directory counts for the plan's search, as the planner counts it before approval
    (``count_providers``); None when the plan has no directory search."""
    for coverages in count_providers(plan, registry).values():
        for info, found in coverages:
            if info.name == DIRECTORY and found.available is not None:
                return found.available, found.nearby or 0
    return None


async def pursue(sup: AppContext, goal: Goal, *, directory: Path) -> Outcome:
    """Plan ``goal`` as a person would (start, approve, run), then read its leads and their rows."""
    outcome = Outcome(goal)
    try:
        outcome.plan = await sup.plans.start_plan(goal.text, USER, session_id="relevance")
    except (InputError, UnplannableGoalError) as exc:
        outcome.error = f"not planned: {exc}"
        return outcome
    outcome.counted = await asyncio.to_thread(directory_count, outcome.plan, sup.registry)
    approved = await sup.plans.approve_plan(outcome.plan.id)
    outcome.result = await sup.plans.run_plan(approved, USER)
    outcome.leads = await sup.plans.leads(outcome.plan.id)
    outcome.rows = directory_rows(directory, [lead.source_id for lead in outcome.leads])
    return outcome


def directory_rows(directory: Path, ids: Iterable[str]) -> dict[str, Row]:
    """The rows of the imported directory with these ids, as the open data has them."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    conn = sqlite3.connect(f"{directory.resolve().as_uri()}?mode=ro", uri=True)
    try:
        conn.row_factory = sqlite3.Row
        marks = ",".join("?" * len(wanted))
        found = conn.execute(f"SELECT * FROM business WHERE id IN ({marks})", wanted).fetchall()
    finally:
        conn.close()
    return {row["id"]: dict(row) for row in found}


# ------------------------------------------------------------------------------------------ the checks


def _seen(lead: Lead, row: Row | None) -> str:
    if row is None:
        return f"{lead.name!r} ({lead.source_id})"
    return (
        f"{row['name']!r} [{row['category']}, {row['source_type']}, {row['local_authority']}, "
        f"{row['postcode']}]"
    )


def kind_misses(outcome: Outcome) -> list[str]:
    """One line per lead that is not the asked kind (by the kind's oracle on its row)."""
    misses = []
    for lead in outcome.leads:
        row = outcome.rows.get(lead.source_id)
        why = "not in the directory" if row is None else outcome.goal.kind.refusal(row)
        if why is not None:
            misses.append(f"{_seen(lead, row)}: {why}")
    return misses


def place_misses(outcome: Outcome) -> list[str]:
    """One line per lead that is neither inside (by the place's oracle) nor labelled nearby with a reason saying
    where and a distance a person would call near."""
    place = outcome.goal.place
    misses = []
    for lead in outcome.leads:
        row = outcome.rows.get(lead.source_id)
        if row is None:
            misses.append(f"{_seen(lead, row)}: not in the directory")
        elif lead.match is None:
            misses.append(f"{_seen(lead, row)}: no match label")
        elif lead.match.area == "inside":
            why = place.refusal(row)
            if why is not None:
                misses.append(
                    f"{_seen(lead, row)}: labelled inside, but {why} ({_km(place.distance(row))} away)"
                )
        else:
            why = _nearby_refusal(place, row, lead.match.reasons)
            if why is not None:
                misses.append(f"{_seen(lead, row)}: labelled nearby, but {why}")
    return misses


def _nearby_refusal(place: Place, row: Row, reasons: Sequence[str]) -> str | None:
    council = folded(str(row["local_authority"] or ""))
    if not any(re.search(r"\d km\b", r) or (council and council in folded(r)) for r in reasons):
        return f"no reason says where ({reasons})"
    away = place.distance(row)
    if place.nearby_km is not None and (away is None or away > place.nearby_km):
        return f"{_km(away)} from {place.name} centre is not near (at most {place.nearby_km:g} km)"
    return None


def shortfall_misses(outcome: Outcome) -> list[str]:
    """What the plan (before approval) and the delivery (after) fail to say about a shortfall, or say falsely.

    Fewer delivered than asked: a warning names the kind and the delivery's note states it. All delivered: no
    note, and the plan's count did not foresee fewer. Leads from outside a place whose wording did not allow
    them: a warning said the rest would come from nearby.
    """
    if outcome.plan is None or outcome.result is None:
        return [outcome.error or "not run"]
    goal, plan, delivery = outcome.goal, outcome.plan, outcome.result.delivery
    if delivery is None:
        return ["the result carries no delivery"]
    misses = []
    if (delivery.wanted, delivery.delivered) != (goal.volume, outcome.delivered):
        misses.append(
            f"delivery says {delivery.delivered} of {delivery.wanted}; the goal asked {goal.volume} and "
            f"{outcome.delivered} were saved"
        )
    warned = [w for w in plan.warnings if re.search(goal.kind.said, folded(w))]
    foreseen = outcome.counted
    if outcome.delivered < goal.volume:
        if not warned:
            misses.append(
                f"{outcome.delivered} of {goal.volume} delivered; no warning named the kind: {plan.warnings}"
            )
        note = delivery.note or ""
        if not re.search(rf"\b{outcome.delivered}\b.*\b{goal.volume}\b", note):
            misses.append(
                f"{outcome.delivered} of {goal.volume} delivered; the note does not state it: {note!r}"
            )
    else:
        if delivery.note:
            misses.append(f"all {goal.volume} delivered, yet the note says {delivery.note!r}")
        if foreseen is not None and sum(foreseen) < goal.volume:
            misses.append(
                f"all {goal.volume} delivered, yet the plan foresaw only {foreseen} (inside, nearby)"
            )
    outside = sum(1 for lead in outcome.leads if lead.match is not None and lead.match.area == "nearby")
    if outside and not plan.goal.nearby_allowed and not any("nearby" in folded(w) for w in warned):
        misses.append(
            f"{outside} nearby lead(s) topped up a goal that asked for inside only; no warning said so"
        )
    return misses


def count_misses(outcome: Outcome) -> list[str]:
    """Whether the directory's count before approval agrees with the run: the leads inside are as many as it
    counted (up to the volume), and the run delivered what inside and nearby together allowed."""
    if outcome.plan is None or outcome.result is None:
        return [outcome.error or "not run"]
    if outcome.counted is None:
        return ["the directory did not count"]
    inside, nearby = outcome.counted
    volume = outcome.goal.volume
    got_inside = sum(1 for lead in outcome.leads if lead.match is not None and lead.match.area == "inside")
    misses = []
    if outcome.shown() != inside:
        misses.append(f"the plan showed {outcome.shown()} inside; the directory counts {inside}")
    if got_inside != min(volume, inside):
        misses.append(f"{got_inside} leads inside; the count foresaw {inside} (volume {volume})")
    if outcome.delivered != min(volume, inside + nearby):
        misses.append(f"{outcome.delivered} delivered; the count foresaw {inside} inside + {nearby} nearby")
    return misses
