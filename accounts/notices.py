"""The emails a staff member gets when someone else set their password or changed their email address: they
learn at once if it was not them."""

from django.contrib.auth import get_user_model
from django.utils.dateparse import parse_datetime

from common.mail import send_templated


def password_reset_notice_send(*, user_id: int, by_label: str, at: str) -> str:
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not user.email:
        return "gone"
    send_templated(to=user.email, name="staff-password-reset", context={
        "user": user, "by": by_label, "at": parse_datetime(at)})
    return "sent"


def email_changed_notice_send(*, user_id: int, old_email: str, by_label: str, at: str) -> str:
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return "gone"
    send_templated(to=old_email, name="staff-email-changed", context={
        "user": user, "by": by_label, "at": parse_datetime(at)})
    return "sent"
