"""Reads a goal in plain words into a ``LeadGenGoal``, saying what it assumed and what stops planning.

Pure: the gazetteer is passed in, nothing is read from disk or the clock. Entry points: ``parse_goal`` and
``apply_overrides`` (a person's corrections). This module reads how many; what else the goal asks (outreach,
monitoring, timing) is ``goal_asks``'s, where ``goal_places``', and who (the kind and its qualifiers)
``goal_words``'.
"""

from __future__ import annotations

import re

from wyshbone.domain import personas
from wyshbone.domain.gazetteer import Gazetteer
from wyshbone.domain.goal_asks import DEFAULT_CADENCE, read_asks, read_radius, strip_clauses
from wyshbone.domain.goal_places import NO_PLACE, NO_PLACE_NEAR_ME, read_where
from wyshbone.domain.goal_text import Notes
from wyshbone.domain.goal_words import (
    qualifier_keys,
    qualifier_note,
    read_who,
    split_seller,
    unique,
    unknown_qualifiers,
)
from wyshbone.domain.limits import MAX_GOAL_CHARS, MAX_VOLUME
from wyshbone.domain.models import GoalOverrides, LeadGenContext, LeadGenGoal, ParsedGoal
from wyshbone.domain.qualifiers import QUALIFIERS
from wyshbone.errors import InputError

__all__ = [
    "DEFAULT_CADENCE",
    "DEFAULT_VOLUME",
    "EMPTY_GOAL",
    "MAX_GOAL_CHARS",
    "MAX_VOLUME",
    "NO_PERSONA",
    "NO_PLACE",
    "NO_PLACE_NEAR_ME",
    "apply_overrides",
    "check_goal_text",
    "goal_text_problem",
    "parse_goal",
]

DEFAULT_VOLUME = 20

EMPTY_GOAL = "The goal is empty: say what to find and where, e.g. 'Find 20 coffee shops in Manchester'."
NO_PERSONA = "I couldn't tell what kind of business to look for: say e.g. 'coffee shops'."


def goal_text_problem(text: str, *, allow_empty: bool = False) -> str | None:
    """Why ``text`` cannot be read as a goal at all (empty, or longer than ``MAX_GOAL_CHARS`` with runs of
    spaces counted as one), or None. The one check of a goal's text, wherever the goal comes in."""
    cleaned = " ".join(text.split())
    if not cleaned:
        return None if allow_empty else EMPTY_GOAL
    if len(cleaned) > MAX_GOAL_CHARS:
        return f"The goal is too long ({len(cleaned)} characters): keep it to a sentence or two."
    return None


def check_goal_text(text: str, *, allow_empty: bool = False) -> str:
    """``text`` stripped, or ``InputError`` saying what ``goal_text_problem`` says (as an error: lower case)."""
    problem = goal_text_problem(text, allow_empty=allow_empty)
    if problem is not None:
        raise InputError(problem[:1].lower() + problem[1:].rstrip("."))
    return text.strip()


_I = re.IGNORECASE
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
    if (problem := goal_text_problem(cleaned)) is not None:
        return ParsedGoal(goal=None, problems=[problem])
    notes = Notes()
    asks = read_asks(cleaned, notes)
    work, radius_km = read_radius(strip_clauses(asks.rest))
    seller, work = split_seller(work)
    where = read_where(work, seller, gazetteer, context, radius_km, notes)
    volume, work = _volume(where.rest, notes, max_volume)
    persona, qualifiers = read_who(work, seller, has_place=where.named, has_volume=volume is not None)
    if persona is None:
        notes.problems.insert(0, NO_PERSONA)
    if volume is None:
        volume = DEFAULT_VOLUME
        notes.assumptions.insert(0, f"No number given: assumed {DEFAULT_VOLUME} leads.")
    notes.assumptions.extend(qualifier_note(QUALIFIERS[key]) for key in qualifiers)
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
    if not overrides.model_fields_set:
        return parsed
    asked, unknown = qualifier_keys(overrides.qualifiers or [])
    if unknown:
        return ParsedGoal(goal=None, assumptions=parsed.assumptions, problems=[unknown_qualifiers(unknown)])
    reread = _reread(parsed.goal, overrides, gazetteer, context, max_volume)
    if reread.goal is None or reread.problems:
        return ParsedGoal(goal=None, assumptions=parsed.assumptions, problems=reread.problems)
    corrected, capped = _corrected(
        text, parsed.goal, reread.goal, overrides, asked=asked, max_volume=max_volume
    )
    assumptions = _corrected_assumptions(parsed, corrected, overrides, capped)
    return ParsedGoal(goal=corrected, assumptions=assumptions, problems=[])


