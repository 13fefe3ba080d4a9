"""Owner forms: signing the live-sharing terms with limits, pausing, and privacy masks."""

import json

from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from integration.hours import hours_validate
from integration.models import WEEKDAYS, LiveShare

DAY_NAMES = dict(zip(WEEKDAYS, (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"),
                                           _("Saturday"), _("Sunday")),
                     strict=True))
PAUSE_CHOICES = [("1", _("1 hour")), ("8", _("8 hours")), ("24", _("1 day")), ("168", _("1 week"))]


class LiveLimitsForm(forms.Form):
    """Per weekday a from/to time (both empty: no viewing that day; 'to' before 'from' runs past midnight)."""

    incident_required = forms.BooleanField(
        required=False, initial=True, label=_("Only when the police report an incident near my camera"))
    incident_radius_m = forms.IntegerField(min_value=50, max_value=5000, initial=300, label=_("Within (metres)"))
    max_session_minutes = forms.IntegerField(min_value=1, max_value=240, initial=30,
                                             label=_("Longest single viewing (minutes)"))
    notify_each_view = forms.BooleanField(required=False, label=_("Email me each time someone views"))

    def __init__(self, *args, share: LiveShare | None = None, **kwargs):
        if share is not None and "initial" not in kwargs:
            kwargs["initial"] = limits_initial(share)
        super().__init__(*args, **kwargs)
        for day in WEEKDAYS:
            initial = ["00:00", "24:00"]
            self.fields[f"{day}_from"] = forms.CharField(required=False, initial=initial[0], max_length=5,
                                                         label=format_lazy(_("{day} from"), day=DAY_NAMES[day]))
            self.fields[f"{day}_to"] = forms.CharField(required=False, initial=initial[1], max_length=5,
                                                       label=format_lazy(_("{day} to"), day=DAY_NAMES[day]))

    def day_fields(self):
        return [(DAY_NAMES[day], self[f"{day}_from"], self[f"{day}_to"]) for day in WEEKDAYS]

    def clean(self):
        data = super().clean()
        hours = {}
        for day in WEEKDAYS:
            start, end = (data.get(f"{day}_{edge}", "").strip() for edge in ("from", "to"))
            if bool(start) != bool(end):
                self.add_error(f"{day}_from", _("Give both times, or leave both empty for no viewing that day."))
                continue
            hours[day] = [start, end] if start else None
        try:
            data["hours"] = hours_validate(hours)
        except ValueError as exc:
            raise forms.ValidationError(_("%(problem)s Use 24-hour times such as 07:30 or 22:00.")
                                        % {"problem": exc}) from None
        if not any(data["hours"].values()):
            raise forms.ValidationError(_("Allow at least one day, or stop sharing instead."))
        return data

    def limits(self) -> dict:
        data = self.cleaned_data
        return {"hours": data["hours"], "incident_required": data["incident_required"],
                "incident_radius_m": data["incident_radius_m"], "max_session_minutes": data["max_session_minutes"],
                "notify_each_view": data["notify_each_view"]}


def limits_initial(share: LiveShare) -> dict:
    initial = {"incident_required": share.incident_required, "incident_radius_m": share.incident_radius_m,
               "max_session_minutes": share.max_session_minutes, "notify_each_view": share.notify_each_view}
    for day in WEEKDAYS:
        window = share.hours.get(day) or ["", ""]
        initial[f"{day}_from"], initial[f"{day}_to"] = window
    return initial


class LiveSignForm(LiveLimitsForm):
    agree = forms.BooleanField(label=_("I have read the live-sharing terms above and agree to them"))
    signed_name = forms.CharField(max_length=200, min_length=3, label=_("Type your full name to sign"))


class PauseForm(forms.Form):
    hours = forms.TypedChoiceField(choices=PAUSE_CHOICES, coerce=int, label=_("Pause live sharing for"))


class MasksForm(forms.Form):
    masks = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                            label=_("Masked areas (JSON: a list of shapes, each a list of [x, y] corners from 0 to 1)"))

    def clean_masks(self):
        text = self.cleaned_data["masks"].strip() or "[]"
        try:
            return json.loads(text)
        except ValueError:
            raise forms.ValidationError(_("The masks could not be read; draw them again.")) from None


def terms_text() -> str:
    try:
        return settings.LIVE_TERMS_FILE.read_text(encoding="utf-8")
    except OSError:
        return ""
