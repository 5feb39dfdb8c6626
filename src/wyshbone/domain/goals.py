"""Reads a goal in plain words into a ``LeadGenGoal``, saying what it assumed and what stops planning.

Pure: the gazetteer is passed in, nothing is read from disk or the clock. Entry point: ``parse_goal``.
The target is what comes with the verb of finding ("We roast coffee in Leeds - find cafes in York" is cafes in
York); qualifiers ("Italian", "vegan") are kept apart from the kind; refusals ("no emails") win over requests.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple

from text_to_num import alpha2digit

from wyshbone.domain import monitors, personas
from wyshbone.domain.gazetteer import Gazetteer, Place, WorldCity, place_key
from wyshbone.domain.models import (
    GoalOverrides,
    LeadGenContext,
    LeadGenGoal,
    ParsedGoal,
    RegionKind,
    RegionMatch,
)
from wyshbone.domain.qualifiers import QUALIFIERS, Qualifier, find_qualifier, qualifier_phrases

__all__ = [
    "DEFAULT_CADENCE",
    "DEFAULT_VOLUME",
    "MAX_GOAL_CHARS",
    "MAX_VOLUME",
    "apply_overrides",
    "parse_goal",
]

DEFAULT_VOLUME = 20
MAX_VOLUME = 1000
"""The most leads one plan gathers unless a caller passes another cap (``WYSHBONE_MAX_VOLUME``)."""
"""The most leads one plan gathers: a larger ask is clamped to this, with an assumption saying so."""
DEFAULT_CADENCE = monitors.DEFAULT_CADENCE.value
MAX_GOAL_CHARS = 1000
_MAX_PLACE_WORDS = 6
_MAX_MISSPELT_TRIES = 3
_MAX_RADIUS_KM = 200.0

EMPTY_GOAL = "The goal is empty: say what to find and where, e.g. 'Find 20 coffee shops in Manchester'."
NO_PERSONA = "I couldn't tell what kind of business to look for: say e.g. 'coffee shops'."
NO_PLACE = "I couldn't tell where: add a town or region (e.g. 'in Leeds')."
NO_PLACE_NEAR_ME = "Where should I look? Add a town, county or postcode."
"""The problem when the goal says "near me", "nearby" or "local" and no default region says where that is."""

_I = re.IGNORECASE
# How far a place reading may reach: "gb" places only (a bare capitalised word), "home" (GB, or abroad when
# the country is named or is the user's own), "world" (any city on earth, the largest of its name).
_Scope = Literal["gb", "home", "world"]
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_FEW = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|a\s+couple\s+of|a\s+few)"
_TIMING = re.compile(
    rf"""\b(?:this|next)\s+(?:week(?:end)?|month|year|quarter)\b
    | \b(?:today|tomorrow|tonight)\b
    | \basap\b | \ba\.s\.a\.p\b\.? | \bas\s+soon\s+as\s+possible\b | \burgent(?:ly)?\b | \bright\s+away\b
    | \bimmediately\b
    | \b(?:by|before|until)\s+(?:the\s+)?(?:end\s+of\s+(?:the\s+)?(?:day|week|month|year)|eod|eow
        |(?:this\s+|next\s+)?{_DAY}|tomorrow|tonight|next\s+(?:week|month)
        |\d{{1,2}}(?:st|nd|rd|th)?(?:\s+(?:of\s+)?{_MONTH})?|{_MONTH}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?)\b
    | \b(?:within|in|over)\s+(?:the\s+)?(?:next\s+)?{_FEW}\s+(?:days?|weeks?|hours?|months?)\b
    | \b{_FEW}\s+(?:days?|weeks?|months?)\s+from\s+now\b
    | \bend\s+of\s+(?:the\s+)?(?:day|week|month)\b""",
    _I | re.VERBOSE,
)
_EMAIL = re.compile(r"\be-?mail|\bmail\s?shot", _I)
_PHONE = re.compile(
    r"\bcold[- ]?call|\b(?:call|phone|ring|telephone)\s+(?:them|round)\b|\bgive\s+them\s+a\s+(?:call|ring)\b"
    r"|\b(?:by|over\s+the|via)\s+(?:tele)?phone\b",
    _I,
)
_LEAD_IN = r"(?:,?\s*\b(?:and|then|also|so\s+(?:that\s+)?(?:i|we)\s+can|to)\s+)?"
_CLAUSES = [
    re.compile(p, _I)
    for p in (
        # outreach: "and email them", "for an email campaign", "set up an email sequence", "reach out by email"
        _LEAD_IN + r"\bset\s+up\s+(?:an?\s+)?(?:cold\s+)?e-?mail\s+(?:sequence|campaign|outreach|drip)\b",
        _LEAD_IN
        + r"\b(?:cold\s+)?(?:e-?mail(?:ing)?|call|phone|ring|contact|message)\s+(?:them|each|all\s+of\s+them)"
        r"(?:\s+all)?\b",
        _LEAD_IN
        + r"\breach\s+out(?:\s+to\s+them)?(?:\s+(?:by|via|over|through|with)\s+(?:e-?mail|(?:tele)?phone))?",
        _LEAD_IN
        + r"\b(?:send|draft|write)\s+(?:them\s+)?(?:an?\s+)?(?:cold\s+)?e-?mails?\b(?:\s+to\s+them)?",
        r"\b(?:for|with|in|via|by|over|as\s+part\s+of)\s+(?:an?\s+|my\s+|our\s+|the\s+)?(?:cold\s+)?e-?mail(?:ing)?"
        r"(?:\s+(?:campaign|sequence|outreach|blast|drip))?\b",
        r"\b(?:cold\s+)?e-?mail\s+(?:campaign|sequence|outreach)\b",
        _LEAD_IN + r"\b(?:cold[- ]?call\w*|give\s+them\s+a\s+(?:call|ring)|ring\s+round)\b(?:\s+them)?",
        r"\b(?:by|over\s+the|via)\s+(?:tele)?phone\b",
        # monitoring: "keep watching for new ones", "alert me weekly", "monitor for new ones every month"
        _LEAD_IN + r"\bkeep\s+(?:an\s+eye\s+out|an\s+eye|watching|looking|checking|monitoring|tabs)"
        r"(?:\s+(?:out\s+)?(?:for|on))?(?:\s+(?:any\s+)?new\s+(?:ones?|\w+)|\s+them)?",
        _LEAD_IN
        + r"\b(?:alert|notify|ping|update)\s+(?:me|us)\b(?:\s+(?:when|if|about|of)\s+(?:there\s+are\s+)?"
        r"(?:any\s+)?new\s+(?:ones?|\w+)(?:\s+(?:open|appear|show\s+up|turn\s+up))?)?",
        _LEAD_IN
        + r"\blet\s+(?:me|us)\s+know\s+(?:when|if|about)\s+(?:there\s+are\s+)?(?:any\s+)?new\s+(?:ones?|\w+)"
        r"(?:\s+(?:open|appear|show\s+up|turn\s+up))?",
        _LEAD_IN + r"\bmonitor(?:ing)?\b(?:\s+(?:them|for|the\s+area\s+for))?(?:\s+(?:any\s+)?new\s+ones?)?",
        _LEAD_IN + r"\b(?:watch|look)\s+(?:out\s+)?for\s+(?:any\s+)?new\s+ones?\b",
        r"\b(?:every|each|once\s+a|once\s+per|per)\s+(?:day|morning|night|evening|week|month|fortnight)\b"
        r"|\b(?:daily|nightly|weekly|monthly|fortnightly|biweekly)\b(?:\s+(?:updates?|alerts?|digests?|checks?))?",
        r"\bevery\s+(?:two|2)\s+weeks\b",
    )
]
_MONITOR = re.compile(
    r"\bkeep\s+(?:an\s+eye|watching|looking|checking|monitoring|tabs)|\b(?:alert|notify|ping|update)\s+(?:me|us)\b"
    r"|\blet\s+(?:me|us)\s+know\b|\bmonitor|\b(?:watch|look)\s+(?:out\s+)?for\s+(?:any\s+)?new\b|\bnew\s+ones\b"
    r"|\bongoing\b",
    _I,
)
_CADENCES = (
    (
        "daily",
        re.compile(r"\b(?:daily|nightly|(?:every|each|once\s+a|per)\s+(?:day|morning|night|evening))\b", _I),
    ),
    ("weekly", re.compile(r"\b(?:weekly|(?:every|each|once\s+a|per)\s+week)\b", _I)),
    ("monthly", re.compile(r"\b(?:monthly|(?:every|each|once\s+a|per)\s+month)\b", _I)),
)
_FORTNIGHTLY = re.compile(
    r"\b(?:fortnightly|biweekly|every\s+(?:two|2)\s+weeks|(?:every|once\s+a)\s+fortnight)\b", _I
)
_RADIUS = re.compile(
    r"\b(?:within|in\s+a|inside)\s+(?P<n>\d+(?:\.\d+)?|[a-z]+(?:[- ][a-z]+)?)\s*(?P<unit>km|kms|kilomet(?:er|re)s?|k|miles?|mi)"
    r"(?:\s+radius)?(?:\s+(?:of|from|around))?\b",
    _I,
)
# The patterns below are compiled on first use (``_rx``), so importing this module costs no more than it did.
_NOT = r"(?:don['’]?t|do\s+not|never|no\s+need\s+to|not)"
_NONE = r"(?:no|without(?:\s+any)?|skip(?:\s+the)?)"
_EMAIL_ASK, _PHONE_ASK, _MONITORING_ASK = "email", "phone", "monitoring"
# What a goal may refuse, and what each refusal rules out even where other words ask for it.
_REFUSALS: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (pattern, frozenset(refused))
    for pattern, refused in (
        (
            r"\b(?:just|only)\s+(?:(?:need|want)\s+)?(?:the|a)\s+(?:lead\s+)?list\b|\b(?:the\s+)?list\s+only\b",
            (_EMAIL_ASK, _PHONE_ASK, _MONITORING_ASK),
        ),
        (
            rf"\b{_NONE}\s+(?:outreach|contact(?:ing)?)\b"
            rf"|\b{_NOT}\s+(?:contact|reach\s+out\s+to|message)\s+(?:them|anyone|any\s+of\s+them)\b",
            (_EMAIL_ASK, _PHONE_ASK),
        ),
        (
            rf"\b{_NONE}\s+(?:cold\s+)?e-?mail(?:s|ing)?\b"
            rf"|\b{_NOT}\s+(?:(?:send|write|draft)\s+(?:them\s+)?(?:any\s+)?(?:cold\s+)?e-?mails?|e-?mail)"
            r"(?:\s+(?:to\s+)?(?:them|anyone|any\s+of\s+them))?\b",
            (_EMAIL_ASK,),
        ),
        (
            rf"\b{_NONE}\s+(?:cold\s+)?(?:calls?|calling|phone\s+calls?)\b"
            rf"|\b{_NOT}\s+(?:cold[- ]?)?(?:call|phone|ring)(?:\s+(?:them|anyone))?\b",
            (_PHONE_ASK,),
        ),
        (
            rf"\b{_NONE}\s+(?:monitor(?:ing)?|alerts?|watching)\b"
            rf"|\b{_NOT}\s+(?:set\s+up\s+(?:any\s+|a\s+)?monitor(?:ing|s)?|monitor(?:ing)?"
            r"|keep\s+(?:watching|monitoring|checking|an\s+eye\s+out)|(?:alert|notify)\s+(?:me|us)"
            r"|watch\s+for\s+new\s+ones)(?:\s+(?:them|it))?\b",
            (_MONITORING_ASK,),
        ),
    )
)
# The verb of finding: in "We roast coffee in Leeds - find 30 cafes in York" what comes with it is the target.
_FINDING = (
    r"\b(?:find|get|list|search\s+for|look(?:ing)?\s+for|needs?|wants?|give\s+(?:me|us)|show\s+(?:me|us)"
    r"|source|locate|(?:would|'d|’d)\s+like)\b"
)
_FIRST_PERSON = (
    r"^\W*(?:(?:hi|hello|hey)\b\W*)?(?:i|we|i['’]?m|we['’]?re|i['’]?ve|we['’]?ve|my|our|as\s+an?)\b"
)
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
# Words after "in" that name no place and must not be read as one, even as a misspelling ("in town" ≠ Towyn).
_NOT_PLACES = frozenset(
    ("least", "most", "me", "us", "here", "there", "town", "the town", "city", "the city", "area", "the area",
     "my area", "our area", "this area", "my town", "our town", "my city", "our city", "home", "house", "work",
     "office", "bulk", "stock", "total", "person", "general", "particular", "detail", "full", "time", "order",
     "store", "touch", "advance", "mind", "future", "case", "print", "region", "county", "country", "village",
     "centre", "center", "world", "the world", "the uk", "the country")
)  # fmt: skip
# Qualifier wordings that are a kind of their own when they come first ("garden centres", "fish bars").
_NOT_BEFORE_THE_KIND = frozenset(("garden", "fish"))
_SEPARATOR = ";"
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
_SPECIAL_VOLUMES = (
    (re.compile(r"\bhalf\s+a\s+dozen\b", _I), 6, None),
    (re.compile(r"\b(?:a|one)\s+dozen\b", _I), 12, None),
    (re.compile(r"\bdozen\b", _I), 12, None),
    (re.compile(r"\ba\s+couple(?:\s+of)?\b", _I), 2, None),
    (re.compile(r"\ba\s+(?:few|handful)(?:\s+of)?\b", _I), 5, "Read '{text}' as 5."),
)
# Numbers a person may type that are no count of leads: "-5", "1e9".
_NEGATIVE_VOLUME = re.compile(r"(?<![\w.])[-−–]\s?(?P<n>\d{1,3}(?:,\d{3})+|\d+)(?![\w.%:/])")
_SCIENTIFIC_VOLUME = re.compile(r"(?<![\w.])(?P<n>\d+(?:\.\d+)?e\+?\d{1,3})(?![\w.%:/])", _I)
_VOLUME = re.compile(
    r"(?<![\w.])(?:(?:about|around|roughly|approximately|approx\.?|circa|some|up\s+to|at\s+least|at\s+most|~)\s*)?"
    r"(?P<n>\d{1,3}(?:,\d{3})+|\d+)(?![\w.%:/])(?!\s*(?:km|kms|miles?|mi|days?|weeks?|hours?|months?|%)\b)",
    _I,
)
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


@functools.cache
def _rx(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled (case-insensitive) on first use."""
    return re.compile(pattern, _I)


