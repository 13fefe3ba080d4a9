from datetime import timedelta

from django import forms

MAX_RANGE_DAYS = 3 * 366


class AuditSearchForm(forms.Form):
    user = forms.CharField(label="User name", required=False, max_length=150)
    case = forms.CharField(label="Case number", required=False, max_length=64)
    camera = forms.UUIDField(label="Camera code", required=False)
    owner = forms.UUIDField(label="Owner code", required=False)
    action = forms.CharField(label="Action", required=False, max_length=48,
                             help_text="For example clip.downloaded, map.search, owner.contact_viewed")
    date_from = forms.DateField(label="From (UTC)", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To (UTC, inclusive)", required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if end < start:
                raise forms.ValidationError("“To” is before “From”.")
            if end - start > timedelta(days=MAX_RANGE_DAYS):
                raise forms.ValidationError("Search at most three years at a time, or export year by year.")
        return data
