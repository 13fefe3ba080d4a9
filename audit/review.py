"""The weekly review auditors get by email: unusual access in the last seven days, from the ledger."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone

from audit.actions import Action
from audit.models import AccessEntry
from common.mail import send_templated

AUDITOR_ROLE = "Auditor"


def weekly_review(*, now=None) -> dict:
    now = now or timezone.now()
    week = AccessEntry.objects.filter(at__gte=now - timedelta(days=7), at__lt=now)
    return {
        "since": now - timedelta(days=7), "until": now,
        "evidence_outside_case": list(week.filter(action__in=(Action.CLIP_DOWNLOADED, Action.CLIP_VIEWED),
                                                  detail__assigned=False).order_by("seq")[:200]),
        "live_without_incident": list(week.filter(action=Action.LIVE_STARTED, detail__incident=None).order_by(
            "seq")[:200]),
        "overrides": list(week.filter(action=Action.LIVE_OVERRIDE).order_by("seq")[:200]),
        "integrity_failures": list(week.filter(action=Action.CLIP_INTEGRITY_FAILED).order_by("seq")),
        "locks": list(week.filter(action=Action.ACCOUNT_LOCKED).order_by("seq")),
        "searches_without_case": list(week.filter(action=Action.MAP_SEARCH).filter(Q(case_number="") | Q(
            case_number__isnull=True)).values("actor_label").annotate(n=Count("id")).order_by("-n")[:20]),
        # An outside copy of the chain head: deleting the newest entries is caught by comparing with it.
        "head": AccessEntry.objects.order_by("-seq").values("seq", "entry_hash", "at").first(),
        "contact_views": list(week.filter(action=Action.OWNER_CONTACT_VIEWED).values("actor_label").annotate(
            n=Count("id")).order_by("-n")[:20]),
    }


def weekly_review_send(*, now=None) -> int:
    """Mails the review to every active auditor with an address; returns how many were sent."""
    review = weekly_review(now=now)
    auditors = get_user_model().objects.filter(groups__name=AUDITOR_ROLE, is_active=True).exclude(email="")
    for auditor in auditors:
        send_templated(to=auditor.email, name="weekly-review",
                       context={"review": review, "auditor": auditor, "public_url": settings.PUBLIC_URL})
    return auditors.count()
