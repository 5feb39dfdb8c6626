"""Personas: the kind of business a goal targets, singular ("coffee shop"), mapped to directory categories.

An unknown persona ("florist") maps to no category: the search then uses free text only, which is not an error.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping

from wyshbone.domain.plurals import plural_noun, singular_noun

__all__ = [
    "DIRECTORY_CATEGORIES",
    "categories_for",
    "is_known",
    "persona_key",
    "pluralize",
    "search_terms",
    "singularize",
]

DIRECTORY_CATEGORIES = (
    "pub_bar", "restaurant", "takeaway", "cafe", "hotel", "brewery", "distillery", "winery_cidery", "off_licence",
    "shop", "supermarket", "dentist", "food_producer", "mobile_caterer", "other_catering", "institution",
)  # fmt: skip

# persona (singular, as persona_key spells it) → (directory categories, extra free-text terms for a name search)
_PERSONAS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # cafés
    "cafe": (("cafe",), ("cafe", "café", "coffee")),
    "coffee shop": (("cafe",), ("coffee", "cafe", "café")),
    "coffee house": (("cafe",), ("coffee", "cafe", "café")),
    "coffeehouse": (("cafe",), ("coffee", "cafe", "café")),
    "coffee bar": (("cafe",), ("coffee", "cafe", "café", "espresso")),
    "espresso bar": (("cafe",), ("espresso", "coffee", "cafe")),
    "coffee": (("cafe",), ("coffee", "cafe", "café")),
    "tea room": (("cafe",), ("tea room", "tearoom", "tea")),
    "tearoom": (("cafe",), ("tea room", "tearoom", "tea")),
    "tea shop": (("cafe",), ("tea", "tearoom")),
    "sandwich shop": (("cafe", "takeaway"), ("sandwich", "deli")),
    # pubs and bars
    "pub": (("pub_bar",), ("pub", "inn", "tavern", "arms")),
    "bar": (("pub_bar",), ("bar", "pub")),
    "inn": (("pub_bar",), ("inn", "pub", "tavern")),
    "tavern": (("pub_bar",), ("tavern", "inn", "pub")),
    "public house": (("pub_bar",), ("pub", "inn", "tavern", "arms")),
    "free house": (("pub_bar",), ("pub", "inn")),
    "freehouse": (("pub_bar",), ("pub", "inn")),
    "alehouse": (("pub_bar",), ("ale", "pub")),
    "gastropub": (("pub_bar", "restaurant"), ("pub", "inn", "kitchen")),
    "gastro pub": (("pub_bar", "restaurant"), ("pub", "inn", "kitchen")),
    "micropub": (("pub_bar",), ("micropub", "ale", "pub")),
    "wine bar": (("pub_bar",), ("wine", "bar")),
    "cocktail bar": (("pub_bar",), ("cocktail", "bar")),
    "nightclub": (("pub_bar",), ("club", "nightclub")),
    "taproom": (("brewery", "pub_bar"), ("tap", "taproom", "brewery")),
    "brewpub": (("brewery", "pub_bar"), ("brew", "brewery", "pub")),
    # restaurants and takeaways
    "restaurant": (("restaurant",), ("restaurant", "bistro", "brasserie", "kitchen", "grill")),
    "bistro": (("restaurant",), ("bistro", "restaurant")),
    "brasserie": (("restaurant",), ("brasserie", "restaurant")),
    "eatery": (("restaurant",), ("restaurant", "kitchen")),
    "diner": (("restaurant",), ("diner", "restaurant")),
    "steakhouse": (("restaurant",), ("steak", "grill")),
    "pizzeria": (("restaurant", "takeaway"), ("pizza", "pizzeria")),
    "curry house": (("restaurant", "takeaway"), ("curry", "indian", "tandoori", "spice")),
    "takeaway": (("takeaway",), ("takeaway",)),
    "take away": (("takeaway",), ("takeaway",)),
    "takeout": (("takeaway",), ("takeaway",)),
    "fast food": (("takeaway",), ("takeaway",)),
    "fish and chip shop": (("takeaway",), ("fish", "chips", "chippy", "fish bar")),
    "chip shop": (("takeaway",), ("fish", "chips", "chippy", "fish bar")),
    "fish bar": (("takeaway",), ("fish bar", "fish", "chips", "chippy")),
    "chippy": (("takeaway",), ("fish", "chips", "chippy", "fish bar")),
    "kebab shop": (("takeaway",), ("kebab",)),
    "pizza shop": (("takeaway",), ("pizza",)),
    # places to stay
    "hotel": (("hotel",), ("hotel",)),
    "guest house": (("hotel",), ("guest house", "guesthouse", "b&b")),
    "guesthouse": (("hotel",), ("guest house", "guesthouse", "b&b")),
    "bed and breakfast": (("hotel",), ("b&b", "bed and breakfast", "guest house")),
    "b and b": (("hotel",), ("b&b", "bed and breakfast", "guest house")),
    "hostel": (("hotel",), ("hostel",)),
    "motel": (("hotel",), ("motel", "lodge")),
    # makers of drink
    "brewery": (("brewery",), ("brewery", "brewing", "brewers", "brew")),
    "microbrewery": (("brewery",), ("brewery", "brewing", "brewers", "brew")),
    "micro brewery": (("brewery",), ("brewery", "brewing", "brewers", "brew")),
    "craft brewery": (("brewery",), ("brewery", "brewing", "brewers", "brew")),
    "brewer": (("brewery",), ("brewery", "brewing", "brewers", "brew")),
    "distillery": (("distillery",), ("distillery", "distillers", "gin", "whisky")),
    "distiller": (("distillery",), ("distillery", "distillers", "gin", "whisky")),
    "gin distillery": (("distillery",), ("gin", "distillery")),
    "winery": (("winery_cidery",), ("winery", "vineyard", "wine estate")),
    "vineyard": (("winery_cidery",), ("vineyard", "winery", "wine estate")),
    "cidery": (("winery_cidery",), ("cider", "cidery")),
    "cider maker": (("winery_cidery",), ("cider", "cidery")),
    "cider producer": (("winery_cidery",), ("cider", "cidery")),
    "wine producer": (("winery_cidery",), ("wine", "vineyard", "winery")),
    "meadery": (("winery_cidery",), ("mead", "meadery")),
    # sellers of drink and food
    "off licence": (("off_licence",), ("off licence", "wines", "bottle shop")),
    "off license": (("off_licence",), ("off licence", "wines", "bottle shop")),
    "offie": (("off_licence",), ("off licence", "wines")),
    "bottle shop": (("off_licence",), ("bottle shop", "bottle", "beer", "wines")),
    "beer shop": (("off_licence",), ("beer", "bottle shop")),
    "craft beer shop": (("off_licence",), ("beer", "bottle shop", "craft")),
    "wine shop": (("off_licence",), ("wine", "wines", "cellar")),
    "wine merchant": (("off_licence",), ("wine", "wines", "merchant", "cellar")),
    "liquor store": (("off_licence",), ("off licence", "wines")),
    "shop": (("shop",), ()),
    "deli": (("shop",), ("deli", "delicatessen")),
    "delicatessen": (("shop",), ("deli", "delicatessen")),
    "farm shop": (("shop",), ("farm shop", "farm")),
    "butcher": (("shop",), ("butcher", "butchers", "meat")),
    "bakery": (("shop", "food_producer"), ("bakery", "bakers", "bake", "bread")),
    "baker": (("shop", "food_producer"), ("bakery", "bakers", "bake", "bread")),
    "greengrocer": (("shop",), ("greengrocer", "fruit", "veg")),
    "grocer": (("shop", "supermarket"), ("grocer", "grocery", "food")),
    "fishmonger": (("shop",), ("fish", "fishmonger", "seafood")),
    "cheesemonger": (("shop",), ("cheese",)),
    "cheese shop": (("shop",), ("cheese",)),
    "health food shop": (("shop",), ("health", "wholefood")),
    "convenience store": (("shop", "supermarket"), ("store", "convenience", "local")),
    "corner shop": (("shop", "supermarket"), ("store", "convenience")),
    "newsagent": (("shop",), ("news", "newsagent")),
    "chocolatier": (("shop", "food_producer"), ("chocolate", "chocolatier")),
    "supermarket": (("supermarket",), ("supermarket",)),
    "grocery store": (("supermarket", "shop"), ("grocery", "store", "food")),
    "hypermarket": (("supermarket",), ("supermarket",)),
    # makers of food
    "food producer": (("food_producer",), ()),
    "food manufacturer": (("food_producer",), ()),
    "producer": (("food_producer",), ()),
    "manufacturer": (("food_producer",), ()),
    "coffee roaster": (("food_producer",), ("roaster", "roastery", "coffee")),
    "roaster": (("food_producer",), ("roaster", "roastery", "coffee")),
    "roastery": (("food_producer",), ("roaster", "roastery", "coffee")),
    "cheesemaker": (("food_producer",), ("cheese", "dairy")),
    "cheese maker": (("food_producer",), ("cheese", "dairy")),
    "chocolate maker": (("food_producer",), ("chocolate",)),
    # caterers
    "mobile caterer": (("mobile_caterer",), ()),
    "food truck": (("mobile_caterer",), ("street food", "truck", "van")),
    "food van": (("mobile_caterer",), ("street food", "van")),
    "street food vendor": (("mobile_caterer",), ("street food",)),
    "street food trader": (("mobile_caterer",), ("street food",)),
    "burger van": (("mobile_caterer",), ("burger", "van")),
    "ice cream van": (("mobile_caterer",), ("ice cream", "van")),
    "caterer": (("other_catering", "mobile_caterer"), ("catering", "caterers")),
    "catering company": (("other_catering", "mobile_caterer"), ("catering", "caterers")),
    "event caterer": (("other_catering", "mobile_caterer"), ("catering", "events")),
    "canteen": (("other_catering",), ("canteen",)),
    # dentists
    "dentist": (("dentist",), ("dental", "dentist", "dentistry", "orthodontic")),
    "dental practice": (("dentist",), ("dental", "dentist", "dentistry")),
    "dental surgery": (("dentist",), ("dental", "dentist", "dentistry")),
    "dental clinic": (("dentist",), ("dental", "dentist", "clinic")),
    "orthodontist": (("dentist",), ("orthodontic", "orthodontist", "dental")),
    # institutions (rarely leads, but askable)
    "school": (("institution",), ("school", "academy")),
    "care home": (("institution",), ("care home", "nursing")),
    "nursing home": (("institution",), ("nursing", "care home")),
    "hospital": (("institution",), ("hospital",)),
    "nursery": (("institution",), ("nursery",)),
    "college": (("institution",), ("college",)),
    "university": (("institution",), ("university",)),
}

_SPLIT_PARTS = re.compile(r"\s*(?:,|&|\band\b|\bor\b|/)\s*")
_WORD = re.compile(r"[a-z0-9]+")


def persona_key(text: str) -> str:
    """Case, accents, hyphens and "&" ignored: "Café" → "cafe", "Off-Licence" → "off licence"."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    folded = folded.replace("&", " and ").replace("-", " ").replace("'", "")
    return " ".join(folded.split())


