"""common.prepared: a hot statement prepared once per connection, Django's errors when it fails, and Django's plain
cursor for a site that turned prepared statements off."""

import pytest
from django.db import ProgrammingError, connection, transaction

from common import prepared

pytestmark = pytest.mark.django_db
STATEMENT = "SELECT %(a)s::int + %(b)s::int, current_setting('application_name') IS NOT NULL"


def prepared_here() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_statement_is_prepared_on_its_first_run_and_answers_every_time():
    assert prepared.fetchone(STATEMENT, {"a": 1, "b": 2}) == (3, True)
    assert prepared.fetchone(STATEMENT, {"a": 40, "b": 2}) == (42, True)
    assert sum("current_setting('application_name')" in text for text in prepared_here()) == 1


def test_a_site_without_prepared_statements_gets_djangos_plain_cursor(monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "OPTIONS",
                        {**connection.settings_dict["OPTIONS"], "prepare_threshold": None})
    assert prepared.fetchone(STATEMENT, {"a": 1, "b": 2}) == (3, True)
    assert not any("current_setting('application_name')" in text for text in prepared_here())


def test_a_failing_statement_raises_djangos_error_and_leaves_the_connection_usable():
    with pytest.raises(ProgrammingError), transaction.atomic():
        prepared.fetchone("SELECT no_such_column FROM auth_user WHERE id = %(id)s", {"id": 1})
    assert prepared.fetchone(STATEMENT, {"a": 2, "b": 2}) == (4, True)
