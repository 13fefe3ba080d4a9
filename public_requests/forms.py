from django import forms
from django.utils.translation import gettext_lazy as _


class AnswerForm(forms.Form):
    email = forms.EmailField(label=_("Your email address"), max_length=254,
                             help_text=_("We send a link here to confirm it, then a receipt for what you share."))
    wants_to_register = forms.BooleanField(
        label=_("I would also like to register my camera, so police can ask me directly next time"), required=False)
    # A field people never see (hidden by CSS and from screen readers) that form-filling robots fill in.
    website = forms.CharField(label=_("Leave this empty"), required=False)
