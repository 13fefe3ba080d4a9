from django.db.models import QuerySet

from audit.models import AccessEntry


def entries_for_target(*, target_type: str, target_code) -> QuerySet[AccessEntry]:
    return AccessEntry.objects.filter(target_type=target_type, target_code=str(target_code)).order_by("seq")


# What an owner is shown for each kind of entry; anything else about their cameras is shown by its action.
OWNER_ACTIONS = {
    "request.mailed": "asked you for footage",
    "clip.uploaded": "you shared a clip",
    "clip.downloaded": "downloaded your clip",
    "clip.viewed": "played your clip",
    "clip.integrity_failed": "found your clip altered and refused it",
    "clip.purged": "deleted your clip (retention)",
    "clip.legal_hold_set": "put your clip under a legal hold (kept past its period)",
    "clip.legal_hold_released": "released the legal hold on your clip",
    "live.started": "started watching live",
    "live.ended": "stopped watching live",
    "clip.still_taken": "saved a still of your live picture as evidence",
    "live.share_signed": "you signed the live-sharing terms",
    "live.limits_changed": "you changed your live-sharing limits",
    "live.masks_changed": "you changed your privacy masks",
    "live.share_paused": "live sharing paused",
    "live.share_resumed": "live sharing resumed",
    "live.share_stopped": "live sharing stopped",
    "connector.token_issued": "a new connector token was issued",
    "connector.token_revoked": "the connector token was revoked",
}


def owner_history(*, owner_code) -> QuerySet[AccessEntry]:
    """Everything the ledger holds about one owner's cameras, newest first; read from the ledger alone, so it
    stays true after the requests and clips it describes are purged."""
    return AccessEntry.objects.filter(owner_code=str(owner_code), action__in=OWNER_ACTIONS).order_by("-seq")


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
