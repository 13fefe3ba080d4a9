"""Staff account safeguards: lockout, session limits, inactive accounts, password resets, ending sessions."""

import logging
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from accounts.models import AccountLock, SignInAttempt, StaffSession
from audit.actions import Action
from audit.ledger import record
from common import outbox
from common.change_history import history_note
from common.channel_layer import group_send_from_sync

logger = logging.getLogger(__name__)


def _open_locks(username: str):
    """Locks of this name that still hold: not unlocked, and (for a name-wide lock) not yet expired."""
    return AccountLock.objects.filter(username__iexact=username, unlocked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


def account_is_locked(*, username: str) -> bool:
    """Whether the user name is locked from every address (the self-expiring lock, or one an Administrator has not
    lifted yet): no new sign-in anywhere. It does not end sessions signed in before it (see session_in_lock)."""
    return _open_locks(username).filter(address__isnull=True).exists()


def sign_in_refused(*, username: str, address: str | None) -> bool:
    """Whether a sign-in for this name from this address is refused before its password is even checked."""
    return _open_locks(username).filter(Q(address__isnull=True) | Q(address=address)).exists()


def session_in_lock(*, username: str, signed_in_from: str | None, second_factor_done: bool) -> bool:
    """Whether an existing session falls within a lock's scope, so that it must end (checked on every request and
    socket event).

    A lock of the name from one address covers the sessions signed in from that address: someone there guessed,
    so that workstation is no longer trusted. The name-wide lock only stops sign-ins: a session that proved the
    password and the second factor before the guessing began stays, or any stranger could sign any officer out by
    failing five times from five addresses. A session still halfway through signing in (second factor pending) is a
    sign-in, so every lock of the name covers it: else one could keep guessing codes in it through the lock."""
    if not second_factor_done:
        return sign_in_refused(username=username, address=signed_in_from)
    return signed_in_from is not None and _open_locks(username).filter(address=signed_in_from).exists()


def sign_in_succeeded(*, user, address: str | None) -> None:
    SignInAttempt.objects.create(username=user.get_username(), address=address, succeeded=True)
    record(actor=user, action=Action.SIGNIN_SUCCEEDED, target_type="user", target_code=user.pk, address=address)


def _failures_since_unlock(username: str, address: str | None, *, scope_address: bool) -> int:
    """Failures within the window after the last unlock that concerns this scope: an unlock starts afresh."""
    window = timezone.now() - timedelta(minutes=settings.LOCKOUT_WINDOW_MINUTES)
    failures = SignInAttempt.objects.filter(username__iexact=username, succeeded=False, at__gte=window)
    unlocks = AccountLock.objects.filter(username__iexact=username, unlocked_at__isnull=False)
    if scope_address:
        failures = failures.filter(address=address)
        # This address's own lock, or a name-wide lock an Administrator (or staff_recover) lifted; a name-wide lock
        # that ran out by itself was closed at its expiry and leaves the address's count alone.
        unlocks = unlocks.filter(Q(address=address) | Q(address__isnull=True) & (
            Q(expires_at__isnull=True) | Q(unlocked_at__lt=F("expires_at"))))
    else:
        unlocks = unlocks.filter(address__isnull=True)
    last_unlock = unlocks.aggregate(last=Max("unlocked_at"))["last"]
    if last_unlock:
        failures = failures.filter(at__gt=last_unlock)
    return failures.count()


def _lock(*, username: str, address: str | None, minutes: int | None) -> bool:
    """Opens one lock; False if one was open already (a concurrent failure locked it first)."""
    now = timezone.now()
    # A name-wide lock that expired is closed at its expiry, so that a new one may open and counting restarts.
    AccountLock.objects.filter(username__iexact=username, unlocked_at__isnull=True, expires_at__lte=now).update(
        unlocked_at=F("expires_at"))
    reason = f"{settings.LOCKOUT_FAILURES} failed sign-ins within {settings.LOCKOUT_WINDOW_MINUTES} minutes"
    try:
        with transaction.atomic():
            AccountLock.objects.create(username=username, address=address, reason=reason,
                                       expires_at=now + timedelta(minutes=minutes) if minutes else None)
    except IntegrityError:
        return False
    record(actor=None, action=Action.ACCOUNT_LOCKED, target_type="user", target_code=username, address=address,
           scope="address" if address else "name", unlocks_after_minutes=minutes)
    return True


def sign_in_failed(*, username: str, address: str | None) -> bool:
    """Counts a failure; returns True if the name is now locked from this address (or from everywhere).

    LOCKOUT_FAILURES from one address lock the name from that address until an Administrator unlocks it, and end
    the name's sessions signed in from that address; LOCKOUT_FAILURES from anywhere lock the name everywhere for
    LOCKOUT_UNLOCK_MINUTES, refusing new sign-ins but leaving signed-in sessions alone (session_in_lock)."""
    username = username[:150]
    SignInAttempt.objects.create(username=username, address=address, succeeded=False)
    record(actor=username or "unknown", action=Action.SIGNIN_FAILED, target_type="user", target_code=username,
           address=address)
    if (address and _failures_since_unlock(username, address, scope_address=True) >= settings.LOCKOUT_FAILURES
            and _lock(username=username, address=address, minutes=None)):
        user = get_user_model().objects.filter(username__iexact=username).first()
        if user is not None:
            sessions_end(user=user, reason="locked from their address", address=address)
    if (_failures_since_unlock(username, address, scope_address=False) >= settings.LOCKOUT_FAILURES
            and not account_is_locked(username=username)):
        _lock(username=username, address=None, minutes=settings.LOCKOUT_UNLOCK_MINUTES)
    return sign_in_refused(username=username, address=address)


def account_unlock(*, username: str, by) -> int:
    """An Administrator (or the recovery command, `by` a label) lifts every lock of the name, from any address."""
    unlocked = _open_locks(username).update(unlocked_at=timezone.now(),
                                            unlocked_by=by if getattr(by, "pk", None) else None)
    if unlocked:
        record(actor=by, action=Action.ACCOUNT_UNLOCKED, target_type="user", target_code=username)
    return unlocked


def accounts_inactive_disable() -> int:
    """Disables staff accounts not signed in for CONNECT_ACCOUNT_INACTIVE_DAYS (new accounts count from joining)."""
    cutoff = timezone.now() - timedelta(days=settings.ACCOUNT_INACTIVE_DAYS)
    stale = get_user_model().objects.filter(is_active=True).filter(
        Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff))
    disabled = 0
    for user in stale:
        type(user).objects.filter(pk=user.pk).update(is_active=False)
        history_note(user, is_active=(True, False))
        record(actor=None, action=Action.ACCOUNT_DISABLED_INACTIVE, target_type="user", target_code=user.pk,
               reason=f"no sign-in for {settings.ACCOUNT_INACTIVE_DAYS} days")
        sessions_end(user=user, reason="disabled")
        disabled += 1
    return disabled