@functools.lru_cache(maxsize=2048)
def singularize(phrase: str) -> str:
    """The persona in the singular, lower case: "Coffee Shops" → "coffee shop", "pubs and bars" → "pub and bar".

    Only the last word of each part is made singular, so "fish and chips shops" keeps its "chips".
    """
    text = " ".join(phrase.lower().split())
    if text in _PERSONAS_BY_WRITTEN or persona_key(text) in _PERSONAS:
        return text
    return re.sub(r"[^\s,&/]+(?=\s*(?:,|&|/|\band\b|\bor\b|$))", _singular_word, text)


@functools.lru_cache(maxsize=2048)
def pluralize(persona: str, count: int = 2) -> str:
    """ "coffee shop" → "coffee shops" (the last word only); unchanged when ``count`` is 1."""
    if count == 1:
        return persona
    head, _, last = persona.rpartition(" ")
    plural = plural_noun(last)
    return f"{head} {plural}" if head else plural


def _singular_word(match: re.Match[str]) -> str:
    """One word made singular ("micro-breweries": only the last piece changes); as written when no plural."""
    word = match.group(0)
    return word if word in ("and", "or") else singular_noun(word) or word


# Personas written with accents or other spellings that persona_key keeps distinct.
_PERSONAS_BY_WRITTEN = frozenset(("café",))


