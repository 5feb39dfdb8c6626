"""Choosing and merging leads, pure."""

from __future__ import annotations

import csv
import io

import pytest

from wyshbone.domain.leads import leads_csv, merge_leads, select_best
from wyshbone.domain.models import Lead, LeadMatch


def lead(source_id: str, name: str, postcode: str | None = None, **fields: object) -> Lead:
    source = source_id.split(":")[0]
    filled = {"name": name, **({"postcode": postcode} if postcode else {}), **fields}
    return Lead(source=source, source_id=source_id, provenance=dict.fromkeys(filled, source), **filled)  # type: ignore[arg-type]


def test_merge_leads_dedupes_by_id_name_postcode_and_domain_keeping_each_fields_source() -> None:
    directory = [lead("fsa:1", "The Crown", "M1 1AA"), lead("fsa:2", "Costa Coffee")]
    osm = [
        lead("osm:n/9", "Crown", "M11AA", phone="0161 000"),  # same name at the same postcode as fsa:1
        lead("osm:n/8", "Federal", website="https://federal.co.uk/"),
    ]
    google = [
        lead("google_places:a", "Federal Café", "M4 5BD", domain="federal.co.uk"),  # same domain as osm:n/8
        lead("google_places:b", "Costa Coffee"),  # same name, no postcode: a different branch
    ]

    merged = merge_leads(
        [directory, osm, google], domain_of=lambda x: x.domain or ("federal.co.uk" if x.website else None)
    )

    assert [x.source_id for x in merged] == ["fsa:1", "fsa:2", "osm:n/8", "google_places:b"]
    crown, _, federal, _ = merged
    assert (crown.phone, crown.provenance["phone"], crown.provenance["name"]) == ("0161 000", "osm", "fsa")
    assert (federal.postcode, federal.provenance["postcode"]) == ("M4 5BD", "google_places")


def test_select_best_keeps_rank_order_and_skips_duplicates() -> None:
    ranked = [
        lead("fsa:1", "A", "M1 1AA"),
        lead("fsa:2", "The A", "M1 1AA"),
        lead("fsa:3", "B"),
        lead("fsa:4", "C"),
    ]
    assert [x.source_id for x in select_best(ranked, 2)] == ["fsa:1", "fsa:3"]


@pytest.mark.parametrize(
    ("name", "cell"),
    [
        ("@ Angelas", "'@ Angelas"),  # real names in the open data a spreadsheet would run as formulas
        ("@homePizza", "'@homePizza"),
        ("+ Calorie", "'+ Calorie"),
        ('=HYPERLINK("http://evil.example")', '\'=HYPERLINK("http://evil.example")'),
        ("-2+3", "'-2+3"),
        ("\tTabbed", "'\tTabbed"),
        ("\rReturn", "'\rReturn"),
        ("Café = Good", "Café = Good"),  # only the first character matters
        ("The Crown", "The Crown"),
    ],
)
def test_leads_csv_neutralises_cells_a_spreadsheet_would_run(name: str, cell: str) -> None:
    lead = Lead(name=name, source="fsa_fhrs", source_id="fsa:1", postcode="M1 1AA", phone="+44 161 000 0000")
    (row,) = csv.DictReader(io.StringIO(leads_csv([lead])))
    assert (row["name"], row["postcode"], row["phone"]) == (cell, "M1 1AA", "'+44 161 000 0000")


def test_leads_csv_has_each_column_once_with_where_and_why() -> None:
    match = LeadMatch(
        area="nearby",
        kind="category",
        reasons=["FSA type Restaurant/Cafe/Canteen", "2.3 km from Manchester centre, in Salford"],
    )
    found = Lead(
        name="Sale Gym",
        source="fsa_fhrs",
        source_id="fsa_fhrs:1",
        postcode="M33 7AA",
        post_town="Sale",
        local_authority="Trafford",
        region="North West",
        lat=53.42,
        lon=-2.32,
        distance_km=2.3,
        match=match,
    )
    unmatched = Lead(name="Old list", source="osm", source_id="osm:node/1")  # saved before matching existed

    reader = csv.DictReader(io.StringIO(leads_csv([found, unmatched])))
    header = list(reader.fieldnames or [])
    rows = list(reader)

    assert len(header) == len(set(header))  # each column once (postTown was there twice)
    assert {"localAuthority", "region", "lat", "lon", "distanceKm", "matchArea", "matchReasons"} <= set(
        header
    )
    assert {k: rows[0][k] for k in ("postTown", "localAuthority", "region", "lat", "lon", "distanceKm")} == {
        "postTown": "Sale",
        "localAuthority": "Trafford",
        "region": "North West",
        "lat": "53.42",
        "lon": "-2.32",
        "distanceKm": "2.3",
    }
    assert (rows[0]["matchArea"], rows[0]["matchReasons"]) == (
        "nearby",
        "FSA type Restaurant/Cafe/Canteen; 2.3 km from Manchester centre, in Salford",
    )
    assert (rows[1]["matchArea"], rows[1]["matchReasons"]) == ("", "")
