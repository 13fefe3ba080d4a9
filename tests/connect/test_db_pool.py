"""After a database restart the pool's idle connections are all dead: the next query gets a fresh connection at
once, instead of the pool finding them dead one backoff at a time until its timeout (an error page)."""

import threading

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def in_a_thread(work) -> list[Exception]:
    """Runs work() on a thread of its own, so with a connection of its own from the pool; returns its errors."""
    errors = []

    def run():
        try:
            work()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()  # back to the pool

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return errors


def query(sql: str):
    def work():
        with connection.cursor() as cursor:
            cursor.execute(sql)
    return work


def test_the_first_query_after_a_restart_gets_a_fresh_connection():
    pool = connection.pool
    busy = [threading.Thread(target=in_a_thread, args=(query("SELECT pg_sleep(0.3)"),)) for _ in range(5)]
    for thread in busy:
        thread.start()
    for thread in busy:
        thread.join()
    assert pool.get_stats()["pool_available"] >= 5  # five idle connections wait in the pool
    lost_before = pool.get_stats().get("connections_lost", 0)
    with connection.cursor() as cursor:  # as a restart or failover would
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")

    assert in_a_thread(query("SELECT 1")) == []  # before: "couldn't get a connection after 10.00 sec"
    assert pool.get_stats().get("connections_lost", 0) - lost_before >= 4  # the idle ones, checked together
