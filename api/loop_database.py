"""PostgreSQL connections used on the event loop itself (psycopg's AsyncConnection), for a fast route's hot query.

A query on a database thread (api.fast_route.DatabaseThreads) costs two thread hops and Django's cursor wrappers:
measured in one process, 0.5–0.7 ms of CPU per nearby search against 0.32–0.34 ms for the same query awaited on the
loop. The connections are made with Django's own parameters (database, user, TLS, `jit=off`: connect.env), at most
`size` at once per event loop; a connection goes back to its idle list after use and is closed after IDLE_CLOSE_S
unused, so an idle route holds none. A connection that broke (a database restart) is closed and the query made once
more on a new one; any other error closes it too, so the next query starts clean.
"""

import asyncio
import weakref
from dataclasses import dataclass, field

import psycopg
from django.db import connection as django_connection

from common.prepared import PREPARE_THRESHOLD

IDLE_CLOSE_S = 10.0
# Django's own: its cursor class (synchronous) and its adapters (which return jsonb as text, for one) are not for a
# plain AsyncConnection; the fast route's queries read plain values.
_NOT_FOR_ASYNC = {"cursor_factory", "context"}


@dataclass
class _LoopState:
    slots: asyncio.Semaphore
    idle: list[psycopg.AsyncConnection] = field(default_factory=list)
    closer: asyncio.TimerHandle | None = None


class LoopDatabase:
    def __init__(self, size: int):
        self.size = size
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = weakref.WeakKeyDictionary()

    async def run(self, query, *args):
        """`await query(connection, *args)` on one of this loop's connections (see the module's docstring)."""
        state = self._state()
        async with state.slots:
            try:
                return await self._run_once(state, query, args)
            except (psycopg.OperationalError, psycopg.InterfaceError):
                return await self._run_once(state, query, args)

    async def _run_once(self, state: _LoopState, query, args):
        conn = state.idle.pop() if state.idle else await _connect()
        try:
            result = await query(conn, *args)
        except BaseException:
            await _close(conn)
            raise
        state.idle.append(conn)
        self._close_later(state)
        return result

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = self._states[loop] = _LoopState(slots=asyncio.Semaphore(self.size))
        return state

    def _close_later(self, state: _LoopState) -> None:
        if state.closer is not None:
            state.closer.cancel()
        state.closer = asyncio.get_running_loop().call_later(
            IDLE_CLOSE_S, lambda: asyncio.ensure_future(self._close_idle(state)))

    async def _close_idle(self, state: _LoopState) -> None:
        state.closer = None
        idle, state.idle = state.idle, []
        for conn in idle:
            await _close(conn)


async def _connect() -> psycopg.AsyncConnection:
    params = {name: value for name, value in django_connection.get_connection_params().items()
              if name not in _NOT_FOR_ASYNC}
    # Django turns psycopg's prepared statements off (prepare_threshold None) unless the site's OPTIONS say
    # otherwise, and psycopg then ignores `prepare=True`: the routes' hot statements were planned anew on every
    # request. These connections are the routes' own, so psycopg's default applies here unless the site set one.
    if "prepare_threshold" not in django_connection.settings_dict.get("OPTIONS", {}):
        params["prepare_threshold"] = PREPARE_THRESHOLD
    return await psycopg.AsyncConnection.connect(**params, autocommit=True)


async def _close(conn: psycopg.AsyncConnection) -> None:
    try:
        await conn.close()
    except Exception:  # already broken: nothing more to free
        pass
