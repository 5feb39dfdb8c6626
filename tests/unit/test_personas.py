"""Personas: singular forms, directory categories and free-text search terms."""

from __future__ import annotations

import pytest

from wyshbone.domain.personas import (
    DIRECTORY_CATEGORIES,
    categories_for,
    is_known,
    pluralize,
    search_terms,
    singularize,
)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("coffee shops", "coffee shop"),  # the last word of the phrase
        ("Coffee Shops", "coffee shop"),  # lower case
        ("breweries", "brewery"),  # -ies
        ("dentists", "dentist"),  # plain -s
        ("dental practices", "dental practice"),  # -ces
        ("cafés", "café"),  # accents kept
        ("off-licences", "off-licence"),  # hyphenated
        ("micro-breweries", "micro-brewery"),  # only the last piece of a hyphenated word
        ("pubs and bars", "pub and bar"),  # each part of a list
        ("fish and chip shops", "fish and chip shop"),  # a known phrase with "and" in it
        ("pub", "pub"),  # already singular
        ("coffee", "coffee"),  # not a plural at all
        ("bus", "bus"),  # -us is no plural (a general-purpose inflector said "bu")
        ("premises", "premises"),  # a plural-looking singular
        ("pharmacies", "pharmacy"),
        ("churches", "church"),  # -ches
        ("bakeries", "bakery"),
        ("takeaways", "takeaway"),  # vowel + y: no -ies
        ("delis", "deli"),  # -is that is a plural
        ("taxis", "taxi"),
        ("butchers", "butcher"),
        ("beauty salons", "beauty salon"),
        ("estate agents", "estate agent"),
        ("brasseries", "brasserie"),  # French -erie, not "brassery"
        ("patisseries", "patisserie"),
        ("bookies", "bookie"),  # -ie, not "booky"
        ("smoothie bars", "smoothie bar"),
        ("chippies", "chippy"),
        ("offies", "offie"),
        ("crèches", "crèche"),  # -che, not "crèch"
        ("steakhouses", "steakhouse"),  # -ouses
        ("buses", "bus"),  # -uses
        ("fishermen", "fisherman"),  # an irregular at the end of a longer word
        ("fish and chips", "fish and chips"),  # "chips" is the dish here
        ("glass", "glass"),  # -ss
    ],
)
def test_singularize_reads_plurals(written: str, expected: str) -> None:
    assert singularize(written) == expected


@pytest.mark.parametrize(
    ("persona", "count", "expected"),
    [
        ("coffee shop", 2, "coffee shops"),  # the last word only
        ("coffee shop", 1, "coffee shop"),  # one
        ("brewery", 0, "breweries"),  # none
        ("fish and chip shop", 20, "fish and chip shops"),
        ("off-licence", 3, "off-licences"),
        ("pharmacy", 2, "pharmacies"),
        ("church", 2, "churches"),
        ("taxi", 2, "taxis"),
        ("bistro", 2, "bistros"),  # not "bistroes"
        ("business", 2, "businesses"),
        ("fish", 2, "fish"),  # the same in both numbers
        ("salesperson", 2, "salespeople"),
    ],
)
def test_pluralize_the_last_word(persona: str, count: int, expected: str) -> None:
    assert pluralize(persona, count) == expected


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("coffee shop", ["cafe"]),  # the headline example
        ("coffee shops", ["cafe"]),  # plural is fine
        ("café", ["cafe"]),  # accented
        ("cafe", ["cafe"]),  # unaccented
        ("coffee house", ["cafe"]),  # another name
        ("pub", ["pub_bar"]),
        ("bar", ["pub_bar"]),
        ("inn", ["pub_bar"]),
        ("brewery", ["brewery"]),
        ("microbrewery", ["brewery"]),
        ("brewer", ["brewery"]),
        ("dentist", ["dentist"]),
        ("dental practice", ["dentist"]),
        ("restaurant", ["restaurant"]),
        ("italian restaurant", ["restaurant"]),  # a qualified head noun
        ("hotel", ["hotel"]),
        ("takeaway", ["takeaway"]),
        ("off licence", ["off_licence"]),
        ("Off-Licence", ["off_licence"]),  # hyphen and case
        ("bottle shop", ["off_licence"]),  # not a "shop" in the directory's sense
        ("deli", ["shop"]),
        ("farm shop", ["shop"]),
        ("butcher", ["shop"]),
        ("bakery", ["shop", "food_producer"]),  # bakeries sell and make
        ("coffee roaster", ["food_producer"]),
        ("food truck", ["mobile_caterer"]),
        ("fish bar", ["takeaway"]),  # a chip shop, not a bar
        ("craft brewery", ["brewery"]),  # a qualifier ("craft") in front changes nothing
        ("nail salon", []),  # unknown kinds the goals ask for: free text
        ("estate agent", []),
        ("pubs and bars", ["pub_bar"]),  # a list: categories once each
        ("pubs and cafés", ["pub_bar", "cafe"]),  # ... in the order written
        ("florist", []),  # unknown: free text only
        ("gym", []),  # unknown
        ("", []),  # nothing
    ],
)
def test_categories_for_maps_personas(persona: str, expected: list[str]) -> None:
    assert categories_for(persona) == expected


@pytest.mark.parametrize(
    "persona",
    [
        "coffee shop",
        "pub",
        "brewery",
        "dentist",
        "bakery",
        "caterer",
        "care home",
        "taproom",
        "grocery store",
    ],
)
def test_categories_for_stays_inside_the_directory(persona: str) -> None:
    assert set(categories_for(persona)) <= set(DIRECTORY_CATEGORIES)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("fish bars", True),  # a kind by its whole name: goal reading does not split "fish" off it
        ("craft brewery", True),
        ("fish and chip shop", True),
        ("italian restaurant", False),  # known only by its head ("restaurant")
        ("florist", False),  # unknown
        ("", False),
    ],
)
def test_is_known_by_the_whole_name(persona: str, expected: bool) -> None:
    assert is_known(persona) is expected


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("coffee shop", ["coffee", "cafe", "café"]),  # the headline example
        ("coffee shops", ["coffee", "cafe", "café"]),  # plural
        ("pub", ["pub", "inn", "tavern", "arms"]),  # "The Red Lion Arms" is a pub
        ("dentists", ["dental", "dentist", "dentistry", "orthodontic"]),
        ("brewery", ["brewery", "brewing", "brewers", "brew"]),
        ("florists", ["florist"]),  # unknown: its own words
        ("vintage florists", ["vintage", "florist"]),  # unknown, several words
        ("independent florists", ["florist"]),  # "independent" is no use to a name search
        ("pubs and florists", ["pub", "inn", "tavern", "arms", "florist"]),  # each part
        ("", []),  # nothing
    ],
)
def test_search_terms_for_free_text(persona: str, expected: list[str]) -> None:
    assert search_terms(persona) == expected
