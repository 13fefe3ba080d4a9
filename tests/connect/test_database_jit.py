"""PostgreSQL's JIT compiler is off on connect's connections: at a million cameras it made a 2 km nearby search three
times slower (bench/nearby.py). An operator who sets jit in the database URL's `options` keeps that."""

import threading

import pytest
from django.db import connection

from connect.env import parse_database_url

pytestmark = pytest.mark.django_db(transaction=True)


def jit_setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        return cursor.fetchone()[0]


def test_a_connection_from_django_has_jit_off():
    assert connection.settings_dict["OPTIONS"].get("pool")  # through the psycopg pool, as the server runs
    assert jit_setting() == "off"


def test_every_pooled_connection_has_jit_off():
    seen = []

    def on_a_thread_of_its_own():  # another thread takes another connection from the pool
        seen.append(jit_setting())
        connection.close()

    threads = [threading.Thread(target=on_a_thread_of_its_own) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert seen == ["off", "off", "off"]


def test_it_is_set_by_connect_not_on_the_server():
    """Only connect's sessions change (the setting comes from the client): psql or a DBA's tools keep the server's."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT source FROM pg_settings WHERE name = 'jit'")
        assert cursor.fetchone()[0] == "client"


def test_options_in_the_url_are_kept_and_an_operators_jit_wins():
    db = parse_database_url("D", "postgres://u@db/connect?options=-c%20statement_timeout%3D5000")
    assert db["OPTIONS"]["options"] == "-c statement_timeout=5000 -c jit=off"
    db = parse_database_url("D", "postgres://u@db/connect?options=-c%20jit%3Don")
    assert db["OPTIONS"]["options"] == "-c jit=on"
    assert parse_database_url("D", "postgres://u@db/connect")["OPTIONS"]["options"] == "-c jit=off"
