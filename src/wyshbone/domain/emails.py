"""Email addresses from providers, checked before anything keeps them: split, validated, normalised. Pure.

A provider's value may hold several addresses (``"info@a.com, jo@b.com"``): each is checked on its own. A value
with a line break or another control character is refused whole: it is an attempt to add a mail header, not an
address. Validation is email-validator's syntax check only (no DNS), so it runs anywhere, offline, in microseconds.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wyshbone.errors import InputError

if TYPE_CHECKING:
    from email_validator import ValidatedEmail

__all__ = [
    "ParsedAddresses",
    "RefusedAddress",
    "has_control_characters",
    "normalise_address",
    "normalise_domain",
    "parse_addresses",
    "refusals",
    "screen_emails",
]

_REFUSED = "refused address "
"""How every refusal note starts (``refusals`` finds them among a lead's notes by it)."""
_SHOWN = 120
"""A refused value is quoted in notes up to this many characters."""


@dataclass(frozen=True, slots=True)
class RefusedAddress:
    """A part of a provider's value that is not one usable address, and why."""

    value: str
    """The part as the provider gave it."""
    reason: str
    """email-validator's explanation, or ours (control characters)."""

    def note(self, source: str) -> str:
        """One line a salesperson can read: ``refused address 'x@y' from hunter: <reason>``.

        ``repr`` keeps it one line (a CR/LF shows as ``\\r\\n``), and a long value is cut."""
        shown = self.value if len(self.value) <= _SHOWN else self.value[:_SHOWN] + "…"
        return f"{_REFUSED}{shown!r} from {source}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ParsedAddresses:
    """What one provider value came to."""

    addresses: tuple[str, ...] = ()
    """Each a single valid address, normalised (lowercase, IDN domains as punycode), without repeats."""
    refused: tuple[RefusedAddress, ...] = ()


def has_control_characters(text: str) -> bool:
    """True for CR, LF, NUL, NEL, the Unicode line and paragraph separators and the like (a tab is not one):
    any of them in a mail header could start a new header."""
    return any(c != "\t" and unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text)


def normalise_address(value: str) -> str:
    """One address, normalised; ``InputError`` (with email-validator's reason) when it is not exactly one.

    ``Bob <bob@x.com>`` is accepted as ``bob@x.com``. The whole address is lowercased, as suppression and
    replies compare addresses; an IDN domain becomes punycode (as the suppression list keeps domains), and
    addresses that need SMTPUTF8 (a non-ASCII local part), quoted local parts and IP-address domains are refused.
    """
    checked = _validated(value, display_name=True)
    address = checked.ascii_email or checked.normalized  # ascii_email is always set without SMTPUTF8
    return address.lower()


def normalise_domain(value: str) -> str:
    """A mail domain, normalised as ``normalise_address`` normalises the part after the @: lowercase, an IDN
    as punycode (``Café.example`` → ``xn--caf-dma.example``). ``InputError`` (with email-validator's reason)
    when no address could be at it: no dot, a space, an IP address, a special-use name such as ``localhost``.

    It is checked as the domain of an address, so the two rules cannot drift apart."""
    domain = value.strip()
    if any(c in domain for c in '@<>"'):
        raise InputError("a domain holds no @-sign, angle brackets or quotes")
    checked = _validated(f"postmaster@{domain}", display_name=False)
    return checked.ascii_domain.lower()


def _validated(value: str, *, display_name: bool) -> ValidatedEmail:
    """email-validator's syntax check (no DNS) with the options every address here is held to."""
    # Imported here, not at the top: it costs 20 ms, and every import of the domain models would pay it.
    from email_validator import EmailNotValidError, validate_email

    if has_control_characters(value):
        raise InputError("it holds a line break or another control character")
    try:
        return validate_email(
            value.strip(),
            check_deliverability=False,
            allow_smtputf8=False,
            allow_display_name=display_name,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as exc:
        raise InputError(str(exc)) from None


def parse_addresses(value: str) -> ParsedAddresses:
    """Every address in a provider's value (split at commas, semicolons and whitespace), each validated."""
    if has_control_characters(value):
        return ParsedAddresses(
            refused=(RefusedAddress(value, "it holds a line break or another control character"),)
        )
    addresses: list[str] = []
    refused: list[RefusedAddress] = []
    for part in _parts(value):
        try:
            address = normalise_address(part)
        except InputError as exc:
            refused.append(RefusedAddress(part, exc.message))
            continue
        if address not in addresses:
            addresses.append(address)
    if not addresses and not refused:
        refused.append(RefusedAddress(value, "it is empty"))
    return ParsedAddresses(tuple(addresses), tuple(refused))


def _parts(value: str) -> list[str]:
    """``value`` cut at commas and semicolons outside quotes and angle brackets; a part with neither quotes nor
    brackets is cut at whitespace too, while ``Bob <bob@x.com>`` and ``"a b"@x.com`` stay whole (to be read,
    or refused, as one)."""
    pieces: list[str] = []
    current: list[str] = []
    quoted = angled = False
    for char in value:
        if char == '"':
            quoted = not quoted
        elif char in "<>" and not quoted:
            angled = char == "<"
        if char in ",;" and not (quoted or angled):
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    parts: list[str] = []
    for piece in (p.strip() for p in pieces):
        if '"' in piece or "<" in piece:
            parts.append(piece)
        else:
            parts.extend(piece.split())
    return parts


def screen_emails(entries: Iterable[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """A lead's contact entries (``ContactEmail`` dicts), one entry per valid address, each address once, and
    a note for each part refused (naming the entry's ``source``). An entry whose value holds two addresses
    becomes two entries with the same details."""
    kept: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for entry in entries:
        raw = entry.get("value")
        parsed = parse_addresses(raw if isinstance(raw, str) else "")
        source = str(entry.get("source") or "a provider")
        for address in parsed.addresses:
            kept.setdefault(address, {**entry, "value": address})
        notes.extend(refused.note(source) for refused in parsed.refused)
    return list(kept.values()), notes


def refusals(notes: Iterable[str]) -> list[str]:
    """The notes that say an address was refused."""
    return [note for note in notes if note.startswith(_REFUSED)]