def roles_changed(*, user, change: str, group_ids: list[int]) -> None:
    from django.contrib.auth.models import Group

    names = sorted(Group.objects.filter(pk__in=group_ids).values_list("name", flat=True))
    record(actor=None, action=Action.USER_ROLES_CHANGED, target_type="user", target_code=user.pk,
           reason=f"{change}: {', '.join(names) or 'all roles'}")


def staff_password_reset(*, user, by, usable: bool, keep_session: str | None = None) -> None:
    """After a staff password was set by someone else (an Administrator in the admin, or the recovery command):
    the ledger says who and when, every session of the account ends, and its owner is told by email."""
    record(actor=by, action=Action.USER_PASSWORD_RESET, target_type="user", target_code=user.pk,
           reason="password set" if usable else "password sign-in disabled", notified=bool(user.email))
    sessions_end(user=user, reason="password reset", keep=keep_session)
    if user.email:
        by_label = by.get_username() if hasattr(by, "get_username") else str(by)
        outbox.enqueue("accounts.tasks.password_reset_notice_send_task",
                       {"user_id": user.pk, "by_label": by_label, "at": timezone.now().isoformat()})


def staff_email_changed(*, user, by, old_email: str) -> None:
    """Someone else changed a staff account's email address: the old address hears of it (the new one would not
    help if it is not the owner's)."""
    by_label = by.get_username() if hasattr(by, "get_username") else str(by)
    outbox.enqueue("accounts.tasks.email_changed_notice_send_task",
                   {"user_id": user.pk, "old_email": old_email, "by_label": by_label, "at": timezone.now().isoformat()})


