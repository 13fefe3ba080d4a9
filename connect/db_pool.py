"""Django's psycopg connection pool after the database restarts.

A restart or failover leaves every idle pooled connection dead. psycopg_pool checks each connection as it hands
it out (CONN_HEALTH_CHECKS) and, for each dead one, discards it and sleeps before the next try: 1 s, then 2 s,
4 s... With five idle connections the waiting request gave up at the pool's 10 s timeout: an error page. Here
the first dead connection found has every idle one checked at once (one round trip each, no sleeps), so the
request waits through one backoff of about a second and then gets a fresh connection.
"""

from psycopg_pool import ConnectionPool


def check_pooled_connection(conn) -> None:
    """The pool's check, in place of psycopg_pool's plain one (which it still uses for the others)."""
    try:
        ConnectionPool.check_connection(conn)
    except Exception:
        pool = getattr(conn, "_pool", None)  # the pool sets it on the connection it is handing out
        if pool is not None:
            pool.check()
        raise


def use_restart_aware_check(sender, connection, **kwargs) -> None:
    """connection_created: Django builds the pool with psycopg_pool's plain check and offers no way to pass
    another, so it is swapped on the pool (kept in `_check`; tests/connect/test_db_pool.py would notice a
    change) before it has to find a dead connection."""
    pool = getattr(connection, "pool", None)
    if pool is not None and getattr(pool, "_check", None) is ConnectionPool.check_connection:
        pool._check = check_pooled_connection
