"""What a goal asks besides the search: outreach by email or phone, watching for new businesses and how often,
when the leads are wanted, and how far around the place ("within 5 miles of"). Refusals ("no emails", "just the
list") win over requests however these are worded."""

from __future__ import annotations

from typing import NamedTuple

from wyshbone.domain import monitors
from wyshbone.domain.goal_text import SEPARATOR, Notes, rx

__all__ = ["DEFAULT_CADENCE", "Asks", "read_asks", "read_radius", "strip_clauses"]

DEFAULT_CADENCE = monitors.DEFAULT_CADENCE.value
_MAX_RADIUS_KM = 200.0

# Patterns are kept as text and compiled on first use (``rx``, case-insensitive): importing costs nothing.
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_FEW = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|a\s+couple\s+of|a\s+few)"
_TIMING = rf"""(?x)
    \b(?:this|next)\s+(?:week(?:end)?|month|year|quarter)\b
    | \b(?:today|tomorrow|tonight)\b
    | \basap\b | \ba\.s\.a\.p\b\.? | \bas\s+soon\s+as\s+possible\b | \burgent(?:ly)?\b | \bright\s+away\b
    | \bimmediately\b
    | \b(?:by|before|until)\s+(?:the\s+)?(?:end\s+of\s+(?:the\s+)?(?:day|week|month|year)|eod|eow
        |(?:this\s+|next\s+)?{_DAY}|tomorrow|tonight|next\s+(?:week|month)
        |\d{{1,2}}(?:st|nd|rd|th)?(?:\s+(?:of\s+)?{_MONTH})?|{_MONTH}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?)\b
    | \b(?:within|in|over)\s+(?:the\s+)?(?:next\s+)?{_FEW}\s+(?:days?|weeks?|hours?|months?)\b
    | \b{_FEW}\s+(?:days?|weeks?|months?)\s+from\s+now\b
    | \bend\s+of\s+(?:the\s+)?(?:day|week|month)\b"""
