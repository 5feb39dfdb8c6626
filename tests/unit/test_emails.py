"""Addresses from providers: split, validated and normalised before anything keeps them; refusals say why."""

from __future__ import annotations

from typing import Any

import pytest

from wyshbone.domain.emails import (
    ParsedAddresses,
    RefusedAddress,
    normalise_address,
    normalise_domain,
    parse_addresses,
    screen_emails,
)
from wyshbone.domain.leads import merge_enrichment
from wyshbone.domain.models import ContactEmail, Lead
from wyshbone.domain.outreach import choose_contact
from wyshbone.errors import InputError

LINE_BREAK = "it holds a line break or another control character"


@pytest.mark.parametrize(
    ("value", "addresses", "refused"),
    [
        # plain: kept as it is
        ("hello@beanthere.co.uk", ["hello@beanthere.co.uk"], []),
        # uppercase domain (and local part): lowercased, as suppression and replies compare addresses
        ("Hello@BeanThere.CO.UK", ["hello@beanthere.co.uk"], []),
        # surrounding whitespace: trimmed
        ("  hello@beanthere.co.uk \t", ["hello@beanthere.co.uk"], []),
        # two addresses with a comma (the security probe's value): each kept on its own
        ("info@a.example, victim@evil.example", ["info@a.example", "victim@evil.example"], []),
        # semicolon, as Outlook and OSM separate them
        ("info@a.example;jo@a.example", ["info@a.example", "jo@a.example"], []),
        # whitespace alone separates too
        ("info@a.example jo@a.example", ["info@a.example", "jo@a.example"], []),
        # the same address twice: once
        ("info@a.example, INFO@a.example", ["info@a.example"], []),
        # CR/LF header injection: refused whole, nothing kept (not even the address before it)
        ("info@a.example\r\nBcc: victim@evil.example", [], ["info@a.example\r\nBcc: victim@evil.example"]),
        # a bare LF, and a NUL, are refused the same way
        ("info@a.example\nBcc: x@evil.example", [], ["info@a.example\nBcc: x@evil.example"]),
        ("info@a.example\x00", [], ["info@a.example\x00"]),
        # display-name form: the address inside the brackets
        ("Bob <Bob@X.com>", ["bob@x.com"], []),
        # display-name forms in a list: a comma inside the brackets' neighbour does not split the name off
        ('"Smith, Bob" <bob@x.com>, jo@y.com', ["bob@x.com", "jo@y.com"], []),
        # garbage: refused
        ("garbage", [], ["garbage"]),
        # one good, one bad: the good one kept, the bad one refused
        ("hello@beanthere.co.uk, n/a", ["hello@beanthere.co.uk"], ["n/a"]),
        # no dot in the domain
        ("jo@localhost", [], ["jo@localhost"]),
        # IDN domain: punycode, as the suppression list keeps domains
        ("info@Café.example", ["info@xn--caf-dma.example"], []),
        # quoted local part: legal, but never a business's contact address; refused
        ('"john smith"@x.com', [], ['"john smith"@x.com']),
        # a non-ASCII local part needs SMTPUTF8 from every server on the way: refused
        ("josé@x.com", [], ["josé@x.com"]),
        # an IP address for a domain: refused
        ("jo@[192.0.2.1]", [], ["jo@[192.0.2.1]"]),
        # nothing at all
        ("", [], [""]),
    ],
)
def test_parse_addresses_cases(value: str, addresses: list[str], refused: list[str]) -> None:
    parsed = parse_addresses(value)
    assert (list(parsed.addresses), [r.value for r in parsed.refused]) == (addresses, refused)
    assert all(r.reason for r in parsed.refused)


def test_parse_addresses_refuses_a_line_break_whole_with_its_reason() -> None:
    value = "info@a.example\r\nBcc: victim@evil.example"
    assert parse_addresses(value) == ParsedAddresses((), (RefusedAddress(value, LINE_BREAK),))


