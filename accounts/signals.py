"""Sign-in registers the session; access ends -> that user's sessions and websockets end. Only the trigger lives
here; the work is in services."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from accounts.services import roles_changed, session_started, sessions_end, sessions_revoke, sign_in_succeeded
from common.client import client_ip

User = get_user_model()


@receiver(user_logged_in)
def _signed_in(sender, request, user, **kwargs):
    import time

    from accounts.middleware import SESSION_ADDRESS, SESSION_SEEN, SESSION_STARTED

    address = client_ip(request) if request is not None else None
    if request is not None:
        request.session[SESSION_STARTED] = request.session[SESSION_SEEN] = time.time()  # the 12-hour clock starts
        request.session[SESSION_ADDRESS] = address  # a lock from this address ends this session, and only such locks
        session_started(user=user, session_key=request.session.session_key, address=address)
    sign_in_succeeded(user=user, address=address)


@receiver(user_logged_out)
def _signed_out(sender, request, user, **kwargs):
    if user is None:
        return
    if request is not None and getattr(request, "only_this_session", False):
        sessions_end(user=user, reason="session ran out", only=request.session.session_key)
    else:
        sessions_end(user=user, reason="signed out")  # signing out anywhere signs out everywhere


@receiver(post_save, sender=User)
def _user_saved(sender, instance, created, **kwargs):
    if not created and not instance.is_active:
        sessions_end(user=instance, reason="disabled")


@receiver(m2m_changed, sender=User.groups.through)
def _roles_changed(sender, instance, action, pk_set=None, **kwargs):
    if not isinstance(instance, User) or action not in ("post_add", "post_remove", "post_clear"):
        return
    roles_changed(user=instance, change=action.removeprefix("post_"), group_ids=sorted(pk_set or []))
    if action in ("post_remove", "post_clear"):
        sessions_revoke(user=instance, reason="role removed")
