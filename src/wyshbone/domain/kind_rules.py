"""When a business of the open data is of each directory category: its source's business types, and the words
its name must show within compatible types (a café called "Brew Coffee Company" is no brewery; a manufacturer called
"Bristol Beer Factory" is). ``domain.matching`` applies these rules to a business, the directory's SQL to a search."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["BREWERY_TYPES", "KIND_RULES", "KindRule", "Named", "category_label"]

# The open data's business types (``source_type``): the FSA's, the NHS's and Open Brewery DB's.
RESTAURANT_CAFE = "Restaurant/Cafe/Canteen"
TAKEAWAY = "Takeaway/sandwich shop"
PUB_BAR = "Pub/bar/nightclub"
HOTEL = "Hotel/bed & breakfast/guest house"
OTHER_CATERING = "Other catering premises"
MOBILE = "Mobile caterer"
RETAIL = "Retailers - other"
SUPERMARKET = "Retailers - supermarkets/hypermarkets"
MAKER = "Manufacturers/packers"
FARM = "Farmers/growers"
DISTRIBUTOR = "Distributors/Transporters"
IMPORTER = "Importers/Exporters"
CARE = "Hospitals/Childcare/Caring Premises"
SCHOOL = "School/college/university"
DENTAL = ("General Dental Practice (D)", "General Dental Practice (P)")
MAKERS = (MAKER, FARM, DISTRIBUTOR, IMPORTER)
BREWERY_TYPES = tuple(
    f"brewery:{t}"
    for t in ("micro", "nano", "regional", "brewpub", "large", "contract", "proprietor", "taproom")
)
"""Open Brewery DB's types of working breweries ("closed" and "planning" are not)."""


@dataclass(frozen=True, slots=True)
class Named:
    """Businesses of some types that are of a category when their name says so."""

    types: tuple[str, ...]
    """The compatible business types."""
    terms: tuple[str, ...]
    """Words (or phrases) of which the name must show one."""
    unless: tuple[str, ...] = ()
    """Words that show the name is another trade's ("Premier Inn" is no pub, "The Brewery Tap" no brewery)."""


@dataclass(frozen=True, slots=True)
class KindRule:
    """When a business of the open data is of one directory category."""

    category: str
    singular: str
    plural: str
    types: tuple[str, ...] = ()
    """Business types that make it this kind by themselves: kind "category"."""
    unless: tuple[str, ...] = ()
    """Directory categories that take a business of ``types`` out (a Restaurant/Cafe/Canteen the publisher
    read as a café is no restaurant)."""
    names: tuple[Named, ...] = ()
    """A business of a compatible type whose name says so is this kind (kind "name"). Types not listed here or
    in ``types`` never are, whatever the name says."""
    trusted: bool = False
    """The open data's own category (which its publisher read from names, within the compatible types) counts
    as the name showing it: cafés and off-licences."""
    generic: tuple[str, ...] = ()
    """Personas meaning the whole category; any other persona of it ("pizzeria", "farm shop") must also be
    shown by the name."""


_BREWING = ("brewing", "brew co", "brewco", "microbrewery", "beer factory")
"""Words that make a business of a compatible type a brewery, whatever else its name says."""
_BREWERY = ("brewery", "breweries")
"""Words that make a shop, bar or caterer a brewery unless its name is a pub's carrying a brewery's name."""
_NOT_BREWING = ("coffee", "tea", "kombucha")
"""A coffee roaster or tea maker "brewing" is no brewery ("Brew Coffee Company")."""
_A_PUB = (
    "tap", "old brewery", "public house", "inn", "arms", "tavern", "hotel", "ale house", "bar", "club",
    "university", "students", "union", "fayre",
)  # fmt: skip
"""Names of pubs and bars that only carry a brewery's name: "The Brewery Tap", "The Old Brewery", "The Brewhouse
Club" (a university bar), "Brewers Fayre" (a chain of pub restaurants)."""
_DISTIL = ("distillery", "distilleries", "distillers", "distilling", "distiller")
_WINE = ("winery", "vineyard", "vineyards", "wine estate", "cider", "ciders", "cidery", "perry", "meadery")
_CAFE = (
    "cafe", "caffe", "coffee", "espresso", "tea room", "tea rooms", "tearoom", "tearooms", "tea shop",
    "tea house", "teahouse", "patisserie", "bakery", "brunch", "costa", "starbucks", "nero", "pret",
)  # fmt: skip
_PUB = ("pub", "inn", "tavern", "arms", "alehouse", "ale house", "freehouse", "free house")
_RESTAURANT = ("restaurant", "bistro", "brasserie", "ristorante", "trattoria", "osteria", "steakhouse")
_OFF_LICENCE = ("off licence", "off license", "wines", "wine", "booze", "liquor", "bottle shop", "beer shop")

