import json
from datetime import UTC, datetime

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.actions import Action, owner_visible
from audit.models import AccessEntry


def entries_for_target(*, target_type: str, target_code) -> QuerySet[AccessEntry]:
    return AccessEntry.objects.filter(target_type=target_type, target_code=str(target_code)).order_by("seq")


def owner_history(*, owner_code) -> QuerySet[AccessEntry]:
    """Everything the ledger holds about one owner's cameras, newest first; read from the ledger alone, so it
    stays true after the requests and clips it describes are purged. Map searches are apart: see
    `owner_map_searches`."""
    return AccessEntry.objects.filter(owner_code=str(owner_code), action__in=owner_visible()).order_by("-seq")


def entries_about_clips(*, clip_codes) -> QuerySet[AccessEntry]:
    """What the uploader of these clips is shown (an answer to a public request, with no camera or owner code):
    the entries about the clips that an owner would see, newest first."""
    return AccessEntry.objects.filter(target_type="clip", target_code__in=[str(code) for code in clip_codes],
                                      action__in=owner_visible()).order_by("-seq")


def _searches_of(owner_code) -> Q:
    # Matches the partial GIN index audit_map_search_owners (migration 0007).
    return Q(action=Action.MAP_SEARCH, detail__owners__contains=[str(owner_code)])


# One row per camera and day: a search that returned two of the owner's cameras counts for each.
_MAP_SEARCHES_SQL = """
SELECT (e.at AT TIME ZONE %(tz)s)::date AS day, found.camera_code, max(e.at) AS last_at, count(*) AS searches,
       array_agg(DISTINCT COALESCE(e.detail ->> 'unit', '')) AS units,
       array_agg(DISTINCT e.actor_label) AS actors, array_agg(DISTINCT e.case_number) AS cases
FROM audit_accessentry e
CROSS JOIN LATERAL jsonb_array_elements_text(e.detail -> 'cameras' -> %(owner)s) AS found(camera_code)
WHERE e.action = %(action)s AND (e.detail -> 'owners') @> %(owners)s::jsonb
  AND e.at >= %(since)s AND e.at < %(until)s
GROUP BY 1, 2
ORDER BY 1 DESC, 3 DESC
LIMIT %(limit)s
"""


def owner_map_searches(*, owner_code, since=None, until=None, limit: int = 500) -> list[dict]:
    """The map searches that returned the owner's cameras, summarised per camera and day (a busy corner is in
    hundreds a day): {day, camera_code, last_at, searches, units, actors, cases}, newest first. Days are in the
    current time zone."""
    params = {"tz": timezone.get_current_timezone_name(), "owner": str(owner_code), "action": Action.MAP_SEARCH.value,
              "owners": json.dumps([str(owner_code)]), "since": since or datetime.min.replace(tzinfo=UTC),
              "until": until or datetime.max.replace(tzinfo=UTC), "limit": limit}
    with connection.cursor() as cursor:
        cursor.execute(_MAP_SEARCHES_SQL, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# One row per camera and day: how many staff map viewports held the camera's point. The box expression is the
# one indexed by migration 0008 (audit_map_viewport_box).
_MAP_VIEWS_SQL = """
SELECT (e.at AT TIME ZONE %(tz)s)::date AS day, c.code AS camera_code, max(e.at) AS last_at, count(*) AS views,
       array_agg(DISTINCT COALESCE(e.detail ->> 'unit', '')) AS units, array_agg(DISTINCT e.actor_label) AS actors
FROM unnest(%(codes)s::text[], %(lngs)s::float8[], %(lats)s::float8[]) AS c(code, lng, lat)
JOIN audit_accessentry e
  ON e.action = %(action)s
 AND box(point((e.detail ->> 'west')::float8, (e.detail ->> 'south')::float8),
         point((e.detail ->> 'east')::float8, (e.detail ->> 'north')::float8)) @> point(c.lng, c.lat)
WHERE e.at >= %(since)s AND e.at < %(until)s
GROUP BY 1, 2
ORDER BY 1 DESC, 3 DESC
LIMIT %(limit)s
"""


def map_views_of(*, cameras: list[tuple[str, float, float]], since=None, until=None, limit: int = 500) -> list[dict]:
    """How often the staff map showed each of these cameras (code, longitude, latitude), per camera and day:
    {day, camera_code, last_at, views, units, actors}, newest first. The caller gives the points (audit reads no
    app's tables); a viewport counts if its box held the point."""
    if not cameras:
        return []
    codes, lngs, lats = (list(column) for column in zip(*cameras, strict=True))
    params = {"tz": timezone.get_current_timezone_name(), "codes": codes, "lngs": lngs, "lats": lats,
              "action": Action.MAP_VIEWED.value, "since": since or datetime.min.replace(tzinfo=UTC),
              "until": until or datetime.max.replace(tzinfo=UTC), "limit": limit}
    with connection.cursor() as cursor:
        cursor.execute(_MAP_VIEWS_SQL, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def entries_search(*, user="", case="", camera=None, owner=None, action="", date_from=None, date_to=None):
    """The auditor's search; every filter optional, newest first. Dates are days in the program's time zone
    (TIME_ZONE), as the search page shows every time: midnight to midnight there, whatever its UTC offset."""
    from datetime import time, timedelta

    zone = timezone.get_default_timezone()

    entries = AccessEntry.objects.all()
    if user:
        entries = entries.filter(actor_label__iexact=user)
    if case:
        entries = entries.filter(case_number__iexact=case)
    if camera:
        entries = entries.filter(camera_code=str(camera))
    if owner:
        entries = entries.filter(Q(owner_code=str(owner)) | _searches_of(owner))
    if action:
        entries = entries.filter(action__startswith=action)
    if date_from:
        entries = entries.filter(at__gte=datetime.combine(date_from, time.min, zone))
    if date_to:
        entries = entries.filter(at__lt=datetime.combine(date_to + timedelta(days=1), time.min, zone))
    return entries.order_by("-seq")
