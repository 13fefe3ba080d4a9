"""A generated Raleigh address set for the demo and the benchmark: deterministic, plausible street names laid over
the service area, house numbers along each street (even on one side, odd on the other) as a city numbers them."""

import math
import random

from addresses.reading import AddressRow
from addresses.text import search_text

DEMO_CITY = "raleigh-demo"
# Real Raleigh streets first (the demo's cameras sit on them), then names of the kind its suburbs use.
MAIN_STREETS = ["Fayetteville St", "Hillsborough St", "Glenwood Ave", "Person St", "Blount St", "Wade Ave",
                "Oberlin Rd", "New Bern Ave", "Capital Blvd", "Six Forks Rd", "Falls of Neuse Rd", "Western Blvd",
                "Poole Rd", "Rock Quarry Rd", "Lake Boone Trl", "Atlantic Ave", "Peace St", "Edenton St",
                "Wake Forest Rd", "Creedmoor Rd", "Leesville Rd", "Millbrook Rd", "Strickland Rd", "Duraleigh Rd",
                "Lead Mine Rd", "Brier Creek Pkwy", "Garner Rd", "Tryon Rd", "Avent Ferry Rd", "Gorman St"]
NAMES = ["Oak", "Pine", "Maple", "Cedar", "Dogwood", "Magnolia", "Willow", "Hickory", "Poplar", "Laurel", "Holly",
         "Sycamore", "Chestnut", "Birch", "Elm", "Walnut", "Cypress", "Juniper", "Azalea", "Camellia", "Longleaf",
         "Crabtree", "Neuse", "Walnut Creek", "Pigeon House", "Lassiter", "Mordecai", "Oakwood", "Cameron",
         "Boylan", "Dix", "Method", "Brooklyn", "Fairview", "Hayes Barton", "Budleigh", "Anderson", "Bernard",
         "Churchill", "Dixie", "Emerson", "Fenton", "Grant", "Harrington", "Iredell", "Jones", "Kingsley", "Lane",
         "Madison", "Nash", "Oakdale", "Pender", "Quail Hollow", "Ridgewood", "Stonehenge", "Tanglewood",
         "Umstead", "Vance", "Wilmington", "Yadkin", "Alamance", "Brookside", "Carolina Pines", "Deer Run",
         "Eastgate", "Foxcroft", "Greenbrier", "Hunting Ridge", "Ivy Glen", "Jasmine", "Kildaire", "Lakeview",
         "Meadowbrook", "Northclift", "Old Wake Forest", "Pleasant Valley", "River Birch", "Shady Grove",
         "Timber Ridge", "Valley Stream", "Westover", "Whitaker Mill", "Yorkshire", "Autumn Leaf", "Bell Tower",
         "Copper Beech", "Durant", "Falcon Crest", "Glen Eden", "Harps Mill", "Honeycutt", "Lynn", "Mitchell Mill",
         "Newton", "Ray", "Sandy Forks", "Spring Forest", "Trailwood", "Wolfpack", "Carmichael", "Saint Marys"]
TYPES = ["St", "Ave", "Rd", "Dr", "Ln", "Ct", "Way", "Pl", "Cir", "Trl", "Blvd", "Ter"]
PREFIXES = ["", "N", "S", "E", "W"]
# (lat, lng, zip) of neighbourhoods: streets cluster around them as the city's do.
CENTRES = [(35.7796, -78.6382, "27601"), (35.8032, -78.6460, "27604"), (35.7880, -78.6700, "27605"),
           (35.8300, -78.6400, "27609"), (35.7700, -78.6000, "27610"), (35.8600, -78.6200, "27615"),
           (35.7450, -78.6600, "27603"), (35.8200, -78.5800, "27616"), (35.8700, -78.7000, "27613"),
           (35.7600, -78.7100, "27606"), (35.9000, -78.7600, "27617"), (35.8400, -78.7200, "27612")]
WEST, SOUTH, EAST, NORTH = -78.82, 35.70, -78.47, 35.97  # the demo's service area
SPACING_M = 18  # metres between houses on one side
M_PER_DEG_LAT = 111_320


def _street_names(rng: random.Random, count: int) -> list[str]:
    """The main streets, then as many other distinct names as needed (up to 6,000)."""
    others = [" ".join(part for part in (prefix, name, kind) if part)
              for prefix in PREFIXES for name in NAMES for kind in TYPES]
    rng.shuffle(others)
    return (MAIN_STREETS + [name for name in others if name not in MAIN_STREETS])[:max(count, len(MAIN_STREETS))]


def demo_addresses(count: int, *, seed: int = 2026) -> list[AddressRow]:
    """`count` address points (exactly), the same ones for the same count and seed."""
    rng = random.Random(seed)
    rows: list[AddressRow] = []
    streets = _street_names(rng, count // 60)
    index = 0
    while len(rows) < count:
        name = streets[index % len(streets)]
        index += 1
        lat0, lng0, zip_code = rng.choice(CENTRES)
        lat0 += rng.gauss(0, 0.025)
        lng0 += rng.gauss(0, 0.03)
        bearing = math.radians(rng.choice([0, 90, rng.uniform(0, 180)]))
        houses = rng.randint(20, 60)
        first = rng.choice([100, 200, 300, 400, 500, 600, 800, 1000, 1200, 1500, 2000, 2400, 3000, 4100, 5200])
        m_per_deg_lng = M_PER_DEG_LAT * math.cos(math.radians(lat0))
        for house in range(houses):
            for side in (0, 1):
                along, across = house * SPACING_M, (side * 2 - 1) * 12
                north = along * math.cos(bearing) - across * math.sin(bearing)
                east = along * math.sin(bearing) + across * math.cos(bearing)
                lat, lng = lat0 + north / M_PER_DEG_LAT, lng0 + east / m_per_deg_lng
                if not (WEST < lng < EAST and SOUTH < lat < NORTH):
                    continue
                street = f"{first + house * 2 + side} {name}"
                rows.append(AddressRow(address=f"{street}, Raleigh {zip_code}", search_text=search_text(street),
                                       lng=round(lng, 7), lat=round(lat, 7)))
                if len(rows) == count:
                    return rows
    return rows
