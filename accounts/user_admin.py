"""Staff accounts in the admin: Administrators manage others' accounts and roles, never their own, and only a
superuser can grant superuser status or individual permissions. Every change lands in the ledger."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from audit.actions import Action
from audit.services import record

PRIVILEGED = ("is_superuser", "user_permissions")
WATCHED = ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")


class StaffUserAdmin(UserAdmin):
    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += PRIVILEGED
            if obj is not None and obj.pk == request.user.pk:
                readonly += ["groups", "is_staff", "is_active"]
        return readonly

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        changed = [name for name in WATCHED if name in form.changed_data]
        if changed or not change:
            record(actor=request.user, action=Action.USER_CHANGED if change else Action.USER_CREATED,
                   target_type="user", target_code=form.instance.pk, reason=", ".join(changed),
                   roles=sorted(form.instance.groups.values_list("name", flat=True)),
                   superuser=form.instance.is_superuser, active=form.instance.is_active)


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
