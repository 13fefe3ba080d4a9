"""Staff sessions: an idle limit, an absolute limit, the lock checked on every request, and a second factor
before any staff page."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from accounts.services import account_is_locked

# Pages anyone may open: the public site, sign-in itself and the second-factor pages. Everything else
# needs a verified staff session when MFA is on (deny by default).
PUBLIC_PREFIXES = ("/register/", "/owner/", "/footage/", "/transparency/", "/static/", "/account/mfa/",
                   "/admin/login/", "/admin/logout/", "/healthz")
JSON_PREFIXES = ("/map/cameras.geojson", "/map/nearby.json", "/requests/", "/api/")

SESSION_STARTED = "staff_session_started"
SESSION_SEEN = "staff_session_seen"
LOCKED_NOW = "This account was locked after too many failed sign-ins, so every session of it ended."


def sign_out_this_session(request) -> None:
    """Signs out this session alone (it ran out of time), where a person signing out ends all of theirs."""
    request.only_this_session = True
    logout(request)


def session_expired(session, now: float) -> str | None:
    started, seen = session.get(SESSION_STARTED), session.get(SESSION_SEEN)
    if started and now - started > settings.SESSION_MAX_HOURS * 3600:
        return f"Your session reached its {settings.SESSION_MAX_HOURS}-hour limit. Please sign in again."
    if seen and now - seen > settings.SESSION_IDLE_MINUTES * 60:
        return f"You were signed out after {settings.SESSION_IDLE_MINUTES} minutes without activity."
    return None


class StaffSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            now = time.time()
            expired = session_expired(request.session, now)
            if expired:
                sign_out_this_session(request)
                messages.info(request, expired)
                return self._to_sign_in(request)
            if account_is_locked(username=user.get_username()):
                logout(request)  # the lock ends every session; this one may predate the sessions' register
                messages.error(request, LOCKED_NOW)
                return self._to_sign_in(request)
            request.session.setdefault(SESSION_STARTED, now)
            request.session[SESSION_SEEN] = now
            if settings.MFA_REQUIRED and not user.is_verified() and not self._public(request.path):
                return self._to_second_factor(request)
        return self.get_response(request)

    @staticmethod
    def _public(path: str) -> bool:
        return path == "/" or path.startswith(PUBLIC_PREFIXES)

    def _to_sign_in(self, request):
        if request.path.startswith(JSON_PREFIXES):
            return JsonResponse({"detail": "Your session ended. Sign in again."}, status=401)
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))

    def _to_second_factor(self, request):
        if request.path.startswith(JSON_PREFIXES):
            return JsonResponse({"detail": "Confirm your second factor first."}, status=401)
        from django_otp import devices_for_user

        enrolled = any(True for _ in devices_for_user(request.user, confirmed=True))
        target = "accounts:mfa_verify" if enrolled else "accounts:mfa_setup"
        return redirect(f"{reverse(target)}?next={request.get_full_path()}")
