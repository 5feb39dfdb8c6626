"""Small pieces of the sentences a person reads in plans and their warnings."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["capital", "listed"]


def capital(text: str) -> str:
    """ "the directory" → "The directory"."""
    return text[:1].upper() + text[1:]


def listed(items: Sequence[str], conjunction: str) -> str:
    """["a", "b", "c"] → "a, b and c" (or "or"); "" for none."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"
