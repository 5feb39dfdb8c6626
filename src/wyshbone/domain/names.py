"""Words in business names, read as the directory's search index reads them (lower case, accents dropped), so
that what a search finds and what matching accepts are the same."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence

__all__ = ["find_term", "folded", "name_contains", "name_words", "plain"]


@functools.lru_cache(maxsize=65536)
def folded(text: str) -> str:
    """Lower case, accents dropped: how the directory's FTS5 index (unicode61, remove_diacritics) reads text."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


_WORD = re.compile(r"[^\W_]+")


def name_words(text: str) -> frozenset[str]:
    """The words of a name as the directory's index holds them: "Café Nero's" → {"cafe", "nero", "s"}."""
    return frozenset(_WORD.findall(folded(text)))


@functools.lru_cache(maxsize=4096)
def _term_words(term: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_WORD.findall(folded(term))))


def find_term(name: str, terms: Iterable[str]) -> str | None:
    """The first term all of whose words are in ``name`` (as the index matches it), spelled as the name spells
    it: ``find_term("Luigi's PIZZERIA", ["pizzeria"])`` → "PIZZERIA"; None when no term is there."""
    words = name_words(name)
    for term in terms:
        wanted_words = _term_words(term)
        if wanted_words and all(w in words for w in wanted_words):
            return _as_spelled(name, wanted_words)
    return None


def _as_spelled(name: str, words: Sequence[str]) -> str:
    spelled = {folded(w): w for w in reversed(_WORD.findall(name))}
    return " ".join(spelled.get(w, w) for w in words)


def plain(value: str) -> str:
    """Lowercase ASCII letters and digits only: "Yorkshire and The Humber" → "yorkshireandthehumber"."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", ascii_text.lower())


def name_contains(term: str | None) -> str:
    """The reason a name gives: "name contains 'Pizzeria'"."""
    return f"name contains '{term}'"
