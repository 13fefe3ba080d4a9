"""Forms for registration and the owner portal. Every rule here has a message a resident understands."""

import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from addresses.geocoders import GeocoderUnavailable, place_of_address
from registry.models import Camera, Owner
from registry.selectors import in_service_area

_PHONE_CHARS = re.compile(r"^[0-9 +().\-]+$")


def clean_phone(value: str) -> str:
    value = value.strip()
    if not value:
        return value
    digits = re.sub(r"\D", "", value)
    if not _PHONE_CHARS.match(value) or not 7 <= len(digits) <= 15:
        raise ValidationError(_("Enter a phone number of 7 to 15 digits, for example 919-555-0123."))
    return value


class OwnerForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("I am registering as"),
        choices=[(Owner.Kind.RESIDENT, _("A resident")), (Owner.Kind.BUSINESS, _("A business or organisation"))],
        widget=forms.RadioSelect,
    )
    name = forms.CharField(label=_("Your name or the business name"), max_length=200)
    email = forms.EmailField(label=_("Email"), help_text=_("We send a link here to confirm the registration."))
    phone = forms.CharField(label=_("Phone (optional)"), max_length=32, required=False)
    address = forms.CharField(label=_("Street address (optional)"), max_length=300, required=False)
    accept_terms = forms.BooleanField(label_suffix="",
        label=_("I have read and accept the program terms"),
        error_messages={"required": _("Please read and accept the program terms to register.")},
    )

    def clean_phone(self):
        return clean_phone(self.cleaned_data["phone"])


class OwnerDetailsForm(forms.Form):
    name = forms.CharField(label=_("Your name or the business name"), max_length=200)
    phone = forms.CharField(label=_("Phone (optional)"), max_length=32, required=False)
    address = forms.CharField(label=_("Street address (optional)"), max_length=300, required=False)
    daily_digest = forms.BooleanField(label_suffix="",
        label=_("Email me a daily summary of every request, clip access and live view of my cameras"), required=False)

    # Not required: a form without it (an older page) keeps the language the owner has.
    language = forms.ChoiceField(label=_("Language of the emails we send you"), choices=settings.LANGUAGES,
                                 required=False)

    def clean_phone(self):
        return clean_phone(self.cleaned_data["phone"])


class CameraForm(forms.Form):
    label = forms.CharField(label=_("Camera name"), max_length=120, help_text=_("For example 'Front porch'."))
    latitude = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90,
                                help_text=_("Type it, for example 35.779600 (a map app shows a place's latitude and "
                                            "longitude when you press and hold it)."))
    longitude = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180)
    address = forms.CharField(label=_("Where is it? (street address)"), max_length=300, required=False)
    placement = forms.ChoiceField(label=_("Indoor or outdoor"), choices=Camera.Placement.choices,
                                  initial=Camera.Placement.OUTDOOR)
    faces_public = forms.BooleanField(label_suffix="",
        label=_("This camera faces public space (street, sidewalk, parking) and not a neighbour's private property"),
        required=False,
    )
    direction_deg = forms.IntegerField(
        label=_("Direction it faces (degrees, 0 = north, 90 = east)"), min_value=0, max_value=359, initial=0,
        error_messages={"min_value": _("Direction must be between 0 and 359 degrees."),
                        "max_value": _("Direction must be between 0 and 359 degrees.")},
    )
    field_of_view_deg = forms.IntegerField(label=_("Field of view (degrees)"), min_value=1, max_value=360, initial=90)
    range_m = forms.IntegerField(label=_("How far it sees (metres)"), min_value=1, initial=30)
    records = forms.BooleanField(label_suffix="", label=_("It records footage"), required=False, initial=True)
    retention_days = forms.IntegerField(label=_("Days it keeps footage"), min_value=0, max_value=365, initial=7)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The maximum range is a setting, so it is applied per form rather than at import time.
        self.fields["range_m"].widget.attrs["max"] = settings.CAMERA_MAX_RANGE_M
        self.fields["range_m"].validators.append(_max_range_validator)
        # Without JavaScript (no map, no suggestions) a street address alone can place the camera (clean()).
        self.fields["latitude"].required = self.fields["longitude"].required = False

    def clean(self):
        data = super().clean()
        if not self.has_error("latitude") and not self.has_error("longitude"):
            _place_by_address(self, data)
        latitude, longitude = data.get("latitude"), data.get("longitude")
        if latitude is not None and longitude is not None and not in_service_area(
            latitude=latitude, longitude=longitude
        ):
            self.add_error(
                "latitude",
                _("This location is outside the area %(agency)s serves. Check the point on the map.")
                % {"agency": settings.AGENCY_NAME},
            )
        placement, faces_public = data.get("placement"), data.get("faces_public")
        if placement == Camera.Placement.INDOOR and faces_public:
            self.add_error("faces_public", _("An indoor camera cannot be marked as facing public space."))
        if placement == Camera.Placement.OUTDOOR and not faces_public:
            self.add_error(
                "faces_public",
                _("Outdoor cameras can join only if they face public space and not a neighbour's private property."),
            )
        return data


def _place_by_address(form, data) -> None:
    """A camera sent with its street address and no coordinates goes to that address point, if exactly one names
    it; otherwise the person is told how to place it. Nothing typed is lost either way."""
    if data.get("latitude") is not None and data.get("longitude") is not None:
        return
    address = (data.get("address") or "").strip()
    try:
        place = place_of_address(address) if address else None
    except GeocoderUnavailable:
        place = None
    if place is None:
        form.add_error("latitude", _("Place the camera: choose its street address from the list, click the map, or "
                                     "type its latitude and longitude.") if not address else
                       _("We could not find that street address. Check it, click the map, or type the latitude "
                         "and longitude."))
        return
    data["latitude"], data["longitude"], data["address"] = place.lat, place.lng, place.address


def _max_range_validator(value):
    if value > settings.CAMERA_MAX_RANGE_M:
        raise ValidationError(_("Range can be at most %(max)d metres.") % {"max": settings.CAMERA_MAX_RANGE_M})


class BaseCameraFormSet(forms.BaseFormSet):
    # Django's own words ("Please submit at least 1 form.") mean nothing to a resident.
    default_error_messages = {
        "too_few_forms": _("Add at least one camera: its name and where it is."),
        "too_many_forms": _("You can register up to %(num)d cameras here; add more later from your owner page."),
    }

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if not [form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]:
            raise ValidationError(_("Add at least one camera."))


CameraFormSet = forms.formset_factory(
    CameraForm, formset=BaseCameraFormSet, extra=0, min_num=1, max_num=10, validate_min=True, validate_max=True
)


class SignInRequestForm(forms.Form):
    email = forms.EmailField(label=_("The email you registered with"))


def camera_initial(camera: Camera) -> dict:
    initial = {field: getattr(camera, field) for field in (
        "label", "address", "placement", "faces_public", "direction_deg", "field_of_view_deg", "range_m",
        "records", "retention_days")}
    initial.update(latitude=camera.latitude, longitude=camera.longitude)
    return initial