_EMAIL = r"\be-?mail|\bmail\s?shot"
_PHONE = (
    r"\bcold[- ]?call|\b(?:call|phone|ring|telephone)\s+(?:them|round)\b|\bgive\s+them\s+a\s+(?:call|ring)\b"
    r"|\b(?:by|over\s+the|via)\s+(?:tele)?phone\b"
)
_LEAD_IN = r"(?:,?\s*\b(?:and|then|also|so\s+(?:that\s+)?(?:i|we)\s+can|to)\s+)?"
_CLAUSES = (
    # outreach: "and email them", "for an email campaign", "set up an email sequence", "reach out by email"
    _LEAD_IN + r"\bset\s+up\s+(?:an?\s+)?(?:cold\s+)?e-?mail\s+(?:sequence|campaign|outreach|drip)\b",
    _LEAD_IN
    + r"\b(?:cold\s+)?(?:e-?mail(?:ing)?|call|phone|ring|contact|message)\s+(?:them|each|all\s+of\s+them)"
    r"(?:\s+all)?\b",
    _LEAD_IN
    + r"\breach\s+out(?:\s+to\s+them)?(?:\s+(?:by|via|over|through|with)\s+(?:e-?mail|(?:tele)?phone))?",
    _LEAD_IN + r"\b(?:send|draft|write)\s+(?:them\s+)?(?:an?\s+)?(?:cold\s+)?e-?mails?\b(?:\s+to\s+them)?",
    r"\b(?:for|with|in|via|by|over|as\s+part\s+of)\s+(?:an?\s+|my\s+|our\s+|the\s+)?(?:cold\s+)?e-?mail(?:ing)?"
    r"(?:\s+(?:campaign|sequence|outreach|blast|drip))?\b",
    r"\b(?:cold\s+)?e-?mail\s+(?:campaign|sequence|outreach)\b",
    _LEAD_IN + r"\b(?:cold[- ]?call\w*|give\s+them\s+a\s+(?:call|ring)|ring\s+round)\b(?:\s+them)?",
    r"\b(?:by|over\s+the|via)\s+(?:tele)?phone\b",
    # monitoring: "keep watching for new ones", "alert me weekly", "monitor for new ones every month"
    _LEAD_IN + r"\bkeep\s+(?:an\s+eye\s+out|an\s+eye|watching|looking|checking|monitoring|tabs)"
    r"(?:\s+(?:out\s+)?(?:for|on))?(?:\s+(?:any\s+)?new\s+(?:ones?|\w+)|\s+them)?",
    _LEAD_IN + r"\b(?:alert|notify|ping|update)\s+(?:me|us)\b(?:\s+(?:when|if|about|of)\s+(?:there\s+are\s+)?"
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
_MONITOR = (
    r"\bkeep\s+(?:an\s+eye|watching|looking|checking|monitoring|tabs)|\b(?:alert|notify|ping|update)\s+(?:me|us)\b"
    r"|\blet\s+(?:me|us)\s+know\b|\bmonitor|\b(?:watch|look)\s+(?:out\s+)?for\s+(?:any\s+)?new\b|\bnew\s+ones\b"
    r"|\bongoing\b"
)
_CADENCES = (
    (
        "daily",
        r"\b(?:daily|nightly|(?:every|each|once\s+a|per)\s+(?:day|morning|night|evening))\b",
    ),
    ("weekly", r"\b(?:weekly|(?:every|each|once\s+a|per)\s+week)\b"),
    ("monthly", r"\b(?:monthly|(?:every|each|once\s+a|per)\s+month)\b"),
)
_FORTNIGHTLY = r"\b(?:fortnightly|biweekly|every\s+(?:two|2)\s+weeks|(?:every|once\s+a)\s+fortnight)\b"
_RADIUS = (
    r"\b(?:within|in\s+a|inside)\s+(?P<n>\d+(?:\.\d+)?|[a-z]+(?:[- ][a-z]+)?)\s*(?P<unit>km|kms|kilomet(?:er|re)s?|k|miles?|mi)"
    r"(?:\s+radius)?(?:\s+(?:of|from|around))?\b"
)
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


class Asks(NamedTuple):
    """What the goal asks besides the search, with refusals ("no emails") applied."""

    channels: list[str]
    monitoring: bool
    cadence: str | None
    timing: str | None
    rest: str
    """The goal with the refusals cut out."""


def read_asks(text: str, notes: Notes) -> Asks:
    """Outreach, monitoring and timing asked for; what the goal refuses is ruled out however else it is worded."""
    refused, rest = _refusals(text)
    channels = [channel for channel in _channels(rest) if channel not in refused]
    monitoring, cadence = (False, None) if _MONITORING_ASK in refused else _monitoring(rest, notes)
    return Asks(channels, monitoring, cadence, _timing(text), rest)


def _refusals(text: str) -> tuple[frozenset[str], str]:
    """What the goal refuses ("no emails", "just the list"), and the goal with those words cut out."""
    refused: set[str] = set()
    for pattern, rules_out in _REFUSALS:
        if rx(pattern).search(text):
            refused |= rules_out
            text = rx(pattern).sub(f" {SEPARATOR} ", text)
    return frozenset(refused), text


def _channels(text: str) -> list[str]:
    """Outreach channels named, in the order written."""
    named = (("email", rx(_EMAIL).search(text)), ("phone", rx(_PHONE).search(text)))
    return [name for _, name in sorted((match.start(), name) for name, match in named if match is not None)]


def _monitoring(text: str, notes: Notes) -> tuple[bool, str | None]:
    """Whether to keep watching for new leads, and how often (a cadence alone implies watching)."""
    cadences = [
        (m.start(), name) for name, pattern in _CADENCES if (m := rx(pattern).search(text)) is not None
    ]
    fortnightly = rx(_FORTNIGHTLY).search(text)
    if not (rx(_MONITOR).search(text) or cadences or fortnightly):
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
    match = rx(_TIMING).search(text)
    return match.group(0) if match else None


def strip_clauses(text: str) -> str:
    """The goal with outreach, monitoring and timing phrases cut out (each leaves a clause separator)."""
    for pattern in (*_CLAUSES, _TIMING):
        text = rx(pattern).sub(f" {SEPARATOR} ", text)
    return text


def read_radius(text: str) -> tuple[str, float | None]:
    """An explicit radius ("within 5 miles of"), in km, and the text with it read as "near"."""
    match = rx(_RADIUS).search(text)
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
        from text_to_num import alpha2digit  # here: only a number written in words needs it

        converted = alpha2digit(text.replace("-", " "), "en", threshold=0)
        return float(converted) if converted.replace(".", "", 1).isdigit() else None
