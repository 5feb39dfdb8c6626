"""A made-up business directory: rows in the open data's CSV layout, written where a test wants them."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Sequence
from pathlib import Path

HEADER = [
    *(
        "id",
        "source",
        "name",
        "category",
        "source_type",
        "address",
        "postcode",
        "post_town",
        "local_authority",
    ),
    *("county", "region", "lat", "lon", "geocode", "phone", "website", "source_date"),
]

# Testford's centre; 0.009° of latitude is about 1 km.
LAT, LON = 53.0, -2.0


def row(
    rid: str,
    name: str,
    category: str,
    *,
    postcode: str = "",
    lat: float | None = None,
    lon: float | None = None,
    la: str = "Testford",
    county: str = "Testshire",
    region: str = "Test Region",
    source_type: str = "Restaurant/Cafe/Canteen",
    source: str = "test_src",
    website: str = "",
) -> list[str]:
    return [
        f"{source}:{rid}",
        source,
        name,
        category,
        source_type,
        f"1 Test Street, {la}" if postcode else "",
        postcode,
        la if postcode else "",
        la,
        county,
        region,
        "" if lat is None else f"{lat:.6f}",
        "" if lon is None else f"{lon:.6f}",
        "source" if lat is not None else "",
        "",
        website,
        "2024-01-02",
    ]


def write_csv(path: Path, rows: Sequence[list[str]]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path
