"""English plurals of the nouns goals name businesses by, both ways: "brewery" ⇄ "breweries", "café" ⇄ "cafés".

A few rules with their exceptions listed, for the kinds of business this product is asked for and the words
around them ("leads", "calls"), not for all of English. It replaces the ``inflect`` package, whose import alone
took over a second of every command's start (and which read "brasseries" as "brassery" and "bus" as "bu").
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["plural_noun", "singular_noun"]

_IRREGULAR: Mapping[str, str] = {
    "person": "people",
    "man": "men",
    "woman": "women",
    "child": "children",
    "foot": "feet",
    "tooth": "teeth",
    "goose": "geese",
    "mouse": "mice",
    "louse": "lice",
    "dormouse": "dormice",
    "ox": "oxen",
    "quiz": "quizzes",
    "whiz": "whizzes",
    "fez": "fezzes",
    "axis": "axes",
    "criterion": "criteria",
    "phenomenon": "phenomena",
    "alumnus": "alumni",
    "stimulus": "stimuli",
    "nucleus": "nuclei",
    "cactus": "cacti",
    "fungus": "fungi",
    # -f and -fe that become -ves (chefs, roofs, cafés and safes do not)
    "knife": "knives",
    "wife": "wives",
    "life": "lives",
    "leaf": "leaves",
    "loaf": "loaves",
    "shelf": "shelves",
    "half": "halves",
    "calf": "calves",
    "wolf": "wolves",
    "thief": "thieves",
    "self": "selves",
    "elf": "elves",
    "sheaf": "sheaves",
    "scarf": "scarves",
    "wharf": "wharves",
    "dwarf": "dwarves",
    "hoof": "hooves",
    # -o that takes -es (bistros, studios and discos do not)
    "hero": "heroes",
    "potato": "potatoes",
    "tomato": "tomatoes",
    "echo": "echoes",
    "volcano": "volcanoes",
    "mosquito": "mosquitoes",
    "domino": "dominoes",
    "torpedo": "torpedoes",
    "veto": "vetoes",
    "embargo": "embargoes",
    "tornado": "tornadoes",
    # Greek -is
    "analysis": "analyses",
    "crisis": "crises",
    "thesis": "theses",
    "oasis": "oases",
    "diagnosis": "diagnoses",
    "basis": "bases",
    "hypothesis": "hypotheses",
    "synopsis": "synopses",
}
"""Singular → plural where no rule below gives it."""

_SINGULAR_OF: Mapping[str, str] = {
    **{plural: singular for singular, plural in _IRREGULAR.items()},
    "persons": "person",
    "axes": "axe",  # more often the tool than the line
    "bases": "base",
    # -s singulars whose plural adds -es
    "gases": "gas",
    "atlases": "atlas",
    "canvases": "canvas",
    "aliases": "alias",
    "biases": "bias",
    "lenses": "lens",
    "irises": "iris",
    "pluses": "plus",
}
"""Plural → singular where no rule below gives it."""

_COMPOUND_PLURALS: Mapping[str, str] = {
    singular: _IRREGULAR[singular] for singular in ("woman", "man", "person", "child", "wife", "knife")
}
"""Irregular nouns that end longer ones the same way: "chairman" → "chairmen", "midwife" → "midwives"."""
_COMPOUND_SINGULARS: Mapping[str, str] = {plural: singular for singular, plural in _COMPOUND_PLURALS.items()}

_NOT_MAN = frozenset(
    ("human", "german", "roman", "norman", "shaman", "talisman", "caiman", "cayman", "ottoman", "doberman",
     "pullman", "walkman")
)  # fmt: skip
"""Words ending in "man" that are no man."""

_NOT_MEN = frozenset(
    ("specimen", "omen", "amen", "stamen", "regimen", "abdomen", "hymen", "lumen", "semen", "ramen", "yemen",
     "acumen", "albumen", "bitumen", "dolmen", "germen", "cognomen")
)  # fmt: skip
"""Words ending in "men" that are no plural of a "man"."""

_UNCHANGING = frozenset(
    ("sheep", "fish", "deer", "moose", "series", "species", "aircraft", "spacecraft", "hovercraft", "salmon",
     "trout", "cod", "bison", "offspring", "swine", "news", "premises", "means", "headquarters", "crossroads",
     "barracks", "gallows", "chassis", "tapas")
)  # fmt: skip
"""The same in both numbers: "a fish" and "three fish", "business premises"."""

_NOT_PLURAL = frozenset(
    ("chips", "electronics", "athletics", "gymnastics", "aerobics", "logistics", "physics", "mathematics",
     "economics", "politics", "tennis", "axis", "iris", "trellis", "pelvis", "ibis", "penis", "metropolis",
     "cannabis", "debris", "mantis", "clematis", "marquis", "chaos", "cosmos", "ethos", "pathos", "kudos",
     "thermos", "asbestos", "gas", "canvas", "atlas", "bias", "alias", "christmas", "pampas", "lens", "is", "was",
     "has", "his", "its", "this", "thus", "yes", "us", "as", "does", "goes", "plus", "less", "across",
     "always", "perhaps", "whereas", "besides", "towards", "afterwards", "hers", "ours", "yours", "theirs")
)  # fmt: skip
"""Words ending in "s" that are singular (or no noun), "chips" among them for "fish and chips"."""

_U_NOUNS = frozenset(
    ("menu", "guru", "emu", "tofu", "haiku", "gnu", "tutu", "bayou", "caribou", "sudoku", "tiramisu", "jujitsu",
     "kudzu", "bijou", "zebu", "snafu", "impromptu")
)  # fmt: skip
"""Nouns ending in "u" whose plural ends in "us" like a singular: "menus"."""

_IE_NOUNS = frozenset(
    ("movie", "cookie", "pie", "tie", "lie", "die", "brownie", "calorie", "zombie", "rookie", "hoodie", "selfie",
     "foodie", "goalie", "veggie", "bookie", "smoothie", "auntie", "budgie", "genie", "prairie", "sortie",
     "birdie", "techie", "newbie", "junkie", "freebie", "hippie", "yuppie", "indie", "oldie", "roomie", "beanie",
     "cabbie", "collie", "pixie", "magpie", "offie", "sarnie", "bestie", "eyrie", "lingerie", "menagerie",
     "reverie", "coterie", "camaraderie", "brasserie", "patisserie", "pâtisserie", "boulangerie", "creperie",
     "crêperie", "rotisserie", "charcuterie", "fromagerie", "boucherie", "chocolaterie", "parfumerie",
     "confiserie", "poissonnerie", "sandwicherie", "saladerie", "friterie", "biscuiterie")
)  # fmt: skip
"""Nouns ending in "ie" whose plural "ies" is not a "y" word's: "bookies", "brasseries"."""

