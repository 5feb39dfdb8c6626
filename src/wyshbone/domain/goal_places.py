"""Where a goal searches: the place it names ("in Leeds", "LS6", "Paris, France", "the LS postcode area", a
misspelt "Manchster"), else the seller's own town or the user's default region; how far outside it leads may come
from ("near", "around"); and the assumptions and problems that reading leaves ("Assumed country GB")."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Literal, NamedTuple

from wyshbone.domain.gazetteer import Gazetteer, Place, WorldCity, place_key
from wyshbone.domain.goal_text import SEPARATOR, Notes, rx
from wyshbone.domain.models import LeadGenContext, RegionKind, RegionMatch

__all__ = ["NO_PLACE", "NO_PLACE_NEAR_ME", "GoalPlace", "read_where"]

NO_PLACE = "I couldn't tell where: add a town or region (e.g. 'in Leeds')."
NO_PLACE_NEAR_ME = "Where should I look? Add a town, county or postcode."
"""The problem when the goal says "near me", "nearby" or "local" and no default region says where that is."""
_MAX_PLACE_WORDS = 6
_MAX_MISSPELT_TRIES = 3
# How far a place reading may reach: "gb" places only (a bare capitalised word), "home" (GB, or abroad when
# the country is named or is the user's own), "world" (any city on earth, the largest of its name).
_Scope = Literal["gb", "home", "world"]
_NEAR_ME = (
    r"\b(?:near|around|close\s+to|round)\s+(?:me|us|here)\b|\bnearby\b|\blocal(?:ly)?\b"
    r"|\b(?:in|around)\s+(?:my|our)\s+(?:area|town|city)\b"
)
_NEARBY = r"\bnearby\b|\bsurrounding\b|\boutskirts\b|\b(?:and|or)\s+(?:around|near(?:by)?|close\s+to)\b"
_NEAR_PREPOSITIONS = frozenset(("near", "nr", "around", "round", "close to", "next to", "outside"))
"""Prepositions that let leads come from just outside the place ("around Bristol")."""
_AREA_PREPOSITION = r"(?:\b(?:in|near|around|across|throughout|within|covering)\s+)?(?:the\s+)?"
_POSTCODE_AREA = (
    rf"{_AREA_PREPOSITION}\b(?P<letters>(?!(?:in|an|at|of|to|on|by|or|my|no)\b)[a-z]{{1,2}})\s+postcode\s+area\b"
    rf"|{_AREA_PREPOSITION}\bpostcode\s+area\s+(?:of\s+)?(?P<after>[a-z]{{1,2}})\b"
)
# Words after "in" that name no place and must not be read as one, even as a misspelling ("in town" ≠ Towyn;
# "within 15 miles we could sell to" ≠ Huế).
_NOT_PLACES = frozenset(
    ("least", "most", "me", "us", "we", "you", "i", "they", "them", "it", "here", "there", "town", "the town", "city", "the city", "area", "the area",
     "my area", "our area", "this area", "my town", "our town", "my city", "our city", "home", "house", "work",
     "office", "bulk", "stock", "total", "person", "general", "particular", "detail", "full", "time", "order",
     "store", "touch", "advance", "mind", "future", "case", "print", "region", "county", "country", "village",
     "centre", "center", "world", "the world", "the uk", "the country")
)  # fmt: skip
_TOKEN = re.compile(r"[,;]|[^\s,;]+")
_PREPOSITIONS = frozenset(
    ("in", "near", "nr", "around", "across", "throughout", "within", "covering", "at", "from", "round", "outside",
     "inside", "serving")
)  # fmt: skip
_TWO_WORD_PREPOSITIONS = frozenset((("close", "to"), ("next", "to"), ("all", "over"), ("based", "in")))
# Places that are a nation or more: naming them names the country too.
_COUNTRY_WIDE = frozenset(
    ("United Kingdom", "Great Britain", "England", "Scotland", "Wales", "Northern Ireland")
)
_CONJUNCTIONS = frozenset(("and", "&", ",", "or", "plus"))


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class _Found:
    """A place found in the goal: the match, how it was written, and where it sits in the text."""

    source: Place | WorldCity
    written: str
    country: str
    country_named: bool
    start: int
    end: int
    note: str | None = None
    preposition: str = ""
    """The word(s) before the place ("in", "near", "close to"), lower case; "" when none."""

    @property
    def near(self) -> bool:
        return self.preposition in _NEAR_PREPOSITIONS


class GoalPlace(NamedTuple):
    """Where to search, as read from the goal."""

    region: RegionMatch | None
    nearby: bool
    """The wording lets leads come from just outside (see ``LeadGenGoal.nearby_allowed``)."""
    named: bool
    """A place (or "near me") was named: the goal has a goal's shape even when the kind is unknown."""
    rest: str
    """The goal's text with the place cut out (a separator where it was)."""


