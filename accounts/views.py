"""Enrolling and confirming the second factor (TOTP; one-time recovery codes). Email is never a factor."""

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.forms import LOCKED_MESSAGE, TokenForm
from accounts.middleware import sign_out_this_session
from audit.actions import Action
from audit.ledger import record
from common.client import client_ip

RECOVERY_CODES = 10


def _next(request) -> str:
    target = request.GET.get("next") or request.POST.get("next") or "/admin/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return "/admin/"
    return target


def _failed(request):
    """A wrong code counts toward the lockout like a wrong password. A lock ends this half-signed-in session only:
    whoever holds it knows the password, not the code, and must not sign the officer out everywhere."""
    if services.sign_in_failed(username=request.user.get_username(), address=client_ip(request)):
        sign_out_this_session(request)
        messages.error(request, LOCKED_MESSAGE)
        return redirect("admin:login")
    return None


@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request):
    if any(True for _ in devices_for_user(request.user, confirmed=True)):
        return redirect(f"/account/mfa/verify/?next={_next(request)}")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first() or TOTPDevice.objects.create(
        user=request.user, name="Authenticator app", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].replace(" ", "")):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            static, _ = StaticDevice.objects.get_or_create(user=request.user, name="Recovery codes")
            static.token_set.all().delete()
            codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
            static.token_set.bulk_create([StaticToken(device=static, token=code) for code in codes])
            record(actor=request.user, action=Action.MFA_ENROLLED, target_type="user", target_code=request.user.pk)
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": _next(request)})
        form.add_error("token", "That code did not match. Check the time on your phone and try the newest code.")
        locked = _failed(request)
        if locked:
            return locked
    qr = segno.make(device.config_url, error="m").svg_inline(scale=5, dark="#000", light="#fff")
    return render(request, "accounts/mfa_setup.html", {"form": form, "qr": qr, "secret": device.bin_key.hex(),
                                                       "next": _next(request)})


@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request):
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"].replace(" ", "")
        for device in devices_for_user(request.user, confirmed=True):
            if device.verify_token(token):
                otp_login(request, device)
                if isinstance(device, StaticDevice):
                    record(actor=request.user, action=Action.MFA_RECOVERY_CODE_USED, target_type="user",
                           target_code=request.user.pk)
                return redirect(_next(request))
        form.add_error("token", "That code did not match.")
        locked = _failed(request)
        if locked:
            return locked
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": _next(request)})
