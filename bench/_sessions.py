"""Signed-in staff sessions for the benchmarks' HTTP clients, made the way django.contrib.auth.login() makes one
(the session row the server reads, with the user's auth hash), without a password or a request."""


def signed_in(user) -> tuple[str, str]:
    """(cookie name, session key) of a new session for `user`."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return settings.SESSION_COOKIE_NAME, session.session_key


def staff_user(username: str, role: str):
    """An active staff user holding exactly the group `role`, with no usable password (made or reset)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user, _ = get_user_model().objects.get_or_create(username=username, defaults={"is_staff": True})
    user.is_staff, user.is_active = True, True
    user.set_unusable_password()
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    return user


def staff_cookie(username: str, role: str) -> str:
    """A Cookie header value ("name=key") signing in a staff user with the group `role`."""
    name, key = signed_in(staff_user(username, role))
    return f"{name}={key}"
