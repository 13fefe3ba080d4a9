"""The staff form that starts a campaign: who (a list, or an area), how (mail or letters), in which language."""

import json

from django import forms
from django.conf import settings
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Polygon
from django.utils.translation import gettext_lazy as _

from common.districts import district_area, district_names
from invitations.csv_list import MAX_BYTES
from invitations.models import Campaign


class CampaignForm(forms.Form):
    name = forms.CharField(label="Campaign name", max_length=200, help_text="Staff see it; recipients do not.")
    channel = forms.ChoiceField(label="Send as", choices=Campaign.Channel.choices, widget=forms.RadioSelect,
                                initial=Campaign.Channel.EMAIL)
    language = forms.ChoiceField(label="Language when the recipient's is not known", choices=settings.LANGUAGES,
                                 initial="en")
    email_list = forms.FileField(
        label="Email list (CSV)", required=False,
        help_text="One address a line, optionally followed by a language code (en, es). Bad lines are reported "
                  "and left out; the others are kept.")
    district = forms.ChoiceField(label="District", required=False)
    area_geojson = forms.CharField(label="Or an area drawn on the map (GeoJSON polygon)", required=False,
                                   widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = [("", "(none)")] + [(name, name) for name in district_names()]

    def clean_email_list(self):
        upload = self.cleaned_data.get("email_list")
        if upload and upload.size > MAX_BYTES:
            raise forms.ValidationError(f"The list is larger than {MAX_BYTES // (1024 * 1024)} MB: split it.")
        return upload

    def clean_area_geojson(self):
        text = self.cleaned_data["area_geojson"].strip()
        if not text:
            return None
        try:
            data = json.loads(text)
            if data.get("type") == "Feature":
                data = data["geometry"]
            area = GEOSGeometry(json.dumps(data), srid=4326)
        except (ValueError, TypeError, KeyError, AttributeError, GEOSException):
            raise forms.ValidationError("The drawn area is not a GeoJSON polygon: draw it again.") from None
        if not isinstance(area, Polygon | MultiPolygon) or not area.valid:
            raise forms.ValidationError("The drawn area must be one polygon whose edges do not cross.")
        return area

    def clean(self):
        data = super().clean()
        area = data.get("area_geojson")
        if area is None and data.get("district"):
            area = district_area(data["district"])
        data["area"] = area
        if data.get("channel") == Campaign.Channel.EMAIL and not data.get("email_list") \
                and not self.has_error("email_list"):
            self.add_error("email_list", "An email campaign needs a list of addresses (CSV).")
        if data.get("channel") == Campaign.Channel.LETTER and area is None and not self.has_error("area_geojson"):
            self.add_error("district", "Letters go to the addresses inside an area: choose a district or draw one.")
        return data


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Your code"), max_length=20, help_text=_("As printed on your letter, for example "
                                                                           "K7QM-3XPA."))
