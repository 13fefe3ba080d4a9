"""Second-factor devices in the admin, for the Administrator role (docs/SECURITY.md: "an administrator can delete
their device"). django-otp's own admin shows a TOTP secret's QR code and the recovery codes to anyone who may
view a device; these pages show neither, allow no edits, and delete only devices of accounts the viewer may
manage (accounts/authority.py). A deletion is recorded and ends the account's sessions: it enrols again."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.authority import may_manage

SAFE_FIELDS = ("user", "name", "confirmed", "created_at", "last_used_at")


class SecondFactorAdmin(admin.ModelAdmin):
    list_display = SAFE_FIELDS
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email")
    fields = readonly_fields = SAFE_FIELDS

    def has_add_permission(self, request):
        return False  # each person enrols their own, with their own phone

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or self._may_remove(request, obj))

    @staticmethod
    def _may_remove(request, device) -> bool:
        return device.user_id == request.user.pk or may_manage(actor=request.user, target=device.user)

    def delete_model(self, request, obj):
        services.mfa_device_remove(device=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        devices = list(queryset.select_related("user"))
        if not all(self._may_remove(request, device) for device in devices):
            raise PermissionDenied
        for device in devices:
            services.mfa_device_remove(device=device, by=request.user)


for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, SecondFactorAdmin)