def _reread(
    base: LeadGenGoal | None,
    overrides: GoalOverrides,
    gazetteer: Gazetteer,
    context: LeadGenContext | None,
    max_volume: int,
) -> ParsedGoal:
    """The corrected kind and place, read as a goal of their own ("Find vegan cafes in Leeds")."""
    persona = overrides.target_persona or (base.target_persona if base else None)
    region = overrides.target_region or (base.target_region if base else None)
    if overrides.country and region:
        region = f"{region}, {overrides.country}"
    return parse_goal(f"Find {persona or ''} in {region or ''}", gazetteer, context, max_volume=max_volume)


def _corrected(
    text: str,
    base: LeadGenGoal | None,
    reread: LeadGenGoal,
    overrides: GoalOverrides,
    *,
    asked: list[str],
    max_volume: int,
) -> tuple[LeadGenGoal, list[str]]:
    """The re-read goal with the other corrections and the rest of the first reading; and the assumption that
    the volume was capped, when it was."""
    volume = overrides.volume or (base.volume if base else DEFAULT_VOLUME)
    capped = []
    if volume > max_volume:
        capped, volume = [_capped(volume, max_volume)], max_volume
    monitoring = overrides.include_monitoring
    if monitoring is None:
        monitoring = base.include_monitoring if base else False
    cadence = overrides.monitor_cadence or (base.monitor_cadence if base else None)
    read = base.qualifiers if base else []
    channels = overrides.preferred_channels
    update = {
        "qualifiers": asked if overrides.qualifiers is not None else unique([*read, *reread.qualifiers]),
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
    return reread.model_copy(update=update), capped


def _corrected_assumptions(
    parsed: ParsedGoal, corrected: LeadGenGoal, overrides: GoalOverrides, capped: list[str]
) -> list[str]:
    """The first reading's assumptions less those a correction made stale, then what changed."""
    changed = ", ".join(sorted(overrides.model_dump(exclude_unset=True, by_alias=True)))
    kept = [a for a in parsed.assumptions if not (overrides.volume and a.startswith("No number given"))]
    read = parsed.goal.qualifiers if parsed.goal else []
    fresh: list[str] = []
    if corrected.qualifiers != read:
        stale = {qualifier_note(QUALIFIERS[key]) for key in read}
        kept = [a for a in kept if a not in stale]
        fresh = [qualifier_note(QUALIFIERS[key]) for key in corrected.qualifiers]
    return [*kept, f"Changed by you: {changed}.", *capped, *fresh]


# --- how many ------------------------------------------------------------------------------------------


def _volume(text: str, notes: Notes, max_volume: int) -> tuple[int | None, str]:
    """The number of leads asked for, and the text with that number marked for the persona reader."""
    for pattern, value, note in _SPECIAL_VOLUMES:
        match = pattern.search(text)
        if match is None:
            continue
        if note is not None:
            notes.assumptions.insert(0, note.format(text=match.group(0).strip()))
        text = f"{text[: match.start()]} {value} {text[match.end() :]}"
    from text_to_num import alpha2digit  # here, not at the top: importing the goal reader stays cheap

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
