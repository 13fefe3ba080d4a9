from datetime import timedelta

from django import forms
from django.utils import timezone

MAX_RANGE_DAYS = 3 * 366


class AuditSearchForm(forms.Form):
    user = forms.CharField(label="User name", required=False, max_length=150)
    case = forms.CharField(label="Case number", required=False, max_length=64)
    camera = forms.UUIDField(label="Camera code", required=False)
    owner = forms.UUIDField(label="Owner code", required=False)
    action = forms.CharField(label="Action", required=False, max_length=48,
                             help_text="For example clip.downloaded, map.search, owner.contact_viewed")
    # Days in the program's time zone (TIME_ZONE), the zone the results are shown in: see entries_search.
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = timezone.get_default_timezone_name()
        self.fields["date_from"].label = f"From ({zone})"
        self.fields["date_to"].label = f"To ({zone}, inclusive)"

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if end < start:
                raise forms.ValidationError("“To” is before “From”.")
            if end - start > timedelta(days=MAX_RANGE_DAYS):
                raise forms.ValidationError("Search at most three years at a time, or export year by year.")
        return data