def account_recover(*, user, by: str, password: str | None = None, remove_second_factor: bool = False) -> list[str]:
    """Break glass (manage.py staff_recover): unlocks the name, re-enables the account and, if asked, sets its
    password and removes its second factors. Each step is recorded; `by` names the system user who ran it."""
    from django_otp import devices_for_user

    done = []
    with transaction.atomic():
        if account_unlock(username=user.get_username(), by=by):
            done.append("unlocked")
        if not user.is_active:
            type(user).objects.filter(pk=user.pk).update(is_active=True)
            history_note(user, is_active=(False, True))
            user.is_active = True
            done.append("re-enabled")
        if password is not None:
            user.set_password(password)
            user.save(update_fields=["password"])
            staff_password_reset(user=user, by=by, usable=True)
            done.append("password set")
        if remove_second_factor:
            for device in list(devices_for_user(user, confirmed=None)):
                mfa_device_remove(device=device, by=by)
            done.append("second factor removed")
        record(actor=by, action=Action.ACCOUNT_RECOVERED, target_type="user", target_code=user.pk,
               reason=", ".join(done) or "nothing to do")
    return done


def mfa_device_remove(*, device, by) -> None:
    """Removes a second factor (a lost phone): recorded, and the account's sessions end so it enrols afresh."""
    user = device.user
    with transaction.atomic():
        record(actor=by, action=Action.MFA_DEVICE_REMOVED, target_type="user", target_code=user.pk,
               reason=f"{type(device).__name__}: {device.name}")
        device.delete()
    sessions_end(user=user, reason="second factor removed")


def session_started(*, user, session_key: str | None, address: str | None) -> None:
    # Entries for sessions past the absolute limit are dead anyway; dropping them here keeps the register small.
    StaffSession.objects.filter(user=user, started_at__lt=timezone.now() - timedelta(
        hours=settings.SESSION_MAX_HOURS)).delete()
    if session_key:
        StaffSession.objects.update_or_create(session_key=session_key, defaults={"user": user, "address": address})


def sessions_end(*, user, reason: str, keep: str | None = None, only: str | None = None,
                 address: str | None = None) -> int:
    """Ends every session of the user (but `keep`, the caller's own when they reset their own password; or `only`
    that one, which ran out of time; or, with `address`, those signed in from there): deletes them from the session
    store, so no request or socket can use them again, and tells their sockets to close."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    sessions = StaffSession.objects.filter(user=user).exclude(session_key=keep or "")
    if only is not None:
        sessions = sessions.filter(session_key=only)
    if address is not None:
        sessions = sessions.filter(address=address)
    keys = list(sessions.values_list("session_key", flat=True))
    for key in keys:
        store.delete(key)
    StaffSession.objects.filter(session_key__in=keys).delete()
    if keep is None and only is None and address is None:
        sessions_revoke(user=user, reason=reason)  # every socket, also of sessions from before the register
    else:
        sessions_revoke(user=user, reason=reason, session_keys=keys, address=address)
    return len(keys)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def sessions_revoke(*, user, reason: str, session_keys: list[str] | None = None, address: str | None = None) -> None:
    """Tells the open websockets of this user to close: all of them, or only those of `session_keys` and of
    sessions signed in from `address`. A missing channel layer is logged: the consumers also re-check the session on
    every event they handle."""
    from channels.layers import get_channel_layer

    if get_channel_layer() is None:
        return
    try:
        group_send_from_sync(user_group(user.pk), {
            "type": "session.revoke", "reason": reason, "sessions": session_keys, "address": address})
    except Exception:  # Redis gone: nothing to deliver to, and sockets re-check their session anyway
        logger.warning("could not tell the websockets of user %s to close", user.pk, exc_info=True)