_RULES: tuple[KindRule, ...] = (
    KindRule(
        "pub_bar",
        "pub",
        "pubs",
        types=(PUB_BAR, "brewery:brewpub", "brewery:taproom"),
        names=(
            Named(
                (RESTAURANT_CAFE, HOTEL, OTHER_CATERING),
                _PUB,
                ("premier inn", "holiday inn", "jurys inn", "days inn", "travelodge"),
            ),
        ),
        generic=("pub", "bar", "inn", "tavern", "public house", "free house", "freehouse", "alehouse"),
    ),
    KindRule(
        "restaurant",
        "restaurant",
        "restaurants",
        types=(RESTAURANT_CAFE,),
        unless=("cafe",),
        names=(Named((PUB_BAR, HOTEL, OTHER_CATERING), _RESTAURANT),),
        generic=("restaurant", "eatery"),
    ),
    KindRule(
        "takeaway",
        "takeaway",
        "takeaways",
        types=(TAKEAWAY,),
        unless=("cafe",),
        names=(
            Named(
                (RESTAURANT_CAFE, MOBILE), ("takeaway", "take away", "takeout", "fish bar", "chippy", "kebab")
            ),
        ),
        generic=("takeaway", "take away", "takeout", "fast food"),
    ),
    KindRule(
        "cafe",
        "café",
        "cafés",
        names=(Named((RESTAURANT_CAFE, TAKEAWAY, OTHER_CATERING, MOBILE), _CAFE),),
        trusted=True,
        generic=(
            "cafe",
            "coffee shop",
            "coffee house",
            "coffeehouse",
            "coffee bar",
            "espresso bar",
            "coffee",
        ),
    ),
    KindRule(
        "hotel",
        "hotel",
        "hotels",
        types=(HOTEL,),
        names=(Named((PUB_BAR,), ("hotel", "guest house", "guesthouse", "bed and breakfast")),),
        generic=("hotel",),
    ),
    KindRule(
        "brewery",
        "brewery",
        "breweries",
        types=BREWERY_TYPES,
        names=(
            Named(MAKERS, (*_BREWING, *_BREWERY, "brewers", "brewer", "ales", "beer", "beers"), _NOT_BREWING),
            Named((RETAIL,), (*_BREWING, *_BREWERY), _NOT_BREWING),
            Named(
                (PUB_BAR, OTHER_CATERING), (*_BREWING, "brewery tap room", "brewery taproom"), _NOT_BREWING
            ),
            Named((PUB_BAR, OTHER_CATERING), _BREWERY, (*_NOT_BREWING, *_A_PUB)),
        ),
        generic=("brewery", "microbrewery", "micro brewery", "craft brewery", "brewer"),
    ),
    KindRule(
        "distillery",
        "distillery",
        "distilleries",
        names=(
            # a producer of spirits; a dealer in them (a distributor, an auction house) is not a distillery
            Named((MAKER,), (*_DISTIL, "gin", "whisky", "whiskey", "spirits", "rum", "vodka")),
            Named((*MAKERS, RETAIL, PUB_BAR, OTHER_CATERING), _DISTIL, ("gin bar", "auction", "auctions")),
        ),
        generic=("distillery", "distiller", "gin distillery"),
    ),
    KindRule(
        "winery_cidery",
        "winery or cidery",
        "wineries and cideries",
        types=("brewery:cidery",),
        names=(Named(MAKERS, (*_WINE, "wine", "wines")), Named((RETAIL, PUB_BAR, OTHER_CATERING), _WINE)),
        generic=(
            "winery",
            "vineyard",
            "cidery",
            "cider maker",
            "cider producer",
            "wine producer",
            "meadery",
        ),
    ),
    KindRule(
        "off_licence",
        "off-licence",
        "off-licences",
        names=(Named((RETAIL,), _OFF_LICENCE),),
        trusted=True,
        generic=("off licence", "off license", "offie", "liquor store"),
    ),
    KindRule("shop", "shop", "shops", types=(RETAIL,), generic=("shop",)),
    KindRule(
        "supermarket",
        "supermarket",
        "supermarkets",
        types=(SUPERMARKET,),
        names=(Named((RETAIL,), ("supermarket", "superstore", "hypermarket")),),
        generic=("supermarket", "hypermarket"),
    ),
    KindRule(
        "dentist",
        "dentist",
        "dentists",
        types=DENTAL,
        generic=("dentist", "dental practice", "dental surgery", "dental clinic"),
    ),
    KindRule(
        "food_producer",
        "food producer",
        "food producers",
        types=MAKERS,
        generic=("food producer", "food manufacturer", "producer", "manufacturer"),
    ),
    KindRule(
        "mobile_caterer", "mobile caterer", "mobile caterers", types=(MOBILE,), generic=("mobile caterer",)
    ),
    KindRule(
        "other_catering",
        "caterer",
        "caterers",
        types=(OTHER_CATERING,),
        generic=("caterer", "catering company", "event caterer"),
    ),
    KindRule(
        "institution",
        "school, hospital or care home",
        "schools, hospitals and care homes",
        types=(CARE, SCHOOL),
    ),
)

KIND_RULES: Mapping[str, KindRule] = {rule.category: rule for rule in _RULES}
"""Directory category → when a business of the open data is of it."""


def category_label(category: str, *, plural: bool = True) -> str:
    """How a person says a directory category: "pub_bar" → "pubs"."""
    rule = KIND_RULES.get(category)
    if rule is None:
        return category.replace("_", " ")
    return rule.plural if plural else rule.singular
