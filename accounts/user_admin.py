"""Staff accounts in the admin: Administrators manage others' accounts and roles, never their own, never a
superuser's or another Administrator's (accounts/authority.py), and only a superuser can grant superuser status
or individual permissions. Every change lands in the ledger; a password set here is a reset: recorded, the
account's sessions end and its owner is told by email."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts import services
from accounts.authority import may_manage
from audit.actions import Action
from audit.ledger import record
from common.access import is_outside

PRIVILEGED = ("is_superuser", "user_permissions")
WATCHED = ("is_active", "is_staff", "is_superuser", "groups", "user_permissions", "email")


class StaffUserChangeForm(UserChangeForm):
    def clean(self):
        cleaned = super().clean()
        # Django grants a superuser every permission before any backend is asked, the outside agencies' guard
        # included: an agency's account made superuser would hold the whole program.
        if cleaned.get("is_superuser") and is_outside(self.instance):
            raise ValidationError("An outside agency's account cannot be a superuser: remove it from its agency first.")
        return cleaned


class StaffUserAdmin(UserAdmin):
    form = StaffUserChangeForm

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        # One's own name and email stay editable (roles and state are read-only below).
        return obj is None or obj.pk == request.user.pk or may_manage(actor=request.user, target=obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and may_manage(actor=request.user, target=obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and object_id is not None:
            self._refuse_out_of_reach(request, object_id, attempt="change")
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        if request.method == "POST":
            self._refuse_out_of_reach(request, object_id, attempt="delete")
        return super().delete_view(request, object_id, extra_context)

    def _refuse_out_of_reach(self, request, object_id, *, attempt: str) -> None:
        """Refuses, and records for the auditors, an attempt on an account the actor may not manage. Outside the
        admin's own transaction, which a refusal rolls back with the entry."""
        target = self.get_object(request, unquote(object_id))
        if target is None or target.pk == request.user.pk and attempt == "change":
            return  # missing: the admin's own answer; one's own: name and email stay editable
        if not may_manage(actor=request.user, target=target):
            record(actor=request.user, action=Action.USER_CHANGE_REFUSED, target_type="user", target_code=target.pk,
                   reason=attempt, superuser=target.is_superuser)
            raise PermissionDenied

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += PRIVILEGED
            if obj is not None and obj.pk == request.user.pk:
                readonly += ["groups", "is_staff", "is_active"]
        return readonly

    def user_change_password(self, request, id, form_url=""):
        target = self.get_object(request, unquote(id))
        if target is not None and not may_manage(actor=request.user, target=target):
            # Also one's own: /admin/password_change/ asks for the old password. Looking is not an attempt.
            if request.method == "POST":
                record(actor=request.user, action=Action.USER_CHANGE_REFUSED, target_type="user",
                       target_code=target.pk, reason="password", superuser=target.is_superuser)
            raise PermissionDenied
        with transaction.atomic():
            before = target.password if target is not None else None
            response = super().user_change_password(request, id, form_url)
            if target is not None:
                target.refresh_from_db(fields=["password"])
                if target.password != before:
                    services.staff_password_reset(user=target, by=request.user,
                                                  usable=target.has_usable_password(),
                                                  keep_session=request.session.session_key
                                                  if target.pk == request.user.pk else None)
        return response

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        changed = [name for name in WATCHED if name in form.changed_data]
        if changed or not change:
            record(actor=request.user, action=Action.USER_CHANGED if change else Action.USER_CREATED,
                   target_type="user", target_code=form.instance.pk, reason=", ".join(changed),
                   roles=sorted(form.instance.groups.values_list("name", flat=True)),
                   superuser=form.instance.is_superuser, active=form.instance.is_active)
        old_email = form.initial.get("email")
        if change and "email" in changed and old_email and form.instance.pk != request.user.pk:
            # Else an Administrator could point the account at their own address, then reset its password unseen.
            services.staff_email_changed(user=form.instance, by=request.user, old_email=old_email)


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
