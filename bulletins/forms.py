"""The compose form: what to look for, where, how urgent, and who receives it."""

from django import forms
from django.contrib.gis.geos import Point
from django.utils.translation import gettext_lazy as _

from bulletins.models import Bulletin
from bulletins.services import Addressees


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


class ComposeForm(forms.Form):
    incident = forms.TypedChoiceField(label=_("Case"), required=False, coerce=int, empty_value=None)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
        help_text=_("For example: white hat, grey backpack, heading north on Fayetteville St"))
    priority = forms.ChoiceField(label=_("Priority"), choices=Bulletin.Priority.choices,
                                 initial=Bulletin.Priority.URGENT)
    lat = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(label=_("Longitude"), required=False, min_value=-180, max_value=180)
    within_km = forms.FloatField(label=_("Units within (km) of the point"), required=False, min_value=0.1,
                                 max_value=50)
    zone = forms.ChoiceField(label=_("Zone"), required=False)
    units = forms.CharField(label=_("Units (ids, comma separated)"), required=False, max_length=1000)
    users = forms.CharField(label=_("People (user names, comma separated)"), required=False, max_length=1000)
    # The case's stills and clips are picked from a list (the template's radio buttons, `pick`: "still:<code>" or
    # "clip:<code>"); an evidence code can still be typed.
    pick = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    evidence = forms.UUIDField(label=_("Or type a saved still's evidence code"), required=False)
    clip = forms.UUIDField(label=_("Or type a video clip's evidence code"), required=False)
    clip_in = forms.FloatField(label=_("Segment from (seconds into the clip)"), required=False, min_value=0)
    clip_out = forms.FloatField(label=_("Segment to (seconds into the clip)"), required=False, min_value=0)
    frame = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    thread = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, incidents=(), zones=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["incident"].choices = [("", _("No case"))] + [
            (i.pk, f"{i.case_number} ({i.offense_type})") for i in incidents]
        self.fields["zone"].choices = [("", _("No zone"))] + [(z, z) for z in zones]

    def clean(self):
        data = super().clean()
        if (data.get("lat") is None) != (data.get("lng") is None):
            raise forms.ValidationError(_("Give both latitude and longitude, or neither."))
        self._picked(data)
        return data

    def _picked(self, data) -> None:
        """A picked still or clip fills the evidence or clip field (which the view checks as a typed code)."""
        kind, _colon, code = (data.get("pick") or "").partition(":")
        if not kind:
            return
        field = {"still": "evidence", "clip": "clip"}.get(kind)
        try:
            picked = forms.UUIDField().clean(code) if field else None
        except forms.ValidationError:
            picked = None
        if picked is None:
            self.add_error(None, _("Choose a still or a clip from the case's list."))
        elif data.get(field) not in (None, picked) or data.get("clip" if field == "evidence" else "evidence"):
            self.add_error(field, _("Pick a still or clip from the list, or type a code: not both."))
        else:
            data[field] = picked

    def point(self) -> Point | None:
        data = self.cleaned_data
        return Point(data["lng"], data["lat"], srid=4326) if data.get("lat") is not None else None

    def addressees(self) -> Addressees:
        data = self.cleaned_data
        return Addressees(units=_names(data.get("units") or ""), near=self.point(), within_km=data.get("within_km"),
                          zone=data.get("zone") or "", usernames=_names(data.get("users") or ""))
