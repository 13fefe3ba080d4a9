"""Emailed concern links: signed with a salt per purpose, expiring, single-use through the stored nonce.

The neighbour's confirmation link and the owner's link to their request are separate purposes: neither token
works for the other."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

CONFIRM, ASK = "confirm", "ask"
_SALT = "connect.concerns.{purpose}"
ASK_LINK_DAYS = 30  # owners answer within days; a month covers a holiday


class ConcernLinkError(Exception):
    """A link that cannot be used; `reason` is shown to the person."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def _max_age(purpose: str) -> timedelta:
    return timedelta(hours=settings.CONFIRM_LINK_HOURS) if purpose == CONFIRM else timedelta(days=ASK_LINK_DAYS)


def link_url(*, nonce: str, purpose: str) -> str:
    token = signing.dumps({"n": nonce}, salt=_SALT.format(purpose=purpose), compress=True)
    name = "concerns:confirm" if purpose == CONFIRM else "concerns:ask_link"
    return settings.PUBLIC_URL + reverse(name, kwargs={"token": token})


def link_nonce(*, token: str, purpose: str) -> str:
    """The nonce a valid, unexpired token carries, or ConcernLinkError (the caller checks it is unused)."""
    try:
        payload = signing.loads(token, salt=_SALT.format(purpose=purpose), max_age=_max_age(purpose))
    except signing.SignatureExpired:
        raise ConcernLinkError(_("This link has expired.")) from None
    except signing.BadSignature:
        raise ConcernLinkError(_("This link is not valid. It may have been copied incompletely.")) from None
    return str(payload.get("n", ""))
