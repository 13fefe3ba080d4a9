from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from accounts import services
from common.client import client_ip

LOCKED_MESSAGE = ("This account is locked after too many failed sign-ins. Try again later, or ask an administrator "
                  "to unlock it.")


class StaffAuthenticationForm(AdminAuthenticationForm):
    """The admin sign-in with the lockout (accounts/services.py): by user name and address, and by user name alone
    for a while. A refused attempt is not counted, so one address cannot keep a name locked."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_ip(self.request)
        if username and services.sign_in_refused(username=username, address=address):
            raise ValidationError(LOCKED_MESSAGE, code="locked")
        try:
            return super().clean()
        except ValidationError:
            if username and services.sign_in_failed(username=username, address=address):
                raise ValidationError(LOCKED_MESSAGE, code="locked") from None
            raise


class TokenForm(forms.Form):
    token = forms.CharField(label="Code from your authenticator app (or a recovery code)", max_length=32,
                            widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text",
                                                          "autofocus": True}))
