from django.db.models import QuerySet

from audit.actions import owner_visible
from audit.models import AccessEntry


def entries_for_target(*, target_type: str, target_code) -> QuerySet[AccessEntry]:
    return AccessEntry.objects.filter(target_type=target_type, target_code=str(target_code)).order_by("seq")


def owner_history(*, owner_code) -> QuerySet[AccessEntry]:
    """Everything the ledger holds about one owner's cameras, newest first; read from the ledger alone, so it
    stays true after the requests and clips it describes are purged."""
    return AccessEntry.objects.filter(owner_code=str(owner_code), action__in=owner_visible()).order_by("-seq")


def entries_search(*, user="", case="", camera=None, owner=None, action="", date_from=None, date_to=None):
    """The auditor's search; every filter optional, newest first. Dates are days in the program's time zone
    (TIME_ZONE), as the search page shows every time: midnight to midnight there, whatever its UTC offset."""
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    zone = timezone.get_default_timezone()

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
        entries = entries.filter(at__gte=datetime.combine(date_from, time.min, zone))
    if date_to:
        entries = entries.filter(at__lt=datetime.combine(date_to + timedelta(days=1), time.min, zone))
    return entries.order_by("-seq")