def test_refused_address_note_is_one_readable_line() -> None:
    note = RefusedAddress("x@y\r\nBcc: z@evil.example", LINE_BREAK).note("hunter")
    assert note == f"refused address 'x@y\\r\\nBcc: z@evil.example' from hunter: {LINE_BREAK}"
    long = RefusedAddress("a" * 300, "too long").note("website")
    assert long == f"refused address '{'a' * 120}…' from website: too long"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Jo@Tea.CO.uk", "jo@tea.co.uk"),  # lowercased
        ("Jo <jo@tea.co.uk>", "jo@tea.co.uk"),  # display name dropped
        ("jo@münchen.de", "jo@xn--mnchen-3ya.de"),  # IDN as punycode
        ("jo@xn--mnchen-3ya.de", "jo@xn--mnchen-3ya.de"),  # already punycode: unchanged
    ],
)
def test_normalise_address_gives_one_normalised_address(value: str, expected: str) -> None:
    assert normalise_address(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("a@x.com, b@y.com", "invalid characters"),  # two addresses are not one
        ("a@x.com\r\nBcc: b@y.com", LINE_BREAK),
        ("a..b@x.com", "two periods in a row"),
        ("nobody", "must have an @-sign"),
    ],
)
def test_normalise_address_refuses_what_is_not_exactly_one_address(value: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        normalise_address(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tea.CO.uk", "tea.co.uk"),  # lowercased
        ("  tea.co.uk\t", "tea.co.uk"),  # trimmed
        ("München.de", "xn--mnchen-3ya.de"),  # IDN as punycode, as addresses at it are normalised
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),  # already punycode: unchanged
    ],
)
def test_normalise_domain_normalises_as_the_part_of_an_address_after_the_at(
    value: str, expected: str
) -> None:
    assert normalise_domain(value) == expected
    assert normalise_address(f"jo@{value.strip()}") == f"jo@{expected}"  # the same rule, whichever is asked


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("localhost", "The part after the @-sign is not valid. It should have a period."),  # no dot
        ("tea .co.uk", "The part after the @-sign contains invalid characters: SPACE."),  # a space
        (
            "tea.test",
            "The part after the @-sign is a special-use or reserved name that cannot be used with email.",
        ),
        ("[192.0.2.1]", "A bracketed IP address after the @-sign is not allowed here."),  # an IP address
        ("tea.co.uk\nBcc: x", LINE_BREAK),  # a header
        ("jo@tea.co.uk", "a domain holds no @-sign, angle brackets or quotes"),  # an address is not a domain
        ("tea.co.uk> <x", "a domain holds no @-sign, angle brackets or quotes"),  # nor a display-name trick
        ("", "There must be something after the @-sign."),  # nothing
    ],
)
def test_normalise_domain_refuses_what_no_address_could_be_at(value: str, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        normalise_domain(value)
    assert caught.value.message == reason


def test_screen_emails_splits_entries_keeps_their_details_and_notes_refusals() -> None:
    entries = [
        {
            "value": "info@a.example, Victim@Evil.example",
            "source": "hunter",
            "verification": "valid",
            "score": 90,
        },
        {"value": "info@a.example", "source": "website", "verification": "unverified"},  # a repeat: dropped
        {"value": "x@y.example\r\nBcc: victim@evil.example", "source": "hunter", "verification": "valid"},
        {"value": None, "source": "osm"},
    ]
    assert screen_emails(entries) == (
        [
            {"value": "info@a.example", "source": "hunter", "verification": "valid", "score": 90},
            {"value": "victim@evil.example", "source": "hunter", "verification": "valid", "score": 90},
        ],
        [
            f"refused address 'x@y.example\\r\\nBcc: victim@evil.example' from hunter: {LINE_BREAK}",
            "refused address '' from osm: it is empty",
        ],
    )


def _lead(*emails: dict[str, Any]) -> Lead:
    return Lead(name="The Crown", source="osm", source_id="osm:node/1", emails=list(emails))


def test_lead_keeps_only_checked_addresses_and_notes_the_refused_ones() -> None:
    lead = _lead(
        {"value": "Info@Crown.pub; jo@crown.pub", "source": "osm", "verification": "unverified"},
        {"value": "jo@crown.pub\nBcc: victim@evil.example", "source": "hunter", "verification": "valid"},
    )
    assert lead.emails == [
        ContactEmail(value="info@crown.pub", source="osm", verification="unverified"),
        ContactEmail(value="jo@crown.pub", source="osm", verification="unverified"),
    ]
    assert lead.notes == [
        f"refused address 'jo@crown.pub\\nBcc: victim@evil.example' from hunter: {LINE_BREAK}"
    ]
    # Read back (from a store, or the next step), it is the same lead: the note is not repeated.
    assert Lead.model_validate(lead.to_json_dict()) == lead


def test_merge_enrichment_adds_the_enriched_copys_notes_to_the_lead_once_each_in_order() -> None:
    refused = f"refused address 'x@y.example\\r\\nBcc: z@evil.example' from hunter: {LINE_BREAK}"
    searched = _lead().model_copy(update={"notes": ["from the search"]})
    # The enrichment step's copy of the lead: the search's note again (kept once), then the refusal.
    enriched = searched.model_copy(update={"notes": ["from the search", refused]})
    other = Lead(name="The Anchor", source="osm", source_id="osm:node/2")

    merged = merge_enrichment([searched, other], [enriched])

    assert merged == [searched.model_copy(update={"notes": ["from the search", refused]}), other]


def test_choose_contact_says_which_addresses_were_refused() -> None:
    lead = _lead({"value": "call us on 0161 496 0000", "source": "osm", "verification": "unverified"})
    contact, why_not = choose_contact(lead)
    assert contact is None
    assert why_not is not None and why_not.startswith(
        "no email address found; refused address 'call' from osm: "
    )
    assert len(lead.notes) == 6  # "call", "us", "on", "0161", "496", "0000"


def test_choose_contact_never_picks_a_value_that_is_not_one_address() -> None:
    # A copy made without validation (model_copy) still holds the raw value: drafting leaves it out.
    lead = _lead().model_copy(
        update={
            "emails": [
                ContactEmail(
                    value="info@a.example, victim@evil.example", source="hunter", verification="valid"
                ),
                ContactEmail(value="Jo@Crown.pub", source="hunter", verification="unverified"),
            ]
        }
    )
    contact, why_not = choose_contact(lead)
    assert (contact.value if contact else None, why_not) == ("jo@crown.pub", None)
