"""Two imports of one city at the same time leave one set, never both (addresses.services.address_points_replace)."""

import threading

import pytest
from django.db import connection, connections

from addresses.models import AddressPoint
from addresses.reading import AddressRow
from addresses.services import address_points_replace
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def rows(prefix: str, n: int = 3) -> list[AddressRow]:
    return [AddressRow(address=f"{i} {prefix} St", search_text=f"{i} {prefix.lower()} st", lat=35.78, lng=-78.64)
            for i in range(1, n + 1)]


class HeldRows(list):
    """Rows whose reading waits for `release`: the import stays inside its transaction, after its DELETE."""

    def __init__(self, items, release: threading.Event, reading: threading.Event):
        super().__init__(items)
        self.release, self.reading = release, reading

    def __iter__(self):
        self.reading.set()
        self.release.wait(30)
        return super().__iter__()


def waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


def test_a_second_import_waits_for_the_first_and_then_replaces_its_set():
    address_points_replace(city="raleigh", rows=rows("Old"))
    release, reading = threading.Event(), threading.Event()
    errors = []

    def replace(new_rows):
        try:
            address_points_replace(city="raleigh", rows=new_rows)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=replace, args=(HeldRows(rows("First"), release, reading),))
    first.start()
    wait_for(reading.is_set, what="the first import inside its transaction")
    second = threading.Thread(target=replace, args=(rows("Second", 2),))
    second.start()
    wait_for(waiting_on_a_lock, what="the second import waiting for the first")
    release.set()
    first.join(30)
    second.join(30)

    assert not errors
    assert sorted(AddressPoint.objects.values_list("address", flat=True)) == ["1 Second St", "2 Second St"]
