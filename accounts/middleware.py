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

from accounts.forms import LOCKED_MESSAGE
from accounts.services import session_in_lock
from common.client import client_ip

# Pages anyone may open: the public site, sign-in itself and the second-factor pages. Everything else
# needs a verified staff session when MFA is on (deny by default).
PUBLIC_PREFIXES = ("/register/", "/owner/", "/footage/", "/transparency/", "/static/", "/account/mfa/",
                   "/admin/login/", "/admin/logout/", "/healthz")
JSON_PREFIXES = ("/map/cameras.geojson", "/map/nearby.json", "/requests/", "/api/")

SESSION_STARTED = "staff_session_started"
SESSION_SEEN = "staff_session_seen"
SEEN_STEP_SECONDS = 60  # how stale the last-seen time may grow before it is written again
SESSION_ADDRESS = "staff_session_address"  # where the session signed in from: the scope of the locks that end it
LOCKED_NOW = ("Too many failed sign-ins for this account came from this session's address, so the account is locked "
              "there and this session ended. Ask an administrator to unlock it.")


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


def session_quiet(session, now: float) -> bool:
    """Whether a signed-in staff session passes StaffSessionMiddleware's time checks with nothing to write: within
    both limits, its start and address kept, last seen less than SEEN_STEP_SECONDS ago. (The lock and the second
    factor are checked apart: accounts.fast_checks.) The staff map's fast route (api.map_route) serves only such
    sessions and hands every other one to the middleware."""
    seen = session.get(SESSION_SEEN)
    return (session_expired(session, now) is None and SESSION_ADDRESS in session and SESSION_STARTED in session
            and seen is not None and 0 <= now - seen < SEEN_STEP_SECONDS)


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
            # A session from before addresses were kept counts as signed in from where it is first seen since.
            signed_in_from = request.session.setdefault(SESSION_ADDRESS, client_ip(request))
            second_factor_done = self._second_factor_done(request)
            if session_in_lock(username=user.get_username(), signed_in_from=signed_in_from,
                               second_factor_done=second_factor_done):
                sign_out_this_session(request)  # sessions signed in elsewhere are outside this lock's scope
                messages.error(request, LOCKED_NOW if second_factor_done else LOCKED_MESSAGE)
                return self._to_sign_in(request)
            request.session.setdefault(SESSION_STARTED, now)
            self._note_activity(request.session, now)
            if settings.MFA_REQUIRED and not user.is_verified() and not self._public(request.path):
                return self._to_second_factor(request)
        return self.get_response(request)

    @staticmethod
    def _note_activity(session, now: float) -> None:
        """Moves the last-seen time only once it is a minute old: a session changed on every request is written on
        every request (each map pan), and idle limits are counted in minutes. The session may so end up to a
        minute early, never late."""
        seen = session.get(SESSION_SEEN)
        if seen is None or now - seen >= SEEN_STEP_SECONDS:
            session[SESSION_SEEN] = now

    @staticmethod
    def _second_factor_done(request) -> bool:
        return not settings.MFA_REQUIRED or request.user.is_verified()

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