@dataclass
class _Notes:
    """What the reading assumed and what stops planning, in the order they were found."""

    assumptions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


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


class _Asks(NamedTuple):
    """What the goal asks besides the search, with refusals ("no emails") applied."""

    channels: list[str]
    monitoring: bool
    cadence: str | None
    timing: str | None
    rest: str
    """The goal with the refusals cut out."""


class _Where(NamedTuple):
    """Where to search, as read from the goal."""

    region: RegionMatch | None
    nearby: bool
    """The wording lets leads come from just outside (see ``LeadGenGoal.nearby_allowed``)."""
    named: bool
    """A place (or "near me") was named: the goal has a goal's shape even when the kind is unknown."""
    rest: str
    """The goal's text with the place cut out (a separator where it was)."""


def parse_goal(
    text: str,
    gazetteer: Gazetteer,
    context: LeadGenContext | None = None,
    *,
    max_volume: int = MAX_VOLUME,
) -> ParsedGoal:
    """Read ``text`` into a goal; ``goal`` is None when ``problems`` say why it cannot be planned.

    Volumes over ``max_volume`` are capped to it (an assumption names both numbers); 0 or less is a problem.
    """
    cleaned = " ".join(text.split())
    if not cleaned:
        return ParsedGoal(goal=None, problems=[EMPTY_GOAL])
    if len(cleaned) > MAX_GOAL_CHARS:
        problem = f"The goal is too long ({len(cleaned)} characters): keep it to a sentence or two."
        return ParsedGoal(goal=None, problems=[problem])
    notes = _Notes()
    asks = _asks(cleaned, notes)
    work, radius_km = _radius(_strip_clauses(asks.rest))
    seller, work = _split_seller(work)
    where = _where(work, seller, gazetteer, context, radius_km, notes)
    volume, work = _volume(where.rest, notes, max_volume)
    persona, qualifiers = _who(work, seller, has_place=where.named, has_volume=volume is not None)
    if persona is None:
        notes.problems.insert(0, NO_PERSONA)
    if volume is None:
        volume = DEFAULT_VOLUME
        notes.assumptions.insert(0, f"No number given: assumed {DEFAULT_VOLUME} leads.")
    notes.assumptions.extend(_qualifier_note(QUALIFIERS[key]) for key in qualifiers)
    region = where.region
    if notes.problems or region is None or persona is None:
        return ParsedGoal(goal=None, assumptions=notes.assumptions, problems=notes.problems)
    goal = LeadGenGoal(
        raw_goal=text,
        target_region=region.name,
        target_persona=persona,
        volume=volume,
        timing=asks.timing,
        preferred_channels=asks.channels,
        include_monitoring=asks.monitoring,
        country=region.country,
        target_categories=personas.categories_for(persona),
        region_match=region,
        monitor_cadence=asks.cadence,
        qualifiers=qualifiers,
        nearby_allowed=where.nearby,
    )
    return ParsedGoal(goal=goal, assumptions=notes.assumptions, problems=[])


