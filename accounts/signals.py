"""Access ends -> that user's websockets close. Only the trigger lives here; the work is in services."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from accounts.services import roles_changed, sessions_revoke, sign_in_succeeded
from connect.client import client_ip

User = get_user_model()


@receiver(user_logged_in)
def _signed_in(sender, request, user, **kwargs):
    import time

    from accounts.middleware import SESSION_SEEN, SESSION_STARTED

    if request is not None:
        request.session[SESSION_STARTED] = request.session[SESSION_SEEN] = time.time()  # the 12-hour clock starts
    sign_in_succeeded(user=user, address=client_ip(request) if request is not None else None)


@receiver(user_logged_out)
def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        sessions_revoke(user=user, reason="signed out")


@receiver(post_save, sender=User)
def _user_saved(sender, instance, created, **kwargs):
    if not created and not instance.is_active:
        sessions_revoke(user=instance, reason="disabled")


@receiver(m2m_changed, sender=User.groups.through)
def _roles_changed(sender, instance, action, pk_set=None, **kwargs):
    if not isinstance(instance, User) or action not in ("post_add", "post_remove", "post_clear"):
        return
    roles_changed(user=instance, change=action.removeprefix("post_"), group_ids=sorted(pk_set or []))
    if action in ("post_remove", "post_clear"):
        sessions_revoke(user=instance, reason="role removed")
