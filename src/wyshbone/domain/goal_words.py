"""Who a goal wants: the kind of business, singular ("coffee shop"), with its qualifiers ("Italian", "with outdoor
seating") kept apart from it; read from what comes with the verb of finding, or from whom the seller says they sell
to, never from the seller's own business ("We roast coffee in Leeds - find cafes in York" is cafes). And the
qualifiers a person names in a correction, and the assumption that says how each will be checked."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from wyshbone.domain import personas
from wyshbone.domain.goal_text import SEPARATOR, rx
from wyshbone.domain.qualifiers import QUALIFIERS, Qualifier, find_qualifier, qualifier_phrases

__all__ = [
    "qualifier_keys",
    "qualifier_note",
    "read_who",
    "split_seller",
    "strip_fillers",
    "unique",
    "unknown_qualifiers",
]

_I = re.IGNORECASE
# The verb of finding: in "We roast coffee in Leeds - find 30 cafes in York" what comes with it is the target.
_FINDING = (
    r"\b(?:find|get|list|search\s+for|look(?:ing)?\s+for|needs?|wants?|give\s+(?:me|us)|show\s+(?:me|us)"
    r"|source|locate|(?:would|'d|’d)\s+like)\b"
)
_FIRST_PERSON = (
    r"^\W*(?:(?:hi|hello|hey)\b\W*)?(?:i|we|i['’]?m|we['’]?re|i['’]?ve|we['’]?ve|my|our|as\s+an?)\b"
)
# Qualifier wordings that are a kind of their own when they come first ("garden centres", "fish bars").
_NOT_BEFORE_THE_KIND = frozenset(("garden", "fish"))
_SELLING_TO = re.compile(
    # "selling beer to pubs": up to three words of what is sold, then who it is sold to
    r"\b(?:selling|sell|sells|sold|supplying|supply|supplies)\s+(?:[\w'-]+\s+){0,3}?to\s+"
    r"|\b(?:selling|sell|sells|sold|supplying|supply|supplies|serving|who\s+sell\s+to|targeting|target)\s+(?:to\s+)?",
    _I,
)
_LEADS_FOR = re.compile(
    r"^(?:(?:new|more|good|quality|warm|b2b|sales)\s+)*(?:leads?|contacts?|prospects?|customers?|clients?|businesses"
    r"|companies)\s+(?:for|of|from|among|at|in)\s+",
    _I,
)
_PERSONA_STOP = re.compile(
    r"\s(?:for|to|that|who|which|whose|with|so|then|near|in|around|across|within|from|by|on|at|where|please"
    r"|selling|looking|because|if|like|including)\s.*$",
    _I,
)
_LEADING_FILLER = re.compile(
    r"^(?:please|pls|find|get|give|show|list|search|look|looking|locate|source|pull|build|make|compile|generate"
    r"|grab|fetch|collect|gather|discover|identify|i|we|me|us|my|our|need|want|would|like|to|can|could|you"
    r"|for|some|a|an|the|all|any|new|more|of|top|best|good|great|local|nearby|email|call|contact|reach"
    r"|target|prospect|up|at|least|about|around|roughly|approximately|approx|just|only|maybe|i'?d|i'?m|im"
    r"|we'?re|we'?d|do|help|with|list|lead|set|create|into|whole|bunch|load|lots|lot|many|several|out|there"
    r"|are|is|am|be|will|should|must|so|ok|okay|hey|hi|hello|yo|and|then|also|just|them|those|these|it)\b[\s,.:!?-]*",
    _I,
)
_TRAILING_FILLER = re.compile(
    r"[\s,.:!?-]*\b(?:please|pls|leads?|contacts?|prospects?|list|near\s+me|nearby|for\s+me|for\s+us|now|today"
    r"|ones?|businesses|business|owners?|managers?|outlets?|venues?|premises|establishments?|places?|spots?"
    r"|in|at|near|the|a|an|and|or|of|to|for|then)$|[\s,.:!?;-]+$",
    _I,
)
_VAGUE = frozenset(
    ("stuff", "thing", "something", "anything", "everything", "business", "company", "place", "people", "person",
     "customer", "client", "lead", "contact", "prospect", "one", "it", "them", "hello", "hi", "hey", "help", "test",
     "thanks", "thank you", "anyone", "someone", "somebody", "anybody", "whatever", "more", "some", "lot", "list")
)  # fmt: skip


def split_seller(text: str) -> tuple[str, str]:
    """(the seller's words about themselves, the search): "We roast coffee in Leeds - find cafes in York" →
    ("We roast coffee in Leeds - ", "find cafes in York"); ("", text) when the goal starts with the search."""
    verb = rx(_FINDING).search(text)
    if verb is None:
        return "", text
    before = text[: verb.start()]
    if not rx(_FIRST_PERSON).match(before) or not strip_fillers(before):
        return "", text
    return before, text[verb.start() :]


def _persona(text: str, *, has_place: bool, has_volume: bool) -> tuple[str | None, list[str]]:
    """The kind of business, singular ("coffee shop"), and its qualifiers ("italian"); (None, []) when the goal
    names no kind."""
    segment = _persona_words(_persona_segment(text))
    if not segment:
        return None, []
    segment, leading = _leading_qualifiers(segment)
    persona = personas.singularize(segment)
    key = personas.persona_key(persona)
    if not key or key in _VAGUE or not any(ch.isalpha() for ch in key):
        return None, []
    if not (has_place or has_volume or personas.categories_for(persona)):
        return None, []  # "banana": no shape of a goal and no business we know of
    return persona, unique([*leading, *_trailing_qualifiers(text)])


def read_who(text: str, seller: str, *, has_place: bool, has_volume: bool) -> tuple[str | None, list[str]]:
    """The kind and its qualifiers from the search, else from whom the seller says they sell to ("We sell beer
    to pubs; find 20 in Leeds"), never from the seller's own business."""
    persona, qualifiers = _persona(text, has_place=has_place, has_volume=has_volume)
    if persona is None and seller and _SELLING_TO.search(seller):
        return _persona(seller, has_place=has_place, has_volume=has_volume)
    return persona, qualifiers


def _persona_segment(text: str) -> str:
    """The clause naming the business: after "selling to", else after the volume, else the first one."""
    selling = _SELLING_TO.search(text)
    before, _, after = text.rpartition("#")
    for part in (text[selling.end() :], after, before) if selling else (after, before):
        for clause in part.split(SEPARATOR):
            if _persona_words(clause):
                return clause
    return ""


@functools.cache
def _qualifier_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(qualifiers before the kind: "Italian", "family-run"; after it: "with outdoor seating"), built on first use."""
    phrases = [phrase for phrase in qualifier_phrases() if not phrase.startswith("with ")]

    def either(words: Iterable[str]) -> str:
        return "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in words)

    before = either(phrase for phrase in phrases if phrase not in _NOT_BEFORE_THE_KIND)
    leading = re.compile(rf"^(?P<q>{before})(?P<sep>\s*,\s*|\s+(?:and|&)\s+|\s+)(?=\S)", _I)
    trailing = re.compile(
        rf"\b(?:with|that\s+(?:has|have|offers?|serves?)|having|offering|serving)\s+(?:an?\s+|some\s+|good\s+)?"
        rf"(?P<q>{either(phrases)})(?:e?s)?\b",
        _I,
    )
    return leading, trailing


def _leading_qualifiers(words: str) -> tuple[str, list[str]]:
    """Qualifiers before the kind, split off it: "independent, family-run coffee shops" → ("coffee shops",
    ["independent", "family_run"]). "fish and chip shops" and a known kind that is its own ("craft beer shop" is
    still a beer shop) stay whole."""
    leading = _qualifier_patterns()[0]
    keys: list[str] = []
    rest = words
    while (match := leading.match(rest)) is not None:
        remainder = rest[match.end() :]
        listed = match.group("sep").strip() != ""
        qualifier = find_qualifier(match.group("q"))
        if qualifier is None or (listed and leading.match(remainder) is None):
            break
        keys.append(qualifier.key)
        rest = remainder
    if keys and not _same_kind(words, rest):
        return words, []
    return rest, keys


def _same_kind(whole: str, head: str) -> bool:
    """Whether the kind without its qualifier words is still the kind asked ("fish bar" is no "bar")."""
    if not personas.is_known(whole):
        return True
    return personas.categories_for(whole) == personas.categories_for(head)


def _trailing_qualifiers(text: str) -> list[str]:
    """Qualifiers after the kind: "pubs with a beer garden", "restaurants serving Italian food"."""
    trailing = _qualifier_patterns()[1]
    found = (find_qualifier(match.group("q")) for match in trailing.finditer(text))
    return [qualifier.key for qualifier in found if qualifier is not None]


def qualifier_note(qualifier: Qualifier) -> str:
    """The assumption that says a qualifier was read, and how leads will show it."""
    label = qualifier.label
    ones = f"ones with {label}" if " " in label else f"{label} ones"
    if qualifier.chains:
        return f"Looking only for {ones}: known chains are left out."
    shows = [
        what
        for what, present in (
            ("the name", qualifier.name_terms),
            ("a tag", qualifier.osm),
            ("a type", qualifier.places_types),
        )
        if present
    ]
    if not qualifier.verifiable or not shows:
        return f"Looking for {ones}: no source records that, so it is not checked."
    either = f"{', '.join(shows[:-1])} or {shows[-1]}" if len(shows) > 1 else shows[0]
    return f"Looking only for {ones}: kept when {either} shows it."


def _persona_words(clause: str) -> str:
    """The business words of a clause: "me 20 leads for coffee shops with gardens" → "coffee shops"."""
    words = _LEADS_FOR.sub("", strip_fillers(clause))
    return strip_fillers(_PERSONA_STOP.sub("", f" {words} ").strip())


def strip_fillers(segment: str) -> str:
    previous = None
    while previous != segment:
        previous = segment
        segment = _LEADING_FILLER.sub("", segment).strip()
        segment = _TRAILING_FILLER.sub("", segment).strip()
    return segment.strip(" #,.;:!?-'\"")


# --- qualifiers a person names in a correction ----------------------------------------------------------


def qualifier_keys(words: Iterable[str]) -> tuple[list[str], list[str]]:
    """The qualifier keys a person's words name ("Italian", "family-run", "outdoor_seating"), and the unknown."""
    keys: list[str] = []
    unknown: list[str] = []
    for word in words:
        qualifier = QUALIFIERS.get("_".join(word.lower().replace("-", " ").split())) or find_qualifier(word)
        if qualifier is None:
            unknown.append(word)
        elif qualifier.key not in keys:
            keys.append(qualifier.key)
    return keys, unknown


_EXAMPLE_QUALIFIERS = ("italian", "vegan", "craft", "independent", "family_run", "outdoor_seating")


def unknown_qualifiers(words: list[str]) -> str:
    """The problem naming words no qualifier answers to, with some that do."""
    named = ", ".join(f"'{word}'" for word in words)
    known = ", ".join(QUALIFIERS[key].label for key in _EXAMPLE_QUALIFIERS if key in QUALIFIERS)
    plural = "s" if len(words) > 1 else ""
    return f"I don't know the qualifier{plural} {named}: use one I know, e.g. {known}."


def unique(items: Iterable[str]) -> list[str]:
    """``items`` once each, in order."""
    return list(dict.fromkeys(items))