def apply_overrides(
    text: str,
    overrides: GoalOverrides,
    gazetteer: Gazetteer,
    context: LeadGenContext | None = None,
    *,
    max_volume: int = MAX_VOLUME,
) -> ParsedGoal:
    """Read ``text``, then apply a person's corrections; a changed persona or place is re-read by the parser.

    ``overrides.qualifiers`` replaces the qualifiers read (``[]`` clears them); a word no qualifier answers to is
    a problem that names it.
    """
    parsed = parse_goal(text, gazetteer, context, max_volume=max_volume)
    fields = overrides.model_fields_set
    if not fields:
        return parsed
    asked, unknown = _qualifier_keys(overrides.qualifiers or [])
    if unknown:
        return ParsedGoal(goal=None, assumptions=parsed.assumptions, problems=[_unknown_qualifiers(unknown)])
    base = parsed.goal
    persona = overrides.target_persona or (base.target_persona if base else None)
    region = overrides.target_region or (base.target_region if base else None)
    if overrides.country and region:
        region = f"{region}, {overrides.country}"
    reread = parse_goal(f"Find {persona or ''} in {region or ''}", gazetteer, context, max_volume=max_volume)
    if reread.goal is None or reread.problems:
        return ParsedGoal(goal=None, assumptions=parsed.assumptions, problems=reread.problems)
    volume = overrides.volume or (base.volume if base else DEFAULT_VOLUME)
    capped = []
    if volume > max_volume:
        capped, volume = [_capped(volume, max_volume)], max_volume
    channels = overrides.preferred_channels
    monitoring = overrides.include_monitoring
    if monitoring is None:
        monitoring = base.include_monitoring if base else False
    cadence = overrides.monitor_cadence or (base.monitor_cadence if base else None)
    read = base.qualifiers if base else []
    qualifiers = asked if overrides.qualifiers is not None else _unique([*read, *reread.goal.qualifiers])
    goal = reread.goal.model_copy(
        update={
            "qualifiers": qualifiers,
            "nearby_allowed": base.nearby_allowed if base else False,
            "raw_goal": text,
            "volume": volume,
            "preferred_channels": list(channels)
            if channels is not None
            else (base.preferred_channels if base else []),
            "include_monitoring": monitoring,
            "monitor_cadence": (cadence or DEFAULT_CADENCE) if monitoring else None,
            "timing": base.timing if base else None,
        }
    )
    changed = ", ".join(sorted(overrides.model_dump(exclude_unset=True, by_alias=True)))
    kept = [a for a in parsed.assumptions if not (overrides.volume and a.startswith("No number given"))]
    fresh: list[str] = []
    if qualifiers != read:
        stale = {_qualifier_note(QUALIFIERS[key]) for key in read}
        kept = [a for a in kept if a not in stale]
        fresh = [_qualifier_note(QUALIFIERS[key]) for key in qualifiers]
    assumptions = [*kept, f"Changed by you: {changed}.", *capped, *fresh]
    return ParsedGoal(goal=goal, assumptions=assumptions, problems=[])


