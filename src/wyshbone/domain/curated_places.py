"""Facts about British places that no open-data file holds, kept by hand: which councils make up each ceremonial
county, named groups of councils, other names for regions and councils, areas with no council boundary (the
Cotswolds), other names of countries; and how a council's many spellings are keyed (``council_keys``). Pure."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from wyshbone.domain.gazetteer import place_key

__all__ = [
    "AREAS",
    "CEREMONIAL_COUNTIES",
    "COUNCIL_GROUPS",
    "COUNCIL_KEY_ALIASES",
    "COUNTRY_ALIASES",
    "EXTRA_COUNCIL_SPELLINGS",
    "REGION_ALIASES",
    "council_keys",
]

# Ceremonial counties → their councils (any spelling the directory uses resolves by key). The directory's own
# ``county`` field only covers two-tier shire districts, so a county search must also list the councils.
CEREMONIAL_COUNTIES: Mapping[str, tuple[str, ...]] = {
    "Bedfordshire": ("Bedford", "Central Bedfordshire", "Luton"),
    "Berkshire": (
        "Bracknell Forest", "Reading", "Slough", "West Berkshire", "Windsor and Maidenhead", "Wokingham",
    ),
    "Buckinghamshire": ("Buckinghamshire", "Aylesbury Vale", "Chiltern", "South Bucks", "Wycombe", "Milton Keynes"),
    "Cambridgeshire": (
        "Cambridge City", "East Cambridgeshire", "Fenland", "Huntingdonshire", "South Cambridgeshire",
        "Peterborough City",
    ),
    "Cheshire": ("Cheshire East", "Cheshire West and Chester", "Halton", "Warrington"),
    "Cornwall": ("Cornwall", "Isles of Scilly"),
    "County Durham": ("County Durham", "Darlington", "Hartlepool"),
    "Cumbria": ("Allerdale", "Barrow-in-Furness", "Carlisle City", "Copeland", "Eden", "South Lakeland"),
    "Derbyshire": (
        "Amber Valley", "Bolsover", "Chesterfield", "Derbyshire Dales", "Erewash", "High Peak",
        "North East Derbyshire", "South Derbyshire", "Derby City",
    ),
    "Devon": (
        "East Devon", "Exeter City", "Mid Devon", "North Devon", "South Hams", "Teignbridge", "Torridge",
        "West Devon", "Plymouth City", "Torbay",
    ),
    "Dorset": (
        "Dorset", "West Dorset", "North Dorset", "East Dorset", "Purbeck", "Weymouth and Portland", "Christchurch",
        "Bournemouth", "Poole", "Bournemouth, Christchurch and Poole",
    ),
    "East Sussex": ("Eastbourne", "Hastings", "Lewes", "Rother", "Wealden", "Brighton and Hove"),
    "East Yorkshire": ("East Riding of Yorkshire", "Hull City"),
    "Essex": (
        "Basildon", "Braintree", "Brentwood", "Castle Point", "Chelmsford", "Colchester", "Epping Forest", "Harlow",
        "Maldon", "Rochford", "Tendring", "Uttlesford", "Southend-on-Sea", "Thurrock",
    ),
    "Gloucestershire": (
        "Cheltenham", "Cotswold", "Forest of Dean", "Gloucester City", "Stroud", "Tewkesbury", "South Gloucestershire",
    ),
    "Greater Manchester": (
        "Bolton", "Bury", "Manchester", "Oldham", "Rochdale", "Salford", "Stockport", "Tameside", "Trafford", "Wigan",
    ),
    "Hampshire": (
        "Basingstoke and Deane", "East Hampshire", "Eastleigh", "Fareham", "Gosport", "Hart", "Havant", "New Forest",
        "Rushmoor", "Test Valley", "Winchester City", "Southampton", "Portsmouth",
    ),
    "Herefordshire": ("Herefordshire",),
    "Hertfordshire": (
        "Broxbourne", "Dacorum", "East Hertfordshire", "Hertsmere", "North Hertfordshire", "St Albans City",
        "Stevenage", "Three Rivers", "Watford", "Welwyn Hatfield",
    ),
    "Kent": (
        "Ashford", "Canterbury City", "Dartford", "Dover", "Folkestone and Hythe", "Shepway", "Gravesham", "Maidstone",
        "Sevenoaks", "Swale", "Thanet", "Tonbridge and Malling", "Tunbridge Wells", "Medway",
    ),
    "Lancashire": (
        "Burnley", "Chorley", "Fylde", "Hyndburn", "Lancaster City", "Pendle", "Preston", "Ribble Valley",
        "Rossendale", "South Ribble", "West Lancashire", "Wyre", "Blackburn with Darwen", "Blackpool",
    ),
    "Leicestershire": (
        "Blaby", "Charnwood", "Harborough", "Hinckley and Bosworth", "Melton", "North West Leicestershire",
        "Oadby and Wigston", "Leicester City",
    ),
    "Lincolnshire": (
        "Boston", "East Lindsey", "Lincoln City", "North Kesteven", "South Holland", "South Kesteven", "West Lindsey",
        "North Lincolnshire", "North East Lincolnshire",
    ),
    "Merseyside": ("Knowsley", "Liverpool", "Sefton", "St Helens", "Wirral"),
    "Norfolk": (
        "Breckland", "Broadland", "Great Yarmouth", "King's Lynn and West Norfolk", "North Norfolk", "Norwich City",
        "South Norfolk",
    ),
    "North Yorkshire": (
        "Craven", "Hambleton", "Harrogate", "Richmondshire", "Ryedale", "Scarborough", "Selby", "York",
        "Middlesbrough", "Redcar and Cleveland",
    ),
    "Northamptonshire": (
        "Corby", "Daventry", "East Northamptonshire", "Kettering", "Northampton", "South Northamptonshire",
        "Wellingborough",
    ),
    "Northumberland": ("Northumberland",),
    "Nottinghamshire": (
        "Ashfield", "Bassetlaw", "Broxtowe", "Gedling", "Mansfield", "Newark and Sherwood", "Rushcliffe",
        "Nottingham City",
    ),
    "Oxfordshire": ("Cherwell", "Oxford City", "South Oxfordshire", "Vale of White Horse", "West Oxfordshire"),
    "Rutland": ("Rutland",),
    "Shropshire": ("Shropshire", "Telford and Wrekin"),
    "Somerset": (
        "Mendip", "Sedgemoor", "South Somerset", "Somerset West and Taunton", "Taunton Deane", "West Somerset",
        "Bath and North East Somerset", "North Somerset",
    ),
    "South Yorkshire": ("Barnsley", "Doncaster", "Rotherham", "Sheffield"),
    "Staffordshire": (
        "Cannock Chase", "East Staffordshire", "Lichfield", "Newcastle-under-Lyme", "South Staffordshire", "Stafford",
        "Staffordshire Moorlands", "Tamworth", "Stoke-on-Trent",
    ),
    "Suffolk": (
        "Babergh", "East Suffolk", "Ipswich", "Mid Suffolk", "West Suffolk", "Suffolk Coastal", "Waveney",
        "Forest Heath", "St Edmundsbury",
    ),
    "Surrey": (
        "Elmbridge", "Epsom and Ewell", "Guildford", "Mole Valley", "Reigate and Banstead", "Runnymede", "Spelthorne",
        "Surrey Heath", "Tandridge", "Waverley", "Woking",
    ),
    "Tyne and Wear": ("Gateshead", "Newcastle upon Tyne", "North Tyneside", "South Tyneside", "Sunderland"),
    "Warwickshire": ("North Warwickshire", "Nuneaton and Bedworth", "Rugby", "Stratford-on-Avon", "Warwick"),
    "West Sussex": ("Adur", "Arun", "Chichester", "Crawley", "Horsham", "Mid Sussex", "Worthing"),
    "West Yorkshire": ("Bradford", "Calderdale", "Kirklees", "Leeds", "Wakefield"),
    "Wiltshire": ("Wiltshire", "Swindon"),
    "Worcestershire": ("Bromsgrove", "Malvern Hills", "Redditch", "Worcester City", "Wychavon", "Wyre Forest"),
}  # fmt: skip

# Named groups of councils that are not counties: members are councils or counties from the table above.
COUNCIL_GROUPS: Mapping[str, tuple[str, ...]] = {
    "North Wales": ("Isle of Anglesey", "Gwynedd", "Conwy", "Denbighshire", "Flintshire", "Wrexham"),
    "South Wales": (
        "Cardiff", "Swansea", "Newport", "Vale of Glamorgan", "Bridgend", "Rhondda Cynon Taf", "Merthyr Tydfil",
        "Caerphilly", "Blaenau Gwent", "Torfaen", "Monmouthshire", "Neath Port Talbot",
    ),
    "West Wales": ("Pembrokeshire", "Carmarthenshire", "Ceredigion"),
    "Mid Wales": ("Powys", "Ceredigion"),
    "Teesside": ("Middlesbrough", "Redcar and Cleveland", "Stockton-on-Tees", "Hartlepool"),
    "Black Country": ("Dudley", "Sandwell", "Walsall", "Wolverhampton"),
    "East Anglia": ("Norfolk", "Suffolk", "Cambridgeshire"),
    "Sussex": ("East Sussex", "West Sussex"),
}  # fmt: skip

# Names for one or several of the directory's regions (the regions themselves come from the files).
REGION_ALIASES: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # name: (directory regions, other names)
    "Yorkshire": (("Yorkshire and The Humber",), ("Yorkshire and Humber", "Yorkshire and the Humber region")),
    "London": (("London",), ("Greater London", "London area")),
    "Midlands": (("East Midlands", "West Midlands"), ("the Midlands",)),
    "North of England": (("North East", "North West", "Yorkshire and The Humber"), ("Northern England",)),
    "England": (
        ("North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands",
         "East of England", "London", "South East", "South West"),
        (),
    ),
    "Great Britain": (
        ("North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands",
         "East of England", "London", "South East", "South West", "Wales", "Scotland"),
        ("Britain", "GB", "Mainland UK"),
    ),
    "United Kingdom": (
        ("North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands",
         "East of England", "London", "South East", "South West", "Wales", "Scotland", "Northern Ireland"),
        ("UK", "the UK", "U.K."),
    ),
}  # fmt: skip

# Areas with no council boundary, searched by radius: (lat, lon, radius km, county, region, other names).
AREAS: Mapping[str, tuple[float, float, float, str, str, tuple[str, ...]]] = {
    "the Cotswolds": (51.83, -1.83, 25.0, "Gloucestershire", "South West", ("Cotswolds", "Cotswold Hills")),
    "the Lake District": (54.46, -3.09, 25.0, "Cumbria", "North West", ("Lakes", "the Lakes")),
    "the Peak District": (53.30, -1.78, 20.0, "Derbyshire", "East Midlands", ("Peaks", "the Peaks")),
    "the Yorkshire Dales": (54.23, -2.10, 25.0, "North Yorkshire", "Yorkshire and The Humber", ("Dales",)),
    "the North York Moors": (54.37, -0.88, 20.0, "North Yorkshire", "Yorkshire and The Humber", ()),
    "Dartmoor": (50.57, -3.92, 15.0, "Devon", "South West", ()),
    "Exmoor": (51.14, -3.64, 15.0, "Somerset", "South West", ()),
    "the Chilterns": (51.70, -0.78, 20.0, "Buckinghamshire", "South East", ("Chiltern Hills",)),
    "the Norfolk Broads": (52.68, 1.55, 15.0, "Norfolk", "East of England", ("the Broads",)),
    "the South Downs": (50.93, -0.70, 30.0, "West Sussex", "South East", ()),
    "Snowdonia": (52.95, -3.90, 25.0, "Gwynedd", "Wales", ("Eryri",)),
    "the Brecon Beacons": (51.88, -3.43, 20.0, "Powys", "Wales", ("Bannau Brycheiniog",)),
    "the Gower": (51.60, -4.15, 10.0, "Swansea", "Wales", ("Gower Peninsula",)),
    "the Cairngorms": (57.08, -3.67, 25.0, "Highland", "Scotland", ()),
}

# Directory spellings of councils that local_authority_region.csv lacks (checked against uk_businesses.csv.gz).
EXTRA_COUNCIL_SPELLINGS: Mapping[str, str] = {
    "Dorset": "South West",
    "Glasgow City": "Scotland",
    "Stirling": "Scotland",
    "Richmond-Upon-Thames": "London",
}

# Councils known under a different short name (FSA's "Hull City" is Kingston upon Hull).
COUNCIL_KEY_ALIASES: Mapping[str, str] = {
    "hull": "kingston upon hull",
    "isle of anglesey": "anglesey",
    "blackburn": "blackburn with darwen",
    "bcp": "bournemouth christchurch and poole",
    "western isles": "comhairle nan eilean siar",
    "eilean siar": "comhairle nan eilean siar",
}

COUNTRY_ALIASES: Mapping[str, str] = {
    "UK": "GB", "U.K.": "GB", "Great Britain": "GB", "Britain": "GB", "England": "GB", "Scotland": "GB",
    "Wales": "GB", "Northern Ireland": "GB",
    "USA": "US", "U.S.A.": "US", "U.S.": "US", "America": "US", "United States of America": "US",
    "Holland": "NL", "Netherlands": "NL", "UAE": "AE", "Korea": "KR", "Czech Republic": "CZ",
    "Republic of Ireland": "IE", "Eire": "IE", "Côte d'Ivoire": "CI", "Burma": "MM",
}  # fmt: skip

_COUNCIL_PREFIXES = (
    "city and county of the city of ", "city and county of ", "city and borough of ", "metropolitan borough of ",
    "royal borough of ", "borough of ", "county of ", "district of ", "city of ", "sir ",
)  # fmt: skip
_COUNCIL_SUFFIXES = (" city council", " council", " corporation", " county borough", " district", " city")


@functools.lru_cache(maxsize=4096)
def council_keys(spelling: str) -> tuple[str, ...]:
    """Lookup keys of a council spelling, main key first: "Caerdydd - Cardiff" → ("cardiff", "caerdydd")."""
    parts = [part for part in re.split(r"\s+-\s+", spelling) if part.strip()]
    keys: list[str] = []
    for part in reversed(parts):  # the English name comes last in the bilingual Welsh spellings
        key = _strip_council_words(place_key(re.sub(r"\(.*?\)", "", part)))
        key = COUNCIL_KEY_ALIASES.get(key, key)
        if key and key not in keys:
            keys.append(key)
    return tuple(keys)


def _strip_council_words(key: str) -> str:
    if key.startswith("city of london") or key.startswith("city and county of the city of london"):
        return "city of london"
    for prefix in _COUNCIL_PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix) :]
    for suffix in _COUNCIL_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key[: -len(suffix)]
    return key
