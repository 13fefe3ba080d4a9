"""After a database restart the pool's idle connections are all dead: the next query gets a fresh connection at
once, instead of the pool finding them dead one backoff at a time until its timeout (an error page)."""

import threading

import pytest
from django.db import connection
from psycopg_pool import ConnectionPool

from connect import db_pool
from tests.conftest import wait_for

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
        # A restart is over before anyone queries again: the ended sessions are gone.
        wait_for(lambda: not cursor.execute("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                                            "AND pid <> pg_backend_pid()").fetchone(), timeout=30)

    assert in_a_thread(query("SELECT 1")) == []  # before: "couldn't get a connection after 10.00 sec"
    assert pool.get_stats().get("connections_lost", 0) - lost_before >= 4  # the idle ones, checked together


def test_a_healthy_connection_goes_back_into_use_without_a_round_trip(monkeypatch):
    checked, used = [], []
    plain_check = ConnectionPool.check_connection
    monkeypatch.setattr(ConnectionPool, "check_connection", lambda conn: checked.append(id(conn)) or plain_check(conn))

    def work():
        query("SELECT 1")()
        used.append(id(connection.connection))

    for _ in range(12):  # requests one after another; the pool holds at most 10, so some are handed out again
        assert in_a_thread(work) == []
    assert len(used) > len(set(used))
    assert len(checked) == len(set(checked))  # each only the first time it is handed out

    monkeypatch.setattr(db_pool, "IDLE_CHECK_AFTER_S", 0.0)  # idle for long: it may have been dropped on the way
    checked.clear()
    assert in_a_thread(query("SELECT 1")) == []
    assert len(checked) == 1
