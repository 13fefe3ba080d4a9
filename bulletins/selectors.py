"""Who may read a bulletin (deny by default), and the payloads the pages and sockets carry.

A bulletin is seen by its recipients, its sender, and those whose role reads every bulletin (supervisors,
auditors): all of them active program staff. Nobody else: not another patrol officer, not a camera's owner, not
an outside agency's account."""

from importlib import import_module
from typing import TypedDict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from bulletins.models import Bulletin, PatrolOfficer, Recipient
from common import access
from common.access import is_program_staff

RECEIVE = "bulletins.receive_bulletin"
SEND = "bulletins.send_bulletin"
READ_ALL = "bulletins.view_all_bulletins"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"  # permissions' backend (guardian's needs an object)


class BulletinPayload(TypedDict):
    code: str
    thread: str | None
    case: str
    description: str
    priority: str
    lat: float | None
    lng: float | None
    sender: str
    created_at: str
    expires_at: str
    media_url: str | None
    media_kind: str  # image, video, or "" without media
    state: str  # this recipient's: sent, received, opened, acknowledged ("" for readers who are not recipients)


class ReceiptPayload(TypedDict):
    bulletin: str
    user: str
    via: str
    state: str
    received_at: str | None
    opened_at: str | None
    acknowledged_at: str | None


def may_receive(user) -> bool:
    return is_program_staff(user) and user.has_perm(RECEIVE)


def may_send(user) -> bool:
    return is_program_staff(user) and user.has_perm(SEND)


def may_read_all(user) -> bool:
    return is_program_staff(user) and user.has_perm(READ_ALL)


def bulletin_readable(*, user, code) -> Bulletin | None:
    """The bulletin if this user may read it, else None (a stranger cannot tell it exists)."""
    if not is_program_staff(user):
        return None
    bulletin = Bulletin.objects.select_related("sender", "thread").filter(code=code).first()
    if bulletin is None:
        return None
    if bulletin.sender_id == user.pk or may_read_all(user) or bulletin.recipients.filter(user=user).exists():
        return bulletin
    return None


def recipients_receiving(*, bulletin: Bulletin, user_ids: set[int]) -> dict:
    """{user id: user} of those among `user_ids` who may have this bulletin's still now: its recipients who pass
    may_receive (active program staff holding the receive permission, not an outside agency's), asked for many at
    once (bulletins.still_delivery) as bulletin_readable asks for one."""
    users = {user.pk: user for user in get_user_model().objects.with_perm(
        RECEIVE, is_active=True, include_superusers=True, backend=MODEL_BACKEND).filter(
        pk__in=user_ids, is_staff=True).filter(pk__in=Recipient.objects.filter(bulletin=bulletin).values("user_id"))}
    outside = _outside_among(users)
    return {pk: user for pk, user in users.items() if pk not in outside}


def _outside_among(users: dict) -> set[int]:
    """The ids of outside agencies' people among `users`: one query when every rule has its SQL."""
    rules = access.outside_rules_sql()
    if rules is None:
        return {pk for pk, user in users.items() if access.is_outside(user)}
    if not rules or not users:
        return set()
    table = get_user_model()._meta.db_table
    condition = " OR ".join(f"({rule})" for rule in rules).replace("%(user_id)s", "u.id")
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT u.id FROM "{table}" u WHERE u.id = ANY(%s) AND ({condition})', [list(users)])
        return {row[0] for row in cursor.fetchall()}


def sessions_live(session_keys: set[str]) -> set[str]:
    """Which of these sessions are still in the store, unexpired (a sign-out deletes its row)."""
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        return set(Session.objects.filter(session_key__in=session_keys, expire_date__gt=timezone.now())
                   .values_list("session_key", flat=True))
    store = import_module(settings.SESSION_ENGINE).SessionStore
    return {key for key in session_keys if store().exists(key)}


def bulletin_supervisable(*, user, code) -> Bulletin | None:
    """The bulletin if this user may follow its receipts: its sender, supervisors and auditors."""
    bulletin = bulletin_readable(user=user, code=code)
    if bulletin is None or not (bulletin.sender_id == user.pk or may_read_all(user)):
        return None
    return bulletin


def bulletins_received(*, user, limit: int = 100) -> list[tuple[Bulletin, Recipient]]:
    """A recipient's bulletins not yet expired, newest first, each with their own receipt."""
    rows = (Recipient.objects.filter(user=user, bulletin__expires_at__gt=timezone.now())
            .select_related("bulletin", "bulletin__sender", "bulletin__thread")
            .order_by("-bulletin__created_at")[:limit])
    return [(row.bulletin, row) for row in rows]


def bulletins_sent_by(*, user, limit: int = 50) -> QuerySet[Bulletin]:
    return Bulletin.objects.filter(sender=user).order_by("-created_at")[:limit]


def receipts_of(bulletin: Bulletin) -> list[Recipient]:
    return list(bulletin.recipients.select_related("user").order_by("user__username"))


def officer_of(user) -> PatrolOfficer | None:
    return PatrolOfficer.objects.filter(user=user).first()


def bulletin_payload(bulletin: Bulletin, *, state: str = "") -> BulletinPayload:
    return {
        "code": str(bulletin.code), "thread": str(bulletin.thread.code) if bulletin.thread_id else None,
        "case": bulletin.case_number, "description": bulletin.description, "priority": bulletin.priority,
        "lat": bulletin.location.y if bulletin.location else None,
        "lng": bulletin.location.x if bulletin.location else None,
        "sender": bulletin.sender.get_username() if bulletin.sender_id else "",
        "created_at": bulletin.created_at.isoformat(), "expires_at": bulletin.expires_at.isoformat(),
        "media_url": (reverse("bulletins:clip" if bulletin.is_clip else "bulletins:media", args=[bulletin.code])
                      if bulletin.has_media else None),
        "media_kind": ("video" if bulletin.is_clip else "image") if bulletin.has_media else "",
        "state": state,
    }


def receipt_payload(recipient: Recipient) -> ReceiptPayload:
    def at(value):
        return value.isoformat() if value else None

    return {"bulletin": str(recipient.bulletin.code), "user": recipient.user.get_username(), "via": recipient.via,
            "state": recipient.state, "received_at": at(recipient.received_at), "opened_at": at(recipient.opened_at),
            "acknowledged_at": at(recipient.acknowledged_at)}
