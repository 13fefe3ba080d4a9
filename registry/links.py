"""Emailed owner links: signed with a salt per purpose, expiring, single-use through a stored nonce.

A token proves only what its purpose says: a confirmation token cannot sign anyone in, and a sign-in
token cannot confirm a registration.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.models import Owner, OwnerLink

_SALT = "connect.registry.owner-link.{purpose}"


class LinkError(Exception):
    """A link that cannot be used; `reason` is shown to the owner."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LinkSpec:
    url_name: str
    max_age: timedelta


def _spec(purpose: str) -> LinkSpec:
    if purpose == OwnerLink.Purpose.CONFIRM:
        return LinkSpec("registry:confirm", timedelta(hours=settings.CONFIRM_LINK_HOURS))
    if purpose == OwnerLink.Purpose.RECONFIRM:
        # Works for the whole cycle: a link from the first ask still confirms a camera paused for silence.
        days = settings.RECONFIRM_PAUSE_DAYS + settings.RECONFIRM_PURGE_DAYS
        return LinkSpec("registry:reconfirm", timedelta(days=days))
    return LinkSpec("registry:portal_sign_in", timedelta(minutes=settings.SIGNIN_LINK_MINUTES))


def link_issue(*, owner: Owner, purpose: str) -> str:
    """A new absolute URL for `purpose`; the nonce it carries is stored so it can be used once."""
    nonce = secrets.token_urlsafe(24)
    OwnerLink.objects.create(owner=owner, purpose=purpose, nonce=nonce)
    token = signing.dumps({"n": nonce}, salt=_SALT.format(purpose=purpose), compress=True)
    return settings.PUBLIC_URL + reverse(_spec(purpose).url_name, kwargs={"token": token})


def link_check(*, token: str, purpose: str) -> OwnerLink:
    """The unused link behind `token`, or LinkError. Does not use it up (GET must not act)."""
    spec = _spec(purpose)
    try:
        payload = signing.loads(token, salt=_SALT.format(purpose=purpose), max_age=spec.max_age)
    except signing.SignatureExpired:
        raise LinkError(_("This link has expired.")) from None
    except signing.BadSignature:
        raise LinkError(_("This link is not valid. It may have been copied incompletely.")) from None
    link = OwnerLink.objects.select_related("owner").filter(nonce=payload.get("n"), purpose=purpose).first()
    if link is None:
        raise LinkError(_("This link is no longer valid."))
    if link.used_at is not None:
        raise LinkError(_("This link has already been used."))
    if link.created_at < timezone.now() - spec.max_age:
        raise LinkError(_("This link has expired."))
    return link


def link_use(*, token: str, purpose: str) -> Owner:
    """Uses the link up, exactly once even under concurrent POSTs, and returns its owner."""
    link = link_check(token=token, purpose=purpose)
    with transaction.atomic():
        claimed = OwnerLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=timezone.now())
    if claimed != 1:
        raise LinkError(_("This link has already been used."))
    return link.owner
