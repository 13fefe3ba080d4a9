"""Writes of address points: a city's set replaced whole, in one transaction."""

from django.db import connection, transaction

from addresses.reading import AddressRow


@transaction.atomic
def address_points_replace(*, city: str, rows: list[AddressRow]) -> int:
    """The city's points become exactly `rows`. Searches keep seeing the old set until the commit, and a failure
    anywhere leaves the old set as it was: nothing is ever half imported."""
    with connection.cursor() as cursor:
        # Two imports of one city at once would each delete only what was committed before it began, and both sets
        # would stay: the second waits for the first here, then replaces its set.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('addresses.replace:' || %s))", [city])
        cursor.execute("DELETE FROM addresses_addresspoint WHERE city = %s", [city])
        # COPY: a city's 200,000 points load in seconds, where multi-row INSERTs took half a minute.
        with cursor.cursor.copy("COPY addresses_addresspoint (city, address, search_text, location) FROM STDIN") \
                as copy:
            for row in rows:
                copy.write_row((city, row.address, row.search_text, f"SRID=4326;POINT({row.lng:.7f} {row.lat:.7f})"))
    return len(rows)