_CHE_NOUNS = frozenset(
    ("niche", "quiche", "cache", "creche", "crèche", "headache", "toothache", "earache", "backache", "moustache",
     "mustache", "avalanche", "brioche", "fiche", "microfiche", "psyche", "attache", "douche", "cloche",
     "gouache", "pastiche", "panache")
)  # fmt: skip
"""Nouns ending in "che" (a "ches" plural is otherwise a "ch" word's: "churches")."""

_OE_NOUNS = frozenset(
    ("shoe", "toe", "canoe", "hoe", "oboe", "foe", "floe", "sloe", "doe", "roe", "woe", "aloe", "tiptoe",
     "horseshoe", "snowshoe", "mistletoe", "throe")
)  # fmt: skip
"""Nouns ending in "oe" (an "oes" plural is otherwise an "o" word's: "heroes")."""

_USE_NOUNS = frozenset(("use", "fuse", "muse", "excuse", "abuse", "refuse", "ruse", "recluse", "cruse"))
"""Nouns ending in "use" besides the "-ouse", "-ause" and "-euse" ones ("houses", "causes", "masseuses"): a
"uses" plural is otherwise an "us" word's ("buses")."""

_HARD_CH = frozenset(
    ("stomach", "monarch", "epoch", "tech", "loch", "patriarch", "matriarch", "eunuch", "czech", "oligarch")
)
"""Nouns whose "ch" says k: they take a plain "s"."""


