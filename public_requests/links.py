"""The two links an answer's email carries: the confirmation link (used once, expiring) and the uploader's own
link (their uploads, clips and access history; it lasts as long as their clips). Each is signed with its own salt
and names a nonce stored on the answer, so neither can stand in for the other."""

import hmac
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from public_requests.models import PublicAnswer

CONFIRM_HOURS = 48
_CONFIRM_SALT = "connect.public_requests.answer-confirm"
_ACCESS_SALT = "connect.public_requests.answer-access"


class AnswerLinkError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def confirm_link(answer: PublicAnswer) -> str:
    token = signing.dumps({"a": str(answer.code), "n": answer.confirm_nonce}, salt=_CONFIRM_SALT, compress=True)
    return settings.PUBLIC_URL + reverse("public_requests:confirm", kwargs={"token": token})


def access_path(answer: PublicAnswer) -> str:
    token = signing.dumps({"a": str(answer.code), "n": answer.access_nonce}, salt=_ACCESS_SALT, compress=True)
    return reverse("public_requests:answer", kwargs={"token": token})


def access_link(answer: PublicAnswer) -> str:
    return settings.PUBLIC_URL + access_path(answer)


def _answer_of(token: str, *, salt: str, nonce_field: str, max_age=None) -> PublicAnswer:
    try:
        payload = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise AnswerLinkError(_("This link has expired. Answer the request again to get a new one.")) from None
    except signing.BadSignature:
        raise AnswerLinkError(_("This link is not valid. It may have been copied incompletely.")) from None
    answer = (PublicAnswer.objects.select_related("request__incident")
              .filter(code=payload.get("a")).first())
    if answer is None or not hmac.compare_digest(getattr(answer, nonce_field), str(payload.get("n"))):
        raise AnswerLinkError(_("This link is no longer valid."))
    return answer


def confirm_answer_of(token: str) -> PublicAnswer:
    return _answer_of(token, salt=_CONFIRM_SALT, nonce_field="confirm_nonce", max_age=timedelta(hours=CONFIRM_HOURS))


def access_answer_of(token: str) -> PublicAnswer:
    """The confirmed answer behind an uploader's link (an unconfirmed one has no such link in use yet)."""
    answer = _answer_of(token, salt=_ACCESS_SALT, nonce_field="access_nonce")
    if answer.state != PublicAnswer.State.CONFIRMED:
        raise AnswerLinkError(_("Confirm your email address first, with the link we sent you."))
    return answer
