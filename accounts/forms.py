from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from accounts import services
from connect.client import client_ip

LOCKED_MESSAGE = ("This account is locked after too many failed sign-ins. An administrator must unlock it; "
                  "ask your supervisor or the system administrator.")


class StaffAuthenticationForm(AdminAuthenticationForm):
    """The admin sign-in with the lockout: by user name, whatever address the attempts come from."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if username and services.account_is_locked(username=username):
            raise ValidationError(LOCKED_MESSAGE, code="locked")
        try:
            return super().clean()
        except ValidationError:
            if username and services.sign_in_failed(username=username, address=client_ip(self.request)):
                raise ValidationError(LOCKED_MESSAGE, code="locked") from None
            raise


class TokenForm(forms.Form):
    token = forms.CharField(label="Code from your authenticator app (or a recovery code)", max_length=32,
                            widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text",
                                                          "autofocus": True}))