def _qualifier_keys(words: Iterable[str]) -> tuple[list[str], list[str]]:
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


def _unknown_qualifiers(words: list[str]) -> str:
    named = ", ".join(f"'{word}'" for word in words)
    known = ", ".join(QUALIFIERS[key].label for key in _EXAMPLE_QUALIFIERS if key in QUALIFIERS)
    plural = "s" if len(words) > 1 else ""
    return f"I don't know the qualifier{plural} {named}: use one I know, e.g. {known}."


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --- channels, monitoring, timing ----------------------------------------------------------------------


def _asks(text: str, notes: _Notes) -> _Asks:
    """Outreach, monitoring and timing asked for; what the goal refuses is ruled out however else it is worded."""
    refused, rest = _refusals(text)
    channels = [channel for channel in _channels(rest) if channel not in refused]
    monitoring, cadence = (False, None) if _MONITORING_ASK in refused else _monitoring(rest, notes)
    return _Asks(channels, monitoring, cadence, _timing(text), rest)


def _refusals(text: str) -> tuple[frozenset[str], str]:
    """What the goal refuses ("no emails", "just the list"), and the goal with those words cut out."""
    refused: set[str] = set()
    for pattern, rules_out in _REFUSALS:
        if _rx(pattern).search(text):
            refused |= rules_out
            text = _rx(pattern).sub(f" {_SEPARATOR} ", text)
    return frozenset(refused), text


