from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Count, Max, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDate

from audit.actions import Action, owner_visible
from audit.models import AccessEntry


def entries_for_target(*, target_type: str, target_code) -> QuerySet[AccessEntry]:
    return AccessEntry.objects.filter(target_type=target_type, target_code=str(target_code)).order_by("seq")


def owner_history(*, owner_code) -> QuerySet[AccessEntry]:
    """Everything the ledger holds about one owner's cameras, newest first; read from the ledger alone, so it
    stays true after the requests and clips it describes are purged."""
    return AccessEntry.objects.filter(owner_code=str(owner_code), action__in=owner_visible()).exclude(
        action=Action.MAP_SEARCH_RESULT).order_by("-seq")


def owner_map_searches(*, owner_code, since=None, until=None) -> list[dict]:
    """The map searches that returned the owner's cameras, summarised per camera and day (there can be hundreds
    a day): {day, last_at, camera_code, searches, units, actors, cases}, newest first. Days are in the current
    time zone."""
    entries = AccessEntry.objects.filter(owner_code=str(owner_code), action=Action.MAP_SEARCH_RESULT)
    if since is not None:
        entries = entries.filter(at__gte=since)
    if until is not None:
        entries = entries.filter(at__lt=until)
    return list(entries.annotate(day=TruncDate("at")).values("day", "camera_code").annotate(
        last_at=Max("at"), searches=Count("id"),
        units=ArrayAgg(KT("detail__unit"), distinct=True, default=[]),
        actors=ArrayAgg("actor_label", distinct=True, default=[]),
        cases=ArrayAgg("case_number", distinct=True, default=[]),
    ).order_by("-day", "-last_at"))


def entries_search(*, user="", case="", camera=None, owner=None, action="", date_from=None, date_to=None):
    """The auditor's search; every filter optional, newest first."""
    from datetime import UTC, datetime, time, timedelta

    entries = AccessEntry.objects.all()
    if user:
        entries = entries.filter(actor_label__iexact=user)
    if case:
        entries = entries.filter(case_number__iexact=case)
    if camera:
        entries = entries.filter(camera_code=str(camera))
    if owner:
        entries = entries.filter(owner_code=str(owner))
    if action:
        entries = entries.filter(action__startswith=action)
    if date_from:
        entries = entries.filter(at__gte=datetime.combine(date_from, time.min, UTC))
    if date_to:
        entries = entries.filter(at__lt=datetime.combine(date_to + timedelta(days=1), time.min, UTC))
    return entries.order_by("-seq")
