"""Plurals of the nouns goals name businesses by, both ways, with the exceptions the rules list."""

from __future__ import annotations

import pytest

from wyshbone.domain.plurals import plural_noun, singular_noun

PAIRS = [
    ("pub", "pubs"),  # plain -s
    ("café", "cafés"),  # accents kept
    ("cafe", "cafes"),  # -e
    ("brewery", "breweries"),  # consonant + y
    ("pharmacy", "pharmacies"),
    ("bakery", "bakeries"),
    ("takeaway", "takeaways"),  # vowel + y
    ("chippy", "chippies"),
    ("bookie", "bookies"),  # -ie, not -y
    ("brasserie", "brasseries"),  # French -erie
    ("patisserie", "patisseries"),
    ("smoothie", "smoothies"),
    ("offie", "offies"),
    ("deli", "delis"),  # -i
    ("taxi", "taxis"),
    ("church", "churches"),  # -ch
    ("sandwich", "sandwiches"),
    ("stomach", "stomachs"),  # a "ch" that says k
    ("niche", "niches"),  # -che
    ("crèche", "crèches"),
    ("moustache", "moustaches"),
    ("wash", "washes"),  # -sh
    ("box", "boxes"),  # -x
    ("bus", "buses"),  # -us
    ("campus", "campuses"),
    ("business", "businesses"),  # -ss
    ("glass", "glasses"),
    ("gas", "gases"),  # -as, listed
    ("lens", "lenses"),
    ("house", "houses"),  # -se
    ("steakhouse", "steakhouses"),
    ("licence", "licences"),
    ("course", "courses"),
    ("masseuse", "masseuses"),
    ("franchise", "franchises"),
    ("waltz", "waltzes"),  # -z
    ("quiz", "quizzes"),  # listed
    ("size", "sizes"),
    ("knife", "knives"),  # -fe that becomes -ves, listed
    ("shelf", "shelves"),  # -f that becomes -ves, listed
    ("chef", "chefs"),  # -f that does not
    ("roof", "roofs"),
    ("olive", "olives"),  # -ve
    ("hero", "heroes"),  # -o that takes -es, listed
    ("potato", "potatoes"),
    ("bistro", "bistros"),  # -o that does not
    ("studio", "studios"),
    ("shoe", "shoes"),  # -oe
    ("menu", "menus"),  # -u
    ("analysis", "analyses"),  # Greek -is
    ("person", "people"),  # irregular
    ("salesperson", "salespeople"),  # ... at the end of a longer word
    ("woman", "women"),
    ("chairman", "chairmen"),
    ("midwife", "midwives"),
    ("child", "children"),
    ("mouse", "mice"),
    ("goose", "geese"),
    ("tooth", "teeth"),
    ("human", "humans"),  # no man
    ("off-licence", "off-licences"),  # hyphenated: the last piece
    ("micro-brewery", "micro-breweries"),
    ("chateau", "chateaus"),
]


@pytest.mark.parametrize(("singular", "plural"), PAIRS)
def test_plural_noun_of_each_rule_and_exception(singular: str, plural: str) -> None:
    assert plural_noun(singular) == plural


@pytest.mark.parametrize(("singular", "plural"), PAIRS)
def test_singular_noun_undoes_plural_noun(singular: str, plural: str) -> None:
    assert singular_noun(plural) == singular


@pytest.mark.parametrize(
    "word",
    [
        "fish",  # the same in both numbers
        "sheep",
        "series",
        "species",
        "premises",
        "news",
        "tapas",
        "Chinese",  # a nationality
    ],
)
def test_plural_noun_keeps_words_that_do_not_change(word: str) -> None:
    assert plural_noun(word) == word


@pytest.mark.parametrize(
    "word",
    [
        "pub",  # no -s
        "coffee",
        "bus",  # -us
        "campus",
        "bonus",
        "famous",  # -ous
        "glass",  # -ss
        "business",
        "oasis",  # -sis
        "tennis",  # listed -is
        "gas",  # listed -as
        "canvas",
        "lens",
        "chips",  # as in "fish and chips"
        "premises",  # the same in both numbers
        "series",
        "fish",
        "specimen",  # -men that is no plural of a -man
        "ramen",
        "b&b",  # not a word of letters
        "",
    ],
)
def test_singular_noun_is_none_for_words_that_are_no_plural(word: str) -> None:
    assert singular_noun(word) is None


@pytest.mark.parametrize(
    ("plural", "singular"),
    [
        ("chateaux", "chateau"),  # -eaux
        ("bases", "base"),  # a plural of two singulars: the commoner
        ("axes", "axe"),
        ("cacti", "cactus"),  # Latin
        ("criteria", "criterion"),  # Greek
        ("fishermen", "fisherman"),
        ("salespeople", "salesperson"),
        ("persons", "person"),
    ],
)
def test_singular_noun_of_listed_plurals(plural: str, singular: str) -> None:
    assert singular_noun(plural) == singular


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Pubs", "Pub"),  # capitalised
        ("BREWERIES", "BREWERY"),  # upper case
        ("Off-Licences", "Off-Licence"),
    ],
)
def test_singular_noun_keeps_the_case(word: str, expected: str) -> None:
    assert singular_noun(word) == expected


def test_plural_noun_keeps_the_case() -> None:
    assert (plural_noun("Brewery"), plural_noun("GYM"), plural_noun("")) == ("Breweries", "GYMS", "")