def plural_noun(word: str) -> str:
    """The plural of a singular noun: "brewery" → "breweries", "church" → "churches", "café" → "cafés";
    a hyphenated word changes its last piece ("off-licence" → "off-licences"). Case is kept."""
    if not word:
        return word
    head, hyphen, last = word.rpartition("-")
    return f"{head}{hyphen}{_same_case(last, _plural(last.lower()))}"


def singular_noun(word: str) -> str | None:
    """The singular of a plural noun ("breweries" → "brewery", "delis" → "deli"); None when ``word`` does not
    read as a plural ("bus", "premises", "coffee"). A hyphenated word changes its last piece. Case is kept."""
    head, hyphen, last = word.rpartition("-")
    singular = _singular(last.lower())
    if singular is None:
        return None
    return f"{head}{hyphen}{_same_case(last, singular)}"


def _plural(word: str) -> str:
    if not word.isalpha():
        return f"{word}s"
    if word in _UNCHANGING or (word.endswith("ese") and word != "cheese"):  # "Chinese", "Lebanese"
        return word
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    return _compound(word, _COMPOUND_PLURALS) or _regular_plural(word)


def _regular_plural(word: str) -> str:
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return f"{word[:-1]}ies"
    if word.endswith("ch") and word in _HARD_CH:
        return f"{word}s"
    if word.endswith("sis"):
        return f"{word[:-2]}es"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return f"{word}es"
    return f"{word}s"


def _singular(word: str) -> str | None:
    if word in _SINGULAR_OF:
        return _SINGULAR_OF[word]
    compound = _compound(word, _COMPOUND_SINGULARS)
    if compound is not None:
        return compound
    if word.endswith("eaux"):  # "chateaux", "bureaux"
        return word[:-1]
    if not word.isalpha() or not word.endswith("s") or word in _UNCHANGING or word in _NOT_PLURAL:
        return None
    return _regular_singular(word)


def _regular_singular(word: str) -> str | None:
    """``word`` less its plural ending, by the ending's letters and the lists of exceptions."""
    if word.endswith(("ss", "sis")):
        return None
    if word.endswith("us"):
        return word[:-1] if word[:-1] in _U_NOUNS or word.endswith("eaus") else None
    if word.endswith("ies"):
        return word[:-1] if word[:-1] in _IE_NOUNS else f"{word[:-3]}y"
    if word.endswith("ves"):
        return word[:-1]  # the -f and -fe ones are listed: "olives", "groves"
    if word.endswith("oes"):
        return word[:-1] if word[:-1] in _OE_NOUNS else word[:-2]
    if word.endswith("es"):
        return _without_es(word)
    return word[:-1]


def _without_es(word: str) -> str:
    """ "churches" → "church", "boxes" → "box", "buses" → "bus", "houses" → "house", "licences" → "licence"."""
    stem = word[:-2]
    if stem.endswith("ch"):
        return word[:-1] if word[:-1] in _CHE_NOUNS else stem
    if stem.endswith(("sh", "x", "ss", "zz", "tz")):
        return stem
    if stem.endswith("us") and not stem.endswith(("ous", "aus", "eus")) and word[:-1] not in _USE_NOUNS:
        return stem
    return word[:-1]


def _compound(word: str, changes: Mapping[str, str]) -> str | None:
    """``word`` changed as the irregular noun it ends with changes: "chairmen" → "chairman"; None when none."""
    if word in _NOT_MAN or word in _NOT_MEN:
        return None
    ending = next((e for e in sorted(changes, key=len, reverse=True) if word.endswith(e)), None)
    return None if ending is None else word[: -len(ending)] + changes[ending]


def _same_case(written: str, word: str) -> str:
    if len(written) > 1 and written.isupper():
        return word.upper()
    if written[:1].isupper():
        return word[:1].upper() + word[1:]
    return word
