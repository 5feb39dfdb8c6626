"""Places the gazetteer and goal-reading tests share: as the gazetteer holds them, and as a goal matches them."""

from __future__ import annotations

from wyshbone.domain.gazetteer import Place
from wyshbone.domain.models import RegionKind as K
from wyshbone.domain.models import RegionMatch

YORKSHIRE = Place(
    name="Yorkshire",
    kind=K.REGION,
    region="Yorkshire and The Humber",
    field_values=("Yorkshire and The Humber",),
)

# SW1 has no row of its own in the postcode districts table: only its sub-districts SW1A…SW1Y do.
SW1A = Place(
    name="SW1A",
    kind=K.POSTCODE_DISTRICT,
    lat=51.50,
    lon=-0.13,
    radius_km=2.0,
    population=400,
    region="London",
    local_authority="Westminster",
    field_values=("SW1A",),
)
SW1P = Place(
    name="SW1P",
    kind=K.POSTCODE_DISTRICT,
    lat=51.49,
    lon=-0.13,
    radius_km=2.0,
    population=9600,
    region="London",
    local_authority="Westminster",
    field_values=("SW1P",),
)
SW1_MATCH = RegionMatch(
    name="SW1",
    kind=K.POSTCODE_DISTRICT,
    country="GB",
    lat=51.495,
    lon=-0.13,
    radius_km=3.0,
    population=10000,
    region="London",
    local_authority="Westminster",
    field_values=("SW1A", "SW1P"),
)
"""SW1 as a goal matches it: centred among its sub-districts, reaching past the farthest, searching all of them."""

MANCHESTER_MATCH = RegionMatch(
    name="Manchester",
    kind=K.TOWN,
    country="GB",
    lat=53.48095,
    lon=-2.23743,
    radius_km=6.0,
    population=568996,
    county="Greater Manchester",
    region="North West",
    local_authority="Manchester",
)
MANCHESTER_10KM = RegionMatch(
    name="Manchester", kind=K.TOWN, country="GB", lat=53.4808, lon=-2.2426, radius_km=10.0
)
"""Manchester as the online providers' tests search it: the city centre, 10 km around."""
