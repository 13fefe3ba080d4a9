"""The neighbour's form. Every rule has a message a neighbour understands; nothing typed is lost."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from addresses.geocoders import GeocoderUnavailable, place_of_address
from concerns.models import OwnerAsk
from registry.selectors import in_service_area


class ConcernForm(forms.Form):
    address = forms.CharField(label=_("The address of your home"), max_length=300,
                              help_text=_("Type at least 3 characters and choose your address from the list."))
    # Filled by the type-ahead when an address is chosen, but never trusted: clean() looks up the address text.
    latitude = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)
    longitude = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)
    email = forms.EmailField(label=_("Your email"),
                             help_text=_("We send a link here to confirm, and later what the camera owners did."))
    text = forms.CharField(label=_("Your concern"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5}),
                           help_text=_("For example: a camera across the street seems to look into my front "
                                       "window."))
    # A honeypot: hidden from people (CSS and aria-hidden), filled by form-filling robots.
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    def clean(self):
        data = super().clean()
        if self.has_error("address"):
            return data
        # The place is always the chosen address's own point, looked up here: the hidden latitude and longitude
        # come from the browser, and a spot sent with another address's text would put the home (the cameras
        # looked up, the mask held) somewhere other than the address staff and owners read.
        try:
            place = place_of_address(data.get("address", ""))
        except GeocoderUnavailable:
            place = None
        if place is None:
            self.add_error("address", _("We could not find that address. Check it and choose it from the "
                                        "list of suggestions."))
            return data
        data["latitude"], data["longitude"], data["address"] = place.lat, place.lng, place.address
        if not in_service_area(latitude=data["latitude"], longitude=data["longitude"]):
            self.add_error("address", _("This address is outside the area %(agency)s serves, so no camera in its "
                                        "program can see it. Check the address, or contact the police of that "
                                        "area.") % {"agency": settings.AGENCY_NAME})
        return data

    @property
    def is_robot(self) -> bool:
        return bool(self.data.get("website", "").strip())


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(label=_("Your answer"), widget=forms.RadioSelect, choices=[
        (OwnerAsk.Answer.REAIMED, OwnerAsk.Answer.REAIMED.label),
        (OwnerAsk.Answer.MASKED, OwnerAsk.Answer.MASKED.label),
        (OwnerAsk.Answer.DECLINED, OwnerAsk.Answer.DECLINED.label)],
        error_messages={"required": _("Choose one of the answers.")})
