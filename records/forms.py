from django import forms
from django.utils.translation import gettext_lazy as _

from records.models import Release


class PrepareForm(forms.Form):
    reference = forms.CharField(max_length=120, label="Public-records request reference")


class RefusalLetterForm(forms.Form):
    requester = forms.CharField(max_length=200, label="Requester (name and address)")
    reference = forms.CharField(max_length=120, label="Request reference")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[(Release.Decision.RELEASE, "Release the redacted clips"),
                                          (Release.Decision.WITHHOLD, "Withhold them")])
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           label="Note (required to release over an objection)")


class BoxForm(forms.Form):
    """A box to blur in every frame, in percent of the frame, or the whole frame; or a failed run tried again."""

    x = forms.FloatField(required=False, min_value=0, max_value=100, label="Left (%)")
    y = forms.FloatField(required=False, min_value=0, max_value=100, label="Top (%)")
    width = forms.FloatField(required=False, min_value=0.5, max_value=100, label="Width (%)")
    height = forms.FloatField(required=False, min_value=0.5, max_value=100, label="Height (%)")
    whole_frame = forms.BooleanField(required=False, label="Blur every frame whole")
    retry = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        values = [data.get(name) for name in ("x", "y", "width", "height")]
        if data.get("retry"):
            return data
        if any(v is None for v in values) and not all(v is None for v in values):
            raise forms.ValidationError("A box needs its left, top, width and height.")
        if all(v is None for v in values) and not data.get("whole_frame"):
            raise forms.ValidationError("Give a box to blur, or tick 'Blur every frame whole'.")
        if all(v is not None for v in values) and (values[0] + values[2] > 100 or values[1] + values[3] > 100):
            raise forms.ValidationError("The box reaches outside the picture.")
        return data

    def box(self):
        values = [self.cleaned_data.get(name) for name in ("x", "y", "width", "height")]
        return None if any(v is None for v in values) else [v / 100 for v in values]


class ObjectionForm(forms.Form):
    objection = forms.CharField(label=_("Why you object (optional)"), required=False, max_length=4000,
                                widget=forms.Textarea(attrs={"rows": 5}))
