"""API tokens in the admin: created with their scopes (the token is shown once), revoked with an action."""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from api import services
from api.models import ApiToken, Scope


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple,
                                       help_text="Only what this system needs.")

    class Meta:
        model = ApiToken
        fields = ["name", "scopes", "agency"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenForm
    list_display = ("name", "prefix", "scope_list", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        # A token's scopes never widen after it is handed out: make a new token instead.
        return ("name", "scopes", "agency", "prefix", "created_by", "created_at", "last_used_at",
                "revoked_at") if obj else ()

    def get_fields(self, request, obj=None):
        # A token of an outside agency: its scopes open nothing (api.permissions), whatever is ticked.
        return self.get_readonly_fields(request, obj) if obj else ["name", "scopes", "agency"]

    @admin.display(description="scopes")
    def scope_list(self, token):
        return ", ".join(token.scopes)

    def save_model(self, request, obj, form, change):
        if change:
            return
        token, key = services.token_create(name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"],
                                           user=request.user, agency=form.cleaned_data.get("agency"))
        obj.pk, obj.prefix = token.pk, token.prefix
        messages.warning(request, f"The token for {token.name} is {key} — copy it now: it is not stored and will "
                                  "not be shown again.")

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the ledger names tokens, and last use stays visible

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = sum(services.token_revoke(token=token, user=request.user) for token in queryset)
        messages.success(request, f"Revoked {revoked} token(s) at {timezone.localtime():%H:%M}.")
