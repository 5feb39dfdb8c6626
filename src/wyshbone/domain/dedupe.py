"""When two leads are the same business: same source record, or same normalised name at the same postcode."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_LEADING_THE = re.compile(r"^the\s+")


def normalise_name(name: str) -> str:
    """Lowercase, accents folded, a leading "The" and all punctuation/whitespace dropped."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower().strip()
    folded = folded.replace("&", " and ")
    return _NON_ALNUM.sub("", _LEADING_THE.sub("", folded))


def normalise_postcode(postcode: str | None) -> str:
    return (postcode or "").replace(" ", "").upper()


def name_postcode_key(name: str, postcode: str | None) -> str:
    """The key two records of one business share ("The Crown & Anchor", "M1 1AA" ≡ "crown and anchor", "M11AA")."""
    return f"{normalise_name(name)}|{normalise_postcode(postcode)}"


def lead_keys(source_id: str, name: str, postcode: str | None) -> tuple[str, str]:
    """Both identities of a lead: its source record, and its name at its postcode.

    Without a postcode a name says too little (chains share names), so the source id stands in.
    """
    name_key = name_postcode_key(name, postcode) if postcode else f"id|{source_id}"
    return source_id, name_key