def categories_for(persona: str) -> list[str]:
    """Directory categories for a persona; [] when unknown (a free-text search still works).

    Tries the whole phrase, then its head ("italian restaurant" → restaurant), then each "and"/"or" part.
    """
    found: list[str] = []
    for part in _parts(persona):
        entry = _lookup(part)
        if entry is not None:
            found.extend(category for category in entry[0] if category not in found)
    return found


def is_known(persona: str) -> bool:
    """Whether the whole phrase is a kind known by name ("fish bar", "craft brewery"), not only by its head."""
    return persona_key(singularize(persona)) in _PERSONAS


def search_terms(persona: str) -> list[str]:
    """Free-text terms for a name search: the persona's own words, then its known synonyms.

    "coffee shop" → ["coffee", "cafe", "café"]; an unknown "florist" → ["florist"].
    """
    terms: list[str] = []
    for part in _parts(persona):
        entry = _lookup(part)
        own = [] if entry is not None and entry[1] else _content_words(part)
        for term in (*own, *(entry[1] if entry is not None else ())):
            if term not in terms:
                terms.append(term)
    return terms


def _parts(persona: str) -> list[str]:
    key = persona_key(singularize(persona))
    if not key:
        return []
    if key in _PERSONAS:
        return [key]
    return [part for part in _SPLIT_PARTS.split(key) if part]


def _lookup(part: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The entry for the longest known tail of ``part`` ("craft beer pub" → "pub")."""
    words = part.split()
    for start in range(len(words)):
        entry = _PERSONAS.get(" ".join(words[start:]))
        if entry is not None:
            return entry
    return None


_STOPWORDS = frozenset(
    ("a", "an", "the", "of", "and", "or", "for", "in", "on", "new", "local", "independent")
)


def _content_words(part: str) -> list[str]:
    return [word for word in _WORD.findall(part) if word not in _STOPWORDS]
