"""Web Push of bulletins (optional: on when CONNECT_WEBPUSH_* are set).

Push services (Google's, Mozilla's, Apple's) are third parties: a message names the priority and the patrol page
and nothing else (no description, no still, no case), encrypted to the browser's keys (RFC 8291) and signed with
the agency's VAPID key. A subscription the push service calls gone (404, 410) is deleted."""

import ipaddress
import json
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from bulletins.models import Bulletin, PushSubscription
from bulletins.push_transport import push_session, reachable_address

logger = logging.getLogger(__name__)

GONE = {404, 410}
TTL_S = 4 * 3600  # a phone off longer than this gets the bulletin on the page instead


def enabled() -> bool:
    return settings.WEBPUSH_ENABLED


def _endpoint_check(endpoint: str) -> None:
    """An https push service; never a host on this network (the server posts to it), except loopback in tests. A
    name is checked again each time it is posted to (bulletins.push_transport)."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if settings.WEBPUSH_LOOPBACK_HTTP and address is not None and address.is_loopback:
        return
    if parts.scheme != "https" or not host or host == "localhost" or (
            address is not None and not reachable_address(host)):
        raise ValidationError("The push service's address must be a public https address.")


def subscription_save(*, user, endpoint: str, p256dh: str, auth: str) -> PushSubscription:
    """The signed-in officer's own subscription from this browser; the same browser signed in as someone else
    moves to them (one device, one holder)."""
    if not (endpoint and p256dh and auth) or len(endpoint) > 1000 or len(p256dh) > 200 or len(auth) > 100:
        raise ValidationError("The browser's subscription is incomplete.")
    _endpoint_check(endpoint)
    subscription, _created = PushSubscription.objects.update_or_create(
        endpoint=endpoint, defaults={"user": user, "p256dh": p256dh, "auth": auth})
    return subscription


def subscription_delete(*, user, endpoint: str) -> int:
    return PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()[0]


def payload(bulletin: Bulletin) -> dict:
    """All a push service sees, once decrypted by the phone: the priority and the page link."""
    return {"title": gettext("New bulletin (%(priority)s)") % {"priority": bulletin.get_priority_display()},
            "url": reverse("bulletins:patrol")}


def bulletin_push(*, bulletin_id: int) -> tuple[int, int]:
    """Pushes a sent bulletin to each recipient's subscriptions. (delivered, deleted as gone)."""
    bulletin = Bulletin.objects.filter(pk=bulletin_id, state=Bulletin.State.SENT).first()
    if bulletin is None or not enabled():
        return 0, 0
    vapid = Vapid.from_string(settings.WEBPUSH_VAPID_PRIVATE_KEY)
    data = json.dumps(payload(bulletin))
    delivered = gone = 0
    session = push_session()  # posts only to public addresses, checked as it connects
    users = bulletin.recipients.values("user_id")
    for subscription in PushSubscription.objects.filter(user_id__in=users):
        info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
        try:
            webpush(info, data=data, vapid_private_key=vapid, vapid_claims={"sub": settings.WEBPUSH_CONTACT},
                    ttl=TTL_S, timeout=10, headers={"Urgency": "high" if bulletin.priority != "routine" else "normal"},
                    requests_session=session)
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in GONE:
                subscription.delete()
                gone += 1
            else:
                logger.warning("bulletin %s: push to a subscription failed: %s", bulletin.code, status or exc)
        except Exception as exc:  # a push service down or unreachable: the page still has the bulletin
            logger.warning("bulletin %s: push failed: %s", bulletin.code, type(exc).__name__)
        else:
            delivered += 1
    session.close()
    return delivered, gone