def read_where(
    text: str,
    seller: str,
    gazetteer: Gazetteer,
    context: LeadGenContext | None,
    radius_km: float | None,
    notes: Notes,
) -> GoalPlace:
    """The place to search, how far outside it leads may come from, and the text with the place cut out."""
    default_country = (context.default_country if context else "GB").upper()
    near_me = rx(_NEAR_ME).search(text) is not None
    found = _find_place(text, gazetteer, default_country)
    if isinstance(found, str):
        notes.problems.append(found)
        return GoalPlace(region=None, nearby=False, named=True, rest=text)
    rest, after, named = text, "", found is not None
    if found is not None:
        rest, after = f"{text[: found.start]} {SEPARATOR} {text[found.end :]}", text[found.end :]
    elif seller:
        found = _sellers_place(seller, gazetteer, default_country)
    region = _region(found, gazetteer, context, radius_km, (rest, after), notes, near_me=near_me)
    # "near me" says how far only when no place is named: "local pubs in Leeds" are pubs in Leeds.
    nearby = (
        radius_km is not None
        or (found.near if named and found is not None else near_me)
        or rx(_NEARBY).search(text) is not None
    )
    return GoalPlace(region=region, nearby=region is not None and nearby, named=named or near_me, rest=rest)


def _sellers_place(seller: str, gazetteer: Gazetteer, default_country: str) -> _Found | None:
    """The seller's own town, when the search names no place: "I run a brewery in Leeds and want pubs"."""
    found = _find_place(seller, gazetteer, default_country)
    if not isinstance(found, _Found):
        return None
    note = f"No place given for the search: looked in {found.source.name}, where you said you are."
    return replace(found, start=0, end=0, note=note, preposition="")


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _is_preposition(tokens: list[_Token], i: int) -> bool:
    word = tokens[i].text.lower()
    if word in _PREPOSITIONS:
        return True
    return i > 0 and (tokens[i - 1].text.lower(), word) in _TWO_WORD_PREPOSITIONS


def _find_place(text: str, gazetteer: Gazetteer, default_country: str) -> _Found | str | None:
    """The place the goal names, most trusted reading first; a problem (str) when a misspelling is ambiguous.

    A postcode area said to be one; a GB place (or a city whose country is named) after "in"/"near"...; a
    capitalised GB place anywhere ("Manchester coffee shops"); and only then any city in the world ("in central
    Leeds" is Leeds, not Central, Louisiana) or a misspelt GB place, whichever reads more of the words.
    """
    tokens = _tokens(text)
    exact = (
        _postcode_area(text, gazetteer)
        or _after_preposition(tokens, gazetteer, default_country, "home")
        or _capitalised(tokens, gazetteer)
    )
    if exact is not None:
        return exact
    world = _after_preposition(tokens, gazetteer, default_country, "world")
    guess = _misspelt_place(tokens, gazetteer)
    if world is None:
        return guess
    # "the Peak Distrct" is the Peak District misspelt, not The Peak (Hong Kong) and a stray word.
    reads_more = isinstance(guess, _Found) and guess.start <= world.start and guess.end > world.end
    return guess if reads_more else world


