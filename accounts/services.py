"""Staff account safeguards: lockout, session limits, inactive accounts, revoking live connections."""

import logging
from datetime import timedelta

from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import AccountLock, SignInAttempt
from audit.actions import Action
from audit.services import record
from connect.change_history import history_note

logger = logging.getLogger(__name__)


def account_is_locked(*, username: str) -> bool:
    return AccountLock.objects.filter(username__iexact=username, unlocked_at__isnull=True).exists()


def sign_in_succeeded(*, user, address: str | None) -> None:
    SignInAttempt.objects.create(username=user.get_username(), address=address, succeeded=True)
    record(actor=user, action=Action.SIGNIN_SUCCEEDED, target_type="user", target_code=user.pk, address=address)


def sign_in_failed(*, username: str, address: str | None) -> bool:
    """Counts a failure; returns True if this one locked the account."""
    username = username[:150]
    SignInAttempt.objects.create(username=username, address=address, succeeded=False)
    record(actor=username or "unknown", action=Action.SIGNIN_FAILED, target_type="user", target_code=username,
           address=address)
    window = timezone.now() - timedelta(minutes=settings.LOCKOUT_WINDOW_MINUTES)
    failures = SignInAttempt.objects.filter(username__iexact=username, succeeded=False, at__gte=window)
    last_unlock = AccountLock.objects.filter(username__iexact=username, unlocked_at__isnull=False).order_by(
        "-unlocked_at").values_list("unlocked_at", flat=True).first()
    if last_unlock:
        failures = failures.filter(at__gt=last_unlock)  # an unlock starts the count afresh
    if failures.count() < settings.LOCKOUT_FAILURES or account_is_locked(username=username):
        return False
    try:
        with transaction.atomic():
            AccountLock.objects.create(username=username, reason=f"{settings.LOCKOUT_FAILURES} failed sign-ins "
                                       f"within {settings.LOCKOUT_WINDOW_MINUTES} minutes")
    except IntegrityError:
        return False  # a concurrent failure locked it first
    record(actor=None, action=Action.ACCOUNT_LOCKED, target_type="user", target_code=username, address=address)
    user = get_user_model().objects.filter(username__iexact=username).first()
    if user is not None:
        sessions_revoke(user=user, reason="locked")
    return True


def account_unlock(*, username: str, by) -> int:
    unlocked = AccountLock.objects.filter(username__iexact=username, unlocked_at__isnull=True).update(
        unlocked_at=timezone.now(), unlocked_by=by)
    if unlocked:
        record(actor=by, action=Action.ACCOUNT_UNLOCKED, target_type="user", target_code=username)
    return unlocked


def accounts_inactive_disable() -> int:
    """Disables staff accounts not signed in for CONNECT_ACCOUNT_INACTIVE_DAYS (new accounts count from joining)."""
    cutoff = timezone.now() - timedelta(days=settings.ACCOUNT_INACTIVE_DAYS)
    from django.db.models import Q

    stale = get_user_model().objects.filter(is_active=True).filter(
        Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff))
    disabled = 0
    for user in stale:
        type(user).objects.filter(pk=user.pk).update(is_active=False)
        history_note(user, is_active=(True, False))
        record(actor=None, action=Action.ACCOUNT_DISABLED_INACTIVE, target_type="user", target_code=user.pk,
               reason=f"no sign-in for {settings.ACCOUNT_INACTIVE_DAYS} days")
        sessions_revoke(user=user, reason="disabled")
        disabled += 1
    return disabled


def roles_changed(*, user, change: str, group_ids: list[int]) -> None:
    from django.contrib.auth.models import Group

    names = sorted(Group.objects.filter(pk__in=group_ids).values_list("name", flat=True))
    record(actor=None, action=Action.USER_ROLES_CHANGED, target_type="user", target_code=user.pk,
           reason=f"{change}: {', '.join(names) or 'all roles'}")


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def sessions_revoke(*, user, reason: str) -> None:
    """Tells every open websocket of this user to re-check and close. A missing channel layer is logged:
    the consumers also re-check the session on every event they handle."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group(user.pk), {"type": "session.revoke", "reason": reason})
    except Exception:  # Redis gone: nothing to deliver to, and sockets re-check their session anyway
        logger.warning("could not tell the websockets of user %s to close", user.pk, exc_info=True)
