"""The fast routes' own connections (api.loop_database) prepare the statements asked to be prepared, unless the site
turned prepared statements off in its database OPTIONS (as a transaction pooler needs)."""


import pytest

from api.loop_database import LoopDatabase
from tests.own_loop import run_async

STATEMENT = "SELECT count(*) FROM django_session WHERE session_key = %s"


@pytest.fixture
def own_connections(transactional_db):
    yield
    from django.db import connection

    with connection.cursor() as cursor:  # the loop's connections outlive the test's loop: end them
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


def prepared_after_two_runs() -> list[str]:
    """The statements the connection has prepared after running STATEMENT twice with prepare=True."""
    database = LoopDatabase(1)

    async def run(connection):
        for _ in range(2):
            async with connection.cursor() as cursor:
                await cursor.execute(STATEMENT, ["x"], prepare=True)
        async with connection.cursor() as cursor:
            await cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in await cursor.fetchall()]

    return run_async(database.run(run))


def test_a_statement_asked_to_be_prepared_is_prepared(own_connections):
    assert any("django_session" in statement for statement in prepared_after_two_runs())


def test_a_site_that_turned_prepared_statements_off_gets_none(own_connections):
    from django.db import connection

    without = {**connection.settings_dict["OPTIONS"], "prepare_threshold": None}
    original = connection.settings_dict["OPTIONS"]
    connection.settings_dict["OPTIONS"] = without
    try:
        assert prepared_after_two_runs() == []
    finally:
        connection.settings_dict["OPTIONS"] = original