def _postcode_area(text: str, gazetteer: Gazetteer) -> _Found | None:
    """A postcode area, only where the goal says so: "in the LS postcode area" (a bare "LS" or "M" is no place)."""
    match = rx(_POSTCODE_AREA).search(text)
    if match is None:
        return None
    written = match.group("letters") or match.group("after")
    area = gazetteer.find_postcode_area(written)
    if area is None:
        return None
    preposition = match.group(0).split()[0].lower()
    return _Found(area, written, "GB", False, match.start(), match.end(), preposition=preposition)


def _preposition_at(tokens: list[_Token], i: int) -> tuple[int, str]:
    """Where the preposition at ``i`` starts, and its words ("close to" starts a word earlier)."""
    word = tokens[i].text.lower()
    if i > 0 and (tokens[i - 1].text.lower(), word) in _TWO_WORD_PREPOSITIONS:
        return tokens[i - 1].start, f"{tokens[i - 1].text.lower()} {word}"
    return tokens[i].start, word


def _place_positions(tokens: list[_Token]) -> Iterator[tuple[int, list[_Token]]]:
    """Each preposition ("in", "near"...) with the words after it where a place would be written."""
    for i in range(len(tokens)):
        if not _is_preposition(tokens, i) or tokens[i].text.lower() in ("at", "about", "from"):
            continue
        words: list[_Token] = []
        for token in tokens[i + 1 : i + 1 + 4]:
            lowered = token.text.lower()
            if (
                token.text in (",", SEPARATOR)
                or lowered in _CONJUNCTIONS
                or lowered in ("for", "to", "by", "with")
            ):
                break
            words.append(token)
        if words:
            yield i, words


def _misspelt_place(tokens: list[_Token], gazetteer: Gazetteer) -> _Found | str | None:
    """A misspelt place after "in", "near"...: the one clearly closest, or a problem naming the two closest."""
    # A few places at most: a pasted paragraph must not cost a fuzzy search per "in".
    for i, words in itertools.islice(_place_positions(tokens), _MAX_MISSPELT_TRIES):
        for end in range(len(words), 0, -1):
            written = " ".join(w.text for w in words[:end]).strip(".!?")
            if written[:1].isdigit() or place_key(written) in _NOT_PLACES:
                continue
            closest = gazetteer.closest_places(written)
            if len(closest) > 1:
                return (
                    f"'{written}' is not a place I know. Did you mean {closest[0].name} or {closest[1].name}?"
                )
            if closest:
                start, preposition = _preposition_at(tokens, i)
                note = f"Read '{written}' as {closest[0].name}."
                return _Found(closest[0], written, "GB", False, start, words[end - 1].end, note, preposition)
    return None


def _after_preposition(
    tokens: list[_Token], gazetteer: Gazetteer, default_country: str, scope: _Scope
) -> _Found | None:
    for i in range(len(tokens)):
        if not _is_preposition(tokens, i):
            continue
        found = _longest_place(tokens, i + 1, gazetteer, default_country, scope)
        if found is not None:
            start, preposition = _preposition_at(tokens, i)
            return replace(found, start=start, preposition=preposition)
    return None


def _capitalised(tokens: list[_Token], gazetteer: Gazetteer) -> _Found | None:
    for i, token in enumerate(tokens):
        if not token.text[:1].isupper() or len(token.text) < 2:
            continue
        found = _longest_place(tokens, i, gazetteer, "GB", "gb")
        # "New York" holds "York": a GB name inside a longer name abroad is not that GB place.
        inside = (
            i > 0 and gazetteer.find_world_city(f"{tokens[i - 1].text} {found.written}") if found else None
        )
        if found is not None and not inside:
            return found
    return None


def _longest_place(
    tokens: list[_Token], start: int, gazetteer: Gazetteer, default_country: str, scope: _Scope
) -> _Found | None:
    """The longest run of words from ``start`` naming a place (a ";" ends the run)."""
    stop = start
    while stop < len(tokens) and tokens[stop].text != SEPARATOR and stop - start < _MAX_PLACE_WORDS + 2:
        stop += 1
    for end in range(stop, start, -1):
        words = tokens[start:end]
        if words[-1].text == "," or words[0].text == ",":
            continue
        written = " ".join(w.text for w in words).replace(" ,", ",")
        if place_key(written) in _NOT_PLACES:
            continue
        resolved = _resolve(words, gazetteer, default_country, scope)
        if resolved is not None:
            source, country, named, note = resolved
            return _Found(source, written, country, named, words[0].start, words[-1].end, note)
    return None


