"""Qualifiers: what narrows the kind of business asked for ("Italian", "vegan", "craft", "independent"). Pure.

Each says how a goal may word it and how each source can show it: an OpenStreetMap tag, a Google Places type,
or a word in the business's name. The directory's open data records no cuisine, diet or style, so there a
qualifier can only be shown by the name; a qualifier no source can show ("family-run") is said so, never
pretended.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["QUALIFIERS", "Qualifier", "find_qualifier", "qualifier_phrases"]


@dataclass(frozen=True, slots=True)
class Qualifier:
    """One qualifier and how each source shows it."""

    key: str
    """The canonical word, as kept in ``LeadGenGoal.qualifiers`` ("italian")."""
    label: str
    """How to say it to a person ("Italian")."""
    words: tuple[str, ...]
    """How a goal may word it, lowercase; several words allowed ("with outdoor seating")."""
    osm: tuple[tuple[str, str], ...] = ()
    """OSM tags that show it: (key, value); a ``cuisine`` value may be one of a ``;``-separated list."""
    places_types: tuple[str, ...] = ()
    """Google Places (New) types that show it."""
    name_terms: tuple[str, ...] = ()
    """Whole words (or phrases) in a business name that show it."""
    chains: tuple[str, ...] = ()
    """Names that show the opposite (for "independent": the chains)."""
    verifiable: bool = True
    """False when no source records it: the plan says so, and leads are not filtered on it."""
    source_types: tuple[str, ...] = ()
    """Business types of the open data that show it (Open Brewery DB's "brewery:micro" for "craft")."""


def _q(
    key: str,
    label: str,
    words: tuple[str, ...],
    *,
    osm: tuple[tuple[str, str], ...] = (),
    places: tuple[str, ...] = (),
    names: tuple[str, ...] = (),
    chains: tuple[str, ...] = (),
    verifiable: bool = True,
    source_types: tuple[str, ...] = (),
) -> Qualifier:
    return Qualifier(key, label, words, osm, places, names, chains, verifiable, source_types)


def _cuisine(
    key: str,
    label: str,
    *,
    extra_words: tuple[str, ...] = (),
    places: tuple[str, ...],
    names: tuple[str, ...],
) -> Qualifier:
    return _q(key, label, (key, *extra_words), osm=(("cuisine", key),), places=places, names=names)


_CHAINS = (
    "costa", "starbucks", "caffe nero", "caffè nero", "pret", "pret a manger", "greggs", "mcdonalds",
    "mcdonald's", "burger king", "kfc", "subway", "nando's", "nandos", "pizza hut", "domino's", "dominos",
    "papa john's", "papa johns", "wetherspoon", "wagamama", "pizza express", "zizzi", "prezzo", "ask italian",
    "frankie & benny's", "toby carvery", "harvester", "beefeater", "premier inn", "travelodge", "tesco",
    "sainsbury's", "asda", "morrisons", "co-op", "lidl", "aldi", "waitrose", "mydentist", "bupa dental",
    "boots", "wilko",
)  # fmt: skip
"""Chains of the trades our users sell to: a name that is one of them is not independent."""

_ALL: tuple[Qualifier, ...] = (
    # cuisines
    _cuisine(
        "italian",
        "Italian",
        places=("italian_restaurant", "pizza_restaurant"),
        names=("italian", "italia", "pizzeria", "trattoria", "ristorante", "osteria", "pizza", "pasta"),
    ),
    _cuisine(
        "indian",
        "Indian",
        places=("indian_restaurant",),
        names=("indian", "india", "tandoori", "balti", "masala", "curry", "biryani", "dosa"),
    ),
    _cuisine(
        "chinese", "Chinese", places=("chinese_restaurant",), names=("chinese", "china", "wok", "dim sum")
    ),
    _cuisine("thai", "Thai", places=("thai_restaurant",), names=("thai", "siam", "bangkok")),
    _cuisine(
        "japanese",
        "Japanese",
        places=("japanese_restaurant", "sushi_restaurant", "ramen_restaurant"),
        names=("japanese", "sushi", "ramen", "izakaya", "teppanyaki", "bento"),
    ),
    _cuisine(
        "mexican",
        "Mexican",
        places=("mexican_restaurant",),
        names=("mexican", "mexico", "taco", "tacos", "taqueria", "cantina", "burrito"),
    ),
    _cuisine(
        "turkish", "Turkish", places=("turkish_restaurant",), names=("turkish", "turkiye", "ocakbasi", "meze")
    ),
    _cuisine("greek", "Greek", places=("greek_restaurant",), names=("greek", "taverna", "souvlaki", "gyros")),
    _cuisine("french", "French", places=("french_restaurant",), names=("french", "brasserie", "bistrot")),
    _cuisine("spanish", "Spanish", places=("spanish_restaurant",), names=("spanish", "tapas", "bodega")),
    _cuisine("lebanese", "Lebanese", places=("lebanese_restaurant",), names=("lebanese", "lebanon")),
    _cuisine("vietnamese", "Vietnamese", places=("vietnamese_restaurant",), names=("vietnamese", "pho")),
    _cuisine("korean", "Korean", places=("korean_restaurant",), names=("korean", "korea", "bibimbap")),
    _cuisine("caribbean", "Caribbean", places=(), names=("caribbean", "jamaican", "jerk")),
    _cuisine("portuguese", "Portuguese", places=(), names=("portuguese", "piri piri", "peri peri")),
    _cuisine(
        "seafood",
        "seafood",
        extra_words=("fish",),
        places=("seafood_restaurant",),
        names=("seafood", "fish", "oyster", "lobster"),
    ),
    _cuisine(
        "steak_house", "steak", extra_words=("steak",), places=("steak_house",), names=("steak", "steakhouse")
    ),
    # diets
    _q(
        "vegan",
        "vegan",
        ("vegan", "plant-based", "plant based"),
        osm=(("diet:vegan", "yes"), ("diet:vegan", "only")),
        places=("vegan_restaurant",),
        names=("vegan", "plant based", "plant-based"),
    ),
    _q(
        "vegetarian",
        "vegetarian",
        ("vegetarian", "veggie"),
        osm=(("diet:vegetarian", "yes"), ("diet:vegetarian", "only")),
        places=("vegetarian_restaurant",),
        names=("vegetarian", "veggie"),
    ),
    _q("halal", "halal", ("halal",), osm=(("diet:halal", "yes"), ("diet:halal", "only")), names=("halal",)),
    _q(
        "gluten_free",
        "gluten-free",
        ("gluten-free", "gluten free"),
        osm=(("diet:gluten_free", "yes"), ("diet:gluten_free", "only")),
        names=("gluten free", "gluten-free"),
    ),
    _q("organic", "organic", ("organic",), osm=(("organic", "yes"), ("organic", "only")), names=("organic",)),
    # styles
    _q(
        "craft",
        "craft",
        ("craft",),
        osm=(("craft", "brewery"), ("microbrewery", "yes")),
        names=("craft", "brewing", "brewery", "brewers"),
        source_types=("brewery:micro", "brewery:nano", "brewery:brewpub", "brewery:taproom"),
    ),
    _q(
        "micro",
        "micro",
        ("micro",),
        osm=(("microbrewery", "yes"), ("craft", "brewery")),
        names=("micro", "microbrewery", "micropub"),
        source_types=("brewery:micro", "brewery:nano"),
    ),
    _q(
        "independent",
        "independent",
        ("independent", "indie", "non-chain"),
        chains=_CHAINS,
    ),
    _q(
        "family_run",
        "family-run",
        ("family-run", "family run", "family owned", "family-owned"),
        verifiable=False,
    ),
    # attributes
    _q(
        "outdoor_seating",
        "outdoor seating",
        ("with outdoor seating", "outdoor seating", "beer garden", "with a beer garden", "garden"),
        osm=(("outdoor_seating", "yes"), ("beer_garden", "yes")),
        places=(),
        names=("garden",),
    ),
    _q("dog_friendly", "dog-friendly", ("dog-friendly", "dog friendly"), osm=(("dog", "yes"),)),
    _q("real_ale", "real ale", ("real ale",), osm=(("real_ale", "yes"),), names=("ale house", "alehouse")),
)

QUALIFIERS: Mapping[str, Qualifier] = {q.key: q for q in _ALL}
"""Every known qualifier by its key."""

_BY_WORDS: Mapping[str, Qualifier] = {word: q for q in _ALL for word in q.words}


def find_qualifier(text: str) -> Qualifier | None:
    """The qualifier a word or phrase of a goal names ("Italian", "plant-based"), or None."""
    return _BY_WORDS.get(" ".join(text.lower().split()))


def qualifier_phrases() -> tuple[str, ...]:
    """Every wording of every qualifier, longest first (so "with outdoor seating" wins over "outdoor")."""
    return tuple(sorted(_BY_WORDS, key=lambda w: (-len(w.split()), -len(w), w)))
