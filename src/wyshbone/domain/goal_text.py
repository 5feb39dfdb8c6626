"""What every part of reading a goal shares: the notes the reading keeps (what it assumed, what stops planning),
the separator a phrase cut out of the goal leaves behind, and patterns compiled on first use."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

__all__ = ["SEPARATOR", "Notes", "rx"]

SEPARATOR = ";"
"""Left where a phrase was cut out of the goal, so that the words either side are not read as one."""


@functools.cache
def rx(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled (case-insensitive) on first use."""
    return re.compile(pattern, re.IGNORECASE)


@dataclass
class Notes:
    """What the reading assumed and what stops planning, in the order they were found."""

    assumptions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
