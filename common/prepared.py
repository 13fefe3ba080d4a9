"""A hot statement of fixed text run on Django's own connection as a server-side prepared statement.

Django binds parameters on the client, so PostgreSQL plans every statement anew. For a statement that joins a dozen
tables and runs on every request, planning is most of its cost: requests_app.incident_access's statement took
3.9 ms through Django's cursor on a 2-core machine (2.1 ms of it planning), 0.33 ms prepared, on every Range request
of a clip. Prepared once per pooled connection (psycopg remembers which), it is planned once.

Django's own cursors on the same connection are unaffected: they bind on the client and never prepare. A site that
turns prepared statements off in its database OPTIONS (`prepare_threshold`: a pooler in transaction mode, say)
gets Django's plain cursor instead. Errors come out as Django's database errors, as from any cursor.
"""

import psycopg
from django.db import connection

# psycopg's own default: a statement run this often is prepared (at once with prepare=True). Django sets none, which
# turns psycopg's preparing off.
PREPARE_THRESHOLD = 5


def fetchone(sql: str, params: dict):
    """The statement's first row (or None), prepared on this connection the first time it runs there."""
    options = connection.settings_dict.get("OPTIONS", {})
    if "prepare_threshold" in options and options["prepare_threshold"] is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = PREPARE_THRESHOLD
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchone()