def _channels(text: str) -> list[str]:
    """Outreach channels named, in the order written."""
    named = (("email", _EMAIL.search(text)), ("phone", _PHONE.search(text)))
    return [name for _, name in sorted((match.start(), name) for name, match in named if match is not None)]


def _monitoring(text: str, notes: _Notes) -> tuple[bool, str | None]:
    """Whether to keep watching for new leads, and how often (a cadence alone implies watching)."""
    cadences = [(m.start(), name) for name, pattern in _CADENCES if (m := pattern.search(text)) is not None]
    fortnightly = _FORTNIGHTLY.search(text)
    if not (_MONITOR.search(text) or cadences or fortnightly):
        return False, None
    if cadences:
        return True, min(cadences)[1]
    if fortnightly:
        notes.assumptions.append(f"Read '{fortnightly.group(0)}' as weekly, the nearest cadence offered.")
        return True, "weekly"
    notes.assumptions.append(f"No cadence given: will check for new ones {DEFAULT_CADENCE}.")
    return True, DEFAULT_CADENCE


def _timing(text: str) -> str | None:
    """When the leads are wanted, as written ("by Friday"), or None."""
    match = _TIMING.search(text)
    return match.group(0) if match else None


def _strip_clauses(text: str) -> str:
    """The goal with outreach, monitoring and timing phrases cut out (each leaves a clause separator)."""
    for pattern in (*_CLAUSES, _TIMING):
        text = pattern.sub(f" {_SEPARATOR} ", text)
    return text


