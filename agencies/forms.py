from django import forms
from django.contrib.gis.geos import Point
from django.utils import timezone

from agencies.models import LegalBasis, RequestKind

WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class AgencyRequestForm(forms.Form):
    kind = forms.ChoiceField(label="What you ask for", choices=RequestKind.choices)
    legal_basis = forms.ChoiceField(label="Legal basis", choices=LegalBasis.choices)
    purpose = forms.CharField(label="Purpose (your case and why)", widget=forms.Textarea(attrs={"rows": 3}),
                              max_length=2000)
    case_number = forms.CharField(label="The program's case number (footage of a case)", max_length=32,
                                  required=False)
    latitude = forms.FloatField(required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180)
    radius_m = forms.IntegerField(label="Radius (m)", required=False, min_value=10, max_value=2000)
    starts_at = forms.DateTimeField(label="From", required=False, widget=WHEN)
    ends_at = forms.DateTimeField(label="Until", required=False, widget=WHEN)
    # The warrant or court order, when the program's policy asks for one (or the agency has one).
    warrant_file = forms.FileField(label="Warrant or court order (PDF or image)", required=False)
    court = forms.CharField(max_length=200, required=False)
    number = forms.CharField(label="Warrant number", max_length=80, required=False)
    judge = forms.CharField(max_length=200, required=False)
    signed_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    scope = forms.CharField(label="Scope, as the warrant words it", widget=forms.Textarea(attrs={"rows": 2}),
                            required=False)
    scope_kinds = forms.MultipleChoiceField(label="The warrant covers", choices=RequestKind.choices, required=False,
                                            widget=forms.CheckboxSelectMultiple)
    scope_case_number = forms.CharField(label="Case the warrant names", max_length=32, required=False)
    scope_starts_at = forms.DateTimeField(label="Warrant's window from", required=False, widget=WHEN)
    scope_ends_at = forms.DateTimeField(label="Warrant's window until", required=False, widget=WHEN)
    expires_at = forms.DateTimeField(label="Warrant expires", required=False, widget=WHEN)
    notice_delayed_until = forms.DateField(label="The order delays owner notice until (the legal reviewer confirms it)",
                                           required=False, widget=forms.DateInput(attrs={"type": "date"}))

    WARRANT_FIELDS = ("court", "number", "judge", "signed_on", "scope", "scope_kinds", "expires_at")

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == RequestKind.CASE_FOOTAGE and not data.get("case_number"):
            self.add_error("case_number", "Give the program's case number.")
        if kind in (RequestKind.CAMERAS_NEAR, RequestKind.LIVE_VIEW):
            for name in ("latitude", "longitude", "radius_m", "starts_at", "ends_at"):
                if data.get(name) in (None, ""):
                    self.add_error(name, "Needed for cameras near a place or a live view.")
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", "The end must come after the start.")
        if data.get("warrant_file"):
            for name in self.WARRANT_FIELDS:
                if not data.get(name):
                    self.add_error(name, "Needed with the warrant.")
        elif any(data.get(name) for name in ("court", "number", "judge")):
            self.add_error("warrant_file", "Attach the warrant or court order itself.")
        return data

    def location(self):
        data = self.cleaned_data
        if data.get("latitude") is None or data.get("longitude") is None:
            return None
        return Point(data["longitude"], data["latitude"], srid=4326)


class ApproveForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    until = forms.DateTimeField(label="Approved until", widget=WHEN)
    clips = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    radius_m = forms.IntegerField(label="Approved radius (m)", required=False, min_value=10)
    notice_delayed_until = forms.DateField(
        label="Delay owner notice until (only as the court order says; empty: owners are told now)", required=False,
        widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, clip_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clips"].choices = clip_choices

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until <= timezone.now():
            raise forms.ValidationError("The approved access must end in the future.")
        return until


class RefuseForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
