from django.db.models import QuerySet

from audit.models import AccessEntry


def entries_for_target(*, target_type: str, target_code) -> QuerySet[AccessEntry]:
    return AccessEntry.objects.filter(target_type=target_type, target_code=str(target_code)).order_by("seq")