def _radius(text: str) -> tuple[str, float | None]:
    """An explicit radius ("within 5 miles of"), in km, and the text with it read as "near"."""
    match = _RADIUS.search(text)
    if match is None:
        return text, None
    amount = _number(match.group("n"))
    if amount is None:
        return text, None
    km = amount * 1.609344 if match.group("unit").lower().startswith("mi") else amount
    return f"{text[: match.start()]} near {text[match.end() :]}", min(round(km, 1), _MAX_RADIUS_KM)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        converted = alpha2digit(text.replace("-", " "), "en", threshold=0)
        return float(converted) if converted.replace(".", "", 1).isdigit() else None


# --- whose goal ----------------------------------------------------------------------------------------


def _split_seller(text: str) -> tuple[str, str]:
    """(the seller's words about themselves, the search): "We roast coffee in Leeds - find cafes in York" →
    ("We roast coffee in Leeds - ", "find cafes in York"); ("", text) when the goal starts with the search."""
    verb = _rx(_FINDING).search(text)
    if verb is None:
        return "", text
    before = text[: verb.start()]
    if not _rx(_FIRST_PERSON).match(before) or not _strip_fillers(before):
        return "", text
    return before, text[verb.start() :]


# --- where ---------------------------------------------------------------------------------------------


def _where(
    text: str,
    seller: str,
    gazetteer: Gazetteer,
    context: LeadGenContext | None,
    radius_km: float | None,
    notes: _Notes,
) -> _Where:
    """The place to search, how far outside it leads may come from, and the text with the place cut out."""
    default_country = (context.default_country if context else "GB").upper()
    near_me = _rx(_NEAR_ME).search(text) is not None
    found = _find_place(text, gazetteer, default_country)
    if isinstance(found, str):
        notes.problems.append(found)
        return _Where(region=None, nearby=False, named=True, rest=text)
    rest, after, named = text, "", found is not None
    if found is not None:
        rest, after = f"{text[: found.start]} {_SEPARATOR} {text[found.end :]}", text[found.end :]
    elif seller:
        found = _sellers_place(seller, gazetteer, default_country)
    region = _region(found, gazetteer, context, radius_km, (rest, after), notes, near_me=near_me)
    # "near me" says how far only when no place is named: "local pubs in Leeds" are pubs in Leeds.
    nearby = (
        radius_km is not None
        or (found.near if named and found is not None else near_me)
        or _rx(_NEARBY).search(text) is not None
    )
    return _Where(region=region, nearby=region is not None and nearby, named=named or near_me, rest=rest)


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
    match = _rx(_POSTCODE_AREA).search(text)
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
                token.text in (",", _SEPARATOR)
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
    while stop < len(tokens) and tokens[stop].text != _SEPARATOR and stop - start < _MAX_PLACE_WORDS + 2:
        stop += 1
    for end in range(stop, start, -1):
        words = tokens[start:end]
        if words[-1].text == "," or words[0].text == ",":
            continue
        resolved = _resolve(words, gazetteer, default_country, scope)
        if resolved is not None:
            source, country, named, note = resolved
            written = " ".join(w.text for w in words).replace(" ,", ",")
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
    notes: _Notes,
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


