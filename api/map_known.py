"""The staff map's groups for a known session in one statement: who asks, what the map shows and the ledger entry,
in one round trip (api.map_route tries it first).

A session is known once its row and user passed every check on the usual path (accounts.fast_checks.KnownSession).
The statement reads the groups, checks in the database that the session's row is still there and unchanged and that
its user still passes every check (accounts.fast_checks.known_staff_condition: read afresh, nothing of it cached),
and inserts the view's ledger entry only if they pass and the view holds enough cameras to be answered in groups;
as one statement it commits the entry with the read, or neither. The route serves the groups only when the entry
was written; otherwise (checks failed, a session changed since, few cameras in view) nothing was written and the
request takes the usual path, which decides and answers as before. A revoked user, a lock, a sign-out or a role
taken away therefore refuses the very next request.
"""

import functools
from dataclasses import dataclass

from django.conf import settings

from accounts import fast_checks
from audit.ledger.writing import pending_insert_select
from registry import selectors, services

_STATEMENT = """WITH groups (lat, lng, cameras, integrated) AS ({groups}),
entry AS ({insert} RETURNING 1)
SELECT (SELECT count(*) FROM entry), answer.* FROM ({answer}) AS answer"""
_ANSWER = selectors.groups_sql("groups")
# Answered in groups (registry.views.staff_map.in_view_groups): more cameras in view than the map shows one by one.
_ENOUGH = "(SELECT COALESCE(sum(cameras), 0) FROM groups) > %(cluster_above)s"


@dataclass
class Served:
    groups: selectors.CameraGroups
    pending_id: str


def statement_for(known: fast_checks.KnownSession, box: dict, kinds: list, levels: list,
                  cell_zoom: int) -> tuple[str, dict, str] | None:
    """(the statement, its parameters, the entry's pending id), or None when it cannot check everything (an outside
    rule without SQL, a second factor required: the usual path asks)."""
    if settings.MFA_REQUIRED:
        return None
    checks = fast_checks.known_staff_condition(known)
    if checks is None:
        return None
    condition, check_params = checks
    params = selectors.camera_clusters_params(**box, zoom=cell_zoom, kinds=kinds, levels=levels)
    # The view's own entry for a groups answer: the box its whole squares count (as the usual path records it).
    entry = services.map_view_entry(actor=known.user(), **selectors.squares_extent(params), kinds=kinds,
                                    levels=levels)
    insert, insert_params, pending_id = pending_insert_select(entry, condition=f"{condition} AND {_ENOUGH}")
    return _statement(insert), {**params, **check_params, **insert_params,
                       "cluster_above": settings.MAP_CLUSTER_ABOVE}, pending_id


@functools.lru_cache(maxsize=8)  # one insert per row template and set of outside rules: the text built once
def _statement(insert: str) -> str:
    return _STATEMENT.format(groups=selectors.CLUSTERS_SQL, insert=insert, answer=_ANSWER)


async def groups_if_allowed(connection, statement: str, params: dict, pending_id: str) -> Served | None:
    """The groups if the statement recorded the view (every check passed), else None (nothing was recorded)."""
    async with connection.cursor() as cursor:
        await cursor.execute(statement, params, prepare=True)
        written, total, groups = await cursor.fetchone()
    if written != 1:
        return None
    return Served(selectors.CameraGroups(total, groups), pending_id)