_Resolved = tuple[Place | WorldCity, str, bool, str | None]


def _resolve(
    words: list[_Token], gazetteer: Gazetteer, default_country: str, scope: _Scope
) -> _Resolved | None:
    """A run of words as a place: "Leeds", "LS6 2AB", "madrid, spain", "Paris France", "Newport, Wales"."""
    texts = [w.text for w in words]
    plain = _plain(" ".join(texts), gazetteer, default_country, scope)
    if plain is not None or scope == "gb":
        return plain
    if "," in texts:
        cut = len(texts) - 1 - texts[::-1].index(",")
        return _qualified(" ".join(texts[:cut]), " ".join(texts[cut + 1 :]), gazetteer)
    for cut in range(len(texts) - 1, 0, -1):
        country = gazetteer.find_country(" ".join(texts[cut:]), codes=False)
        if country is not None:
            return _in_country(" ".join(texts[:cut]), country, gazetteer)
    return None


def _plain(phrase: str, gazetteer: Gazetteer, default_country: str, scope: _Scope) -> _Resolved | None:
    """A phrase with no country named: a postcode district, a GB place, or (by scope) a city abroad."""
    district = gazetteer.find_postcode_district(phrase)
    if district is not None:
        compact = re.sub(r"\s+", "", phrase).upper()
        note = (
            None if compact == district.name else f"Used the postcode district {district.name} for {phrase}."
        )
        return district, "GB", False, note
    if scope != "gb" and default_country != "GB":
        city = gazetteer.find_world_city(phrase, country=default_country)
        if city is not None:
            return city, city.country, False, None
    place = gazetteer.find_place(phrase)
    if place is not None and not (scope == "gb" and _is_small_town(place)):
        return place, "GB", False, None
    city = gazetteer.find_world_city(phrase) if scope == "world" else None
    return (city, city.country, False, None) if city is not None else None


def _is_small_town(place: Place) -> bool:
    """Too small to trust as a capitalised word with no "in" before it ("Street", "Sale" is big enough)."""
    return place.kind is RegionKind.TOWN and (place.population or 0) < 10_000


def _qualified(phrase: str, qualifier: str, gazetteer: Gazetteer) -> _Resolved | None:
    """ "Paris, France", "Newport, Wales", "Richmond, North Yorkshire", "Paris, TX"."""
    if not phrase or not qualifier:
        return None
    within = gazetteer.find_place(phrase, within=qualifier)
    if within is not None:
        return within, "GB", True, None
    country = gazetteer.find_country(qualifier)
    if country is not None:
        return _in_country(phrase, country, gazetteer)
    subdivision = gazetteer.find_subdivision(qualifier)
    if subdivision is not None:
        city = gazetteer.find_world_city(phrase, country=subdivision[0], subdivision=subdivision[1])
        return (city, city.country, True, None) if city is not None else None
    return None


def _in_country(phrase: str, country: str, gazetteer: Gazetteer) -> _Resolved | None:
    if country == "GB":
        place = gazetteer.find_place(phrase) or gazetteer.find_postcode_district(phrase)
        return (place, "GB", True, None) if place is not None else None
    city = gazetteer.find_world_city(phrase, country=country)
    return (city, country, True, None) if city is not None else None


def _region(
    found: _Found | None,
    gazetteer: Gazetteer,
    context: LeadGenContext | None,
    radius_km: float | None,
    texts: tuple[str, str],
    notes: Notes,
    *,
    near_me: bool = False,
) -> RegionMatch | None:
    """The region match, with assumptions about country and default region, or a problem.

    ``texts`` is (the goal's text with no place found, the text right after the place found).
    """
    rest, after = texts
    if found is None:
        found = _default_region(rest, gazetteer, context, notes, near_me=near_me)
        if found is None:
            return None
    if found.note:
        notes.assumptions.append(found.note)
    match = _to_match(found.source, radius_km, notes)
    if not found.country_named and match.name not in _COUNTRY_WIDE:
        notes.assumptions.append(_country_assumption(found, match, gazetteer, context))
    _note_second_place(after, found, gazetteer, notes)
    return match


