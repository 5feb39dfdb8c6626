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