def _to_match(source: Place | WorldCity, radius_km: float | None, notes: _Notes) -> RegionMatch:
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
    rest: str, gazetteer: Gazetteer, context: LeadGenContext | None, notes: _Notes, *, near_me: bool
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


def _note_second_place(after: str, found: _Found, gazetteer: Gazetteer, notes: _Notes) -> None:
    """One place per goal: say so when the goal names a second one ("in Leeds and York")."""
    tokens = _tokens(after)
    if len(tokens) < 2 or tokens[0].text.lower() not in _CONJUNCTIONS:
        return
    second = _longest_place(tokens, 1, gazetteer, found.country, "home")
    if second is not None:
        notes.assumptions.append(
            f"One place per goal: searched {found.source.name} only; run another goal for {second.source.name}."
        )


# --- how many, and who ---------------------------------------------------------------------------------


def _volume(text: str, notes: _Notes, max_volume: int) -> tuple[int | None, str]:
    """The number of leads asked for, and the text with that number marked for the persona reader."""
    for pattern, value, note in _SPECIAL_VOLUMES:
        match = pattern.search(text)
        if match is None:
            continue
        if note is not None:
            notes.assumptions.insert(0, note.format(text=match.group(0).strip()))
        text = f"{text[: match.start()]} {value} {text[match.end() :]}"
    text = alpha2digit(text, "en", threshold=2)
    if (negative := _NEGATIVE_VOLUME.search(text)) is not None:
        notes.problems.append(
            f"Asked for {negative.group(0).strip()} leads: ask for between 1 and {max_volume:,}."
        )
        return 0, f"{text[: negative.start()]} # {text[negative.end() :]}"
    match = _SCIENTIFIC_VOLUME.search(text) or _VOLUME.search(text)
    if match is None:
        return None, text
    written = match.group("n")
    # "1e9" is read as the number it means; one past any sensible cap is as good as infinity ("1e999").
    volume = int(min(float(written), 1e12)) if "e" in written.lower() else int(written.replace(",", ""))
    rest = f"{text[: match.start()]} # {text[match.end() :]}"
    if volume <= 0:
        notes.problems.append(f"Asked for {written} leads: ask for between 1 and {max_volume:,}.")
    elif volume > max_volume:
        notes.assumptions.insert(0, _capped(volume, max_volume, written=written))
        volume = max_volume
    return volume, rest


def _capped(volume: int, max_volume: int, *, written: str | None = None) -> str:
    asked = written if written and "e" in written.lower() else f"{volume:,}"
    return f"Asked for {asked} leads: capped at {max_volume:,}, the most one plan gathers."


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
    return persona, _unique([*leading, *_trailing_qualifiers(text)])


def _who(text: str, seller: str, *, has_place: bool, has_volume: bool) -> tuple[str | None, list[str]]:
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
        for clause in part.split(_SEPARATOR):
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


def _qualifier_note(qualifier: Qualifier) -> str:
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
    words = _LEADS_FOR.sub("", _strip_fillers(clause))
    return _strip_fillers(_PERSONA_STOP.sub("", f" {words} ").strip())


def _strip_fillers(segment: str) -> str:
    previous = None
    while previous != segment:
        previous = segment
        segment = _LEADING_FILLER.sub("", segment).strip()
        segment = _TRAILING_FILLER.sub("", segment).strip()
    return segment.strip(" #,.;:!?-'\"")