def _to_match(source: Place | WorldCity, radius_km: float | None, notes: Notes) -> RegionMatch:
    radius_kinds = (RegionKind.TOWN, RegionKind.AREA, RegionKind.POSTCODE_DISTRICT)
    if radius_km is None or isinstance(source, WorldCity) or source.kind in radius_kinds:
        return source.to_region_match(radius_km=radius_km)
    notes.assumptions.append(
        f"A radius applies to towns and postcode districts: searched all of {source.name} instead."
    )
    return source.to_region_match()


def _country_assumption(
    found: _Found, match: RegionMatch, gazetteer: Gazetteer, context: LeadGenContext | None
) -> str:
    country = f"{match.country} ({gazetteer.country_name(match.country)})"
    default_country = (context.default_country if context else "GB").upper()
    if isinstance(found.source, WorldCity) and match.country != default_country:
        return f"Read '{found.written}' as {match.name}, {country}: the largest place of that name."
    return f"Assumed country {country}."


def _default_region(
    rest: str, gazetteer: Gazetteer, context: LeadGenContext | None, notes: Notes, *, near_me: bool
) -> _Found | None:
    """The user's default region when the goal names no place; else a problem saying what to add."""
    unknown = _unknown_place(rest)
    if unknown is not None:
        notes.problems.append(_unknown_place_problem(unknown, gazetteer))
        return None
    default = context.default_region if context else None
    if not default:
        notes.problems.append(NO_PLACE_NEAR_ME if near_me else NO_PLACE)
        return None
    tokens = _tokens(default)
    found = _longest_place(
        tokens, 0, gazetteer, (context.default_country if context else "GB").upper(), "world"
    )
    if found is None or found.end < len(default.rstrip()):
        notes.problems.append(f"No place given, and your default region '{default}' is not a place I know.")
        return None
    notes.assumptions.append(f"No place given: used your default region, {found.source.name}.")
    return _Found(found.source, found.written, found.country, found.country_named, 0, 0, found.note)


def _unknown_place_problem(unknown: str, gazetteer: Gazetteer) -> str:
    country = gazetteer.find_country(unknown, codes=False)
    if country is not None and country != "GB":
        name = gazetteer.country_name(country)
        return f"'{unknown}' is a whole country: name a city in it, e.g. 'in <city>, {name}'."
    area = gazetteer.find_postcode_area(unknown) if len(unknown) <= 2 else None
    if area is not None:
        letters = unknown.upper()
        return (
            f"'{unknown}' reads as a postcode area: say 'in the {letters} postcode area' to search all of it,"
            f" or name a district such as {area.field_values[0]}."
        )
    return f"I couldn't tell where '{unknown}' is: add a town or region (e.g. 'in Leeds')."


def _unknown_place(text: str) -> str | None:
    """Words after a place preposition that name no known place ("in Narnia" → "Narnia"), if any."""
    for _, words in _place_positions(_tokens(text)):
        candidate = " ".join(w.text for w in words).strip(".!?")
        if candidate and not candidate[:1].isdigit() and place_key(candidate) not in _NOT_PLACES:
            return candidate
    return None


def _note_second_place(after: str, found: _Found, gazetteer: Gazetteer, notes: Notes) -> None:
    """One place per goal: say so when the goal names a second one ("in Leeds and York")."""
    tokens = _tokens(after)
    if len(tokens) < 2 or tokens[0].text.lower() not in _CONJUNCTIONS:
        return
    second = _longest_place(tokens, 1, gazetteer, found.country, "home")
    if second is not None:
        notes.assumptions.append(
            f"One place per goal: searched {found.source.name} only; run another goal for {second.source.name}."
        )
