"""Monitor decisions, pure: cadences, what is new since the last run, and the message that reports it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from wyshbone.domain.models import Lead
from wyshbone.domain.monitors import Cadence, cadence_of, identities, new_leads, next_run_after, report
from wyshbone.errors import InputError

NOW = datetime(2024, 11, 20, 9, 0)


def lead(source_id: str, name: str, postcode: str | None = None) -> Lead:
    return Lead(name=name, source=source_id.split(":")[0], source_id=source_id, postcode=postcode)


def known_of(*leads: Lead) -> set[str]:
    return {key for x in leads for key in identities(x)}


# --- cadences -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("daily", Cadence.DAILY),
        ("weekly", Cadence.WEEKLY),
        ("monthly", Cadence.MONTHLY),
        (Cadence.MONTHLY, Cadence.MONTHLY),
        (None, Cadence.WEEKLY),
        ("", Cadence.WEEKLY),
    ],
)
def test_cadence_of_reads_a_cadence_and_defaults_to_weekly(value: object, expected: Cadence) -> None:
    assert cadence_of(value) is expected


@pytest.mark.parametrize("value", ["fortnightly", "hourly", 7])
def test_cadence_of_refuses_an_unknown_cadence_naming_the_choices(value: object) -> None:
    with pytest.raises(InputError, match=rf"^unknown cadence {value!r}: use daily, weekly or monthly$"):
        cadence_of(value)


@pytest.mark.parametrize(
    ("cadence", "after", "expected"),
    [
        (Cadence.DAILY, datetime(2024, 11, 20, 9, 30), datetime(2024, 11, 21, 9, 30)),
        (Cadence.DAILY, datetime(2024, 12, 31, 23, 0), datetime(2025, 1, 1, 23, 0)),
        (Cadence.WEEKLY, datetime(2024, 11, 20, 9, 30), datetime(2024, 11, 27, 9, 30)),
        (Cadence.WEEKLY, datetime(2024, 12, 28, 8, 0), datetime(2025, 1, 4, 8, 0)),
        (Cadence.MONTHLY, datetime(2024, 3, 15, 9, 30), datetime(2024, 4, 15, 9, 30)),
        (Cadence.MONTHLY, datetime(2024, 1, 31, 9, 30), datetime(2024, 2, 29, 9, 30)),  # leap year
        (Cadence.MONTHLY, datetime(2023, 1, 31, 9, 30), datetime(2023, 2, 28, 9, 30)),
        (Cadence.MONTHLY, datetime(2024, 3, 31, 6, 0), datetime(2024, 4, 30, 6, 0)),
        (Cadence.MONTHLY, datetime(2024, 12, 15, 9, 30), datetime(2025, 1, 15, 9, 30)),
        (Cadence.MONTHLY, datetime(2024, 12, 31, 23, 59), datetime(2025, 1, 31, 23, 59)),
    ],
)
def test_next_run_after_adds_a_day_a_week_or_a_month(
    cadence: Cadence, after: datetime, expected: datetime
) -> None:
    assert next_run_after(cadence, after) == expected


def test_next_run_after_keeps_the_time_zone() -> None:
    zone = timezone(timedelta(hours=1))
    after = datetime(2024, 1, 31, 7, 15, tzinfo=zone)
    assert next_run_after(Cadence.MONTHLY, after) == datetime(2024, 2, 29, 7, 15, tzinfo=zone)
    assert next_run_after(Cadence.MONTHLY, after).tzinfo is zone
    assert next_run_after(Cadence.DAILY, after).tzinfo is zone


# --- what is new --------------------------------------------------------------------------------------------


def test_identities_are_the_source_record_and_the_name_at_the_postcode() -> None:
    assert identities(lead("fsa:1", "The Crown & Anchor", "m1 1aa")) == ("fsa:1", "crownandanchor|M11AA")


def test_identities_without_a_postcode_fall_back_to_the_source_record() -> None:
    assert identities(lead("osm:n/9", "Costa Coffee")) == ("osm:n/9", "id|osm:n/9")


def test_new_leads_leaves_out_a_business_known_by_its_source_record_even_renamed() -> None:
    known = known_of(lead("fsa:1", "The Crown", "M1 1AA"))
    assert new_leads([lead("fsa:1", "The Crown Inn", "M1 1AB")], known) == []


def test_new_leads_leaves_out_a_business_known_by_its_name_at_its_postcode_from_another_source() -> None:
    known = known_of(lead("fsa:1", "The Crown & Anchor", "M1 1AA"))
    assert new_leads([lead("osm:n/9", "Crown and Anchor", "m11aa")], known) == []


def test_new_leads_keeps_new_businesses_in_the_order_found() -> None:
    known = known_of(lead("fsa:1", "The Crown", "M1 1AA"))
    found = [
        lead("fsa:7", "Zest", "M2 2BB"),
        lead("osm:n/9", "Crown", "M1 1AA"),  # known: same name at the same postcode
        lead("fsa:3", "Apple Tree", "M3 3CC"),
        lead("fsa:1", "The Crown", "M1 1AA"),  # known: same record
        lead("google_places:x", "The Crown", "M4 4DD"),  # same name, another postcode: a new branch
    ]
    assert [x.source_id for x in new_leads(found, known)] == ["fsa:7", "fsa:3", "google_places:x"]


def test_new_leads_gives_each_business_once_when_it_is_found_twice() -> None:
    found = [
        lead("fsa:7", "Zest Cafe", "M2 2BB"),
        lead("osm:n/1", "Zest Café", "M22BB"),  # the same business from another source
        lead("fsa:7", "Zest Cafe", "M2 2BB"),  # the same record again
        lead("fsa:8", "Bloom"),
    ]
    assert [x.source_id for x in new_leads(found, set())] == ["fsa:7", "fsa:8"]


def test_new_leads_keeps_same_named_businesses_without_a_postcode_apart() -> None:
    found = [lead("osm:n/1", "Costa Coffee"), lead("google_places:a", "Costa Coffee")]
    known = known_of(lead("fsa:2", "Costa Coffee"))
    assert [x.source_id for x in new_leads(found, known)] == ["osm:n/1", "google_places:a"]


def test_new_leads_does_not_change_the_known_set() -> None:
    known = known_of(lead("fsa:1", "The Crown", "M1 1AA"))
    before = set(known)
    new_leads([lead("fsa:2", "Zest", "M2 2BB")], known)
    assert known == before


# --- the report ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new", "persona", "region", "since", "expected"),
    [
        (
            3,
            "coffee shop",
            "Manchester",
            datetime(2024, 11, 1),
            "3 new coffee shops in Manchester since 1 Nov.",
        ),
        (
            1,
            "coffee shop",
            "Manchester",
            datetime(2024, 11, 1),
            "1 new coffee shop in Manchester since 1 Nov.",
        ),
        (
            0,
            "coffee shop",
            "Manchester",
            datetime(2024, 11, 1),
            "No new coffee shops in Manchester since 1 Nov.",
        ),
        (2, "dentist", None, datetime(2024, 6, 9), "2 new dentists since 9 Jun."),
        (5, None, "Leeds", datetime(2024, 3, 12), "5 new businesses in Leeds since 12 Mar."),
        (1, None, None, datetime(2024, 3, 12), "1 new business since 12 Mar."),
        (0, None, None, datetime(2024, 3, 12), "No new businesses since 12 Mar."),
    ],
)
def test_report_says_how_many_new_businesses_where_and_since_when(
    new: int, persona: str | None, region: str | None, since: datetime, expected: str
) -> None:
    assert report(new, persona=persona, region=region, since=since, now=NOW) == expected


def test_report_shows_the_year_only_when_it_is_not_the_current_one() -> None:
    since = datetime(2023, 12, 28)
    assert report(4, persona="bakery", region="York", since=since, now=NOW) == (
        "4 new bakeries in York since 28 Dec 2023."
    )
    assert report(0, persona="bakery", region="York", since=since, now=NOW) == (
        "No new bakeries in York since 28 Dec 2023."
    )
    assert report(4, persona="bakery", region="York", since=since, now=datetime(2023, 12, 31)) == (
        "4 new bakeries in York since 28 Dec."
    )
