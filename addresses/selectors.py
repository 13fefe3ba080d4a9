"""Reads of address points: type-ahead search on the trigram index and the nearest point to a place."""

from dataclasses import dataclass

from django.db import connection

from addresses.text import like_escaped, search_text

MIN_CHARS = 3  # fewer letters match a large part of a city and tell the person nothing
SUGGESTIONS = 8
REVERSE_MAX_M = 75  # farther than a long front yard from any address point, a click is not "at" that address


@dataclass(frozen=True, slots=True)
class Place:
    address: str
    lat: float
    lng: float

    def as_json(self) -> dict:
        return {"address": self.address, "lat": round(self.lat, 7), "lng": round(self.lng, 7)}


# Two steps, each bounded whatever the text. First the addresses that start with the text ("1200 fay"), in order, from
# the B-tree (pattern ops) index. Then, if those are too few, addresses with a word starting with it
# ("fayetteville", "oak st"), from the GIN trigram index: at most CANDIDATES of them are sorted (shortest first: an
# address before its units), so a text that matches half the city ("ave") costs no more than a rare one.
CANDIDATES = 500
_PREFIX_SQL = """
SELECT address, ST_Y(location::geometry), ST_X(location::geometry)
FROM addresses_addresspoint
WHERE search_text LIKE %(prefix)s
ORDER BY search_text
LIMIT %(limit)s
"""
_WORD_SQL = """
SELECT address, lat, lng FROM (
    SELECT address, search_text, ST_Y(location::geometry) AS lat, ST_X(location::geometry) AS lng
    FROM addresses_addresspoint
    WHERE search_text LIKE %(word)s AND search_text NOT LIKE %(prefix)s
    LIMIT %(candidates)s
) AS found
ORDER BY length(search_text), search_text
LIMIT %(limit)s
"""

# Nearest first by the geography GiST index (<-> on geography is index-assisted), bounded by ST_DWithin.
_NEAREST_SQL = """
SELECT address, ST_Y(location::geometry), ST_X(location::geometry)
FROM addresses_addresspoint
WHERE ST_DWithin(location, ST_GeogFromText(%(point)s), %(max_m)s)
ORDER BY location <-> ST_GeogFromText(%(point)s)
LIMIT 1
"""


def addresses_matching(*, text: str, limit: int = SUGGESTIONS) -> list[Place]:
    """Suggestions for what a person has typed so far. Only the street part is searched: what follows a comma
    (", Raleigh NC") is left out, as the stored search text leaves out the city and ZIP code."""
    folded = like_escaped(search_text(text.split(",")[0]))
    if len(folded) < MIN_CHARS:
        return []
    params = {"prefix": f"{folded}%", "word": f"% {folded}%", "limit": limit, "candidates": CANDIDATES}
    with connection.cursor() as cursor:
        cursor.execute(_PREFIX_SQL, params)
        places = [Place(*row) for row in cursor.fetchall()]
        if len(places) < limit:
            cursor.execute(_WORD_SQL, {**params, "limit": limit - len(places)})
            places += [Place(*row) for row in cursor.fetchall()]
    return places


def address_exact(*, text: str) -> Place | None:
    """The address point whose street address is exactly `text` (folded: case, punctuation and "Street"/"St" do not
    matter; what follows a comma is left out), for a form sent without a point (no JavaScript)."""
    folded = search_text(text.split(",")[0])
    if len(folded) < MIN_CHARS:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT address, ST_Y(location::geometry), ST_X(location::geometry) FROM addresses_addresspoint "
                       "WHERE search_text = %s ORDER BY id LIMIT 1", [folded])
        row = cursor.fetchone()
    return Place(*row) if row else None


def address_nearest(*, lat: float, lng: float, max_m: int = REVERSE_MAX_M) -> Place | None:
    with connection.cursor() as cursor:
        cursor.execute(_NEAREST_SQL, {"point": f"SRID=4326;POINT({lng:.7f} {lat:.7f})", "max_m": max_m})
        row = cursor.fetchone()
    return Place(*row) if row else None


def address_sets() -> list[tuple[str, int]]:
    """(city, number of points) for each imported set."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT city, count(*) FROM addresses_addresspoint GROUP BY city ORDER BY city")
        return cursor.fetchall()
