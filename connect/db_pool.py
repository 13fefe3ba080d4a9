"""Django's psycopg connection pool: a check that costs nothing on a healthy connection, and after the database
restarts.

psycopg_pool checks each connection as it hands it out (CONN_HEALTH_CHECKS). Its check is a round trip to the
server, 6 % of an API request's time (bench/api_nearby.py). Here a connection is sent to that check only when
something suggests it is broken: the client side is not idle, the server has sent something unasked (a server
that shuts down or ends the session says so and closes the socket, which makes it readable), or it has not been
handed out for IDLE_CHECK_AFTER_S (a connection dropped on the way, by a firewall say, leaves no other trace).

A restart or failover leaves every idle pooled connection dead. For each dead one psycopg_pool discards it and
sleeps before the next try: 1 s, then 2 s, 4 s... With five idle connections the waiting request gave up at the
pool's 10 s timeout: an error page. Here the first dead connection found has every idle one checked at once (one
round trip each, no sleeps), so the request waits through one backoff of about a second and then gets a fresh
connection.
"""

import select
import time

from psycopg import pq
from psycopg_pool import ConnectionPool

IDLE_CHECK_AFTER_S = 30.0


def check_pooled_connection(conn) -> None:
    """The pool's check, in place of psycopg_pool's plain one (which it still uses for the others)."""
    now = time.monotonic()
    if not _looks_alive(conn, now):
        try:
            ConnectionPool.check_connection(conn)
        except Exception:
            pool = getattr(conn, "_pool", None)  # the pool sets it on the connection it is handing out
            if pool is not None:
                pool.check()
            raise
    conn._connect_handed_out_at = now


def _looks_alive(conn, now: float) -> bool:
    """Whether the connection can be handed out without a round trip (see the module's docstring)."""
    handed_out_at = getattr(conn, "_connect_handed_out_at", None)
    if handed_out_at is None or now - handed_out_at > IDLE_CHECK_AFTER_S:
        return False
    pgconn = conn.pgconn
    if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
    return not poller.poll(0)  # readable, hung up or in error: the server said something, or closed


def use_restart_aware_check(sender, connection, **kwargs) -> None:
    """connection_created: Django builds the pool with psycopg_pool's plain check and offers no way to pass
    another, so it is swapped on the pool (kept in `_check`; tests/connect/test_db_pool.py would notice a
    change) before it has to find a dead connection."""
    pool = getattr(connection, "pool", None)
    if pool is not None and getattr(pool, "_check", None) is ConnectionPool.check_connection:
        pool._check = check_pooled_connection
