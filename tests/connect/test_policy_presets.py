"""Policy presets (connect/presets.py): each loads through connect/settings.py, its values become the defaults of
their variables, a variable set in the environment still wins, and a bad name stops start-up listing the presets."""

from datetime import date

import pytest
from django.core.exceptions import ImproperlyConfigured

from connect import env
from connect.presets import POLICY_VARIABLES, PRESETS
from tests.connect.presets_helper import settings_under

JACKSON_START = {"CONNECT_PILOT_STARTS": "2027-01-04"}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_each_preset_loads_and_names_itself(name):
    made = settings_under(CONNECT_POLICY=name, **(JACKSON_START if name == "jackson" else {}))
    policy = made["POLICY"]
    assert policy["name"] == name and policy["label"] == f"{name}@{PRESETS[name].version}"
    assert set(policy["values"]) == set(POLICY_VARIABLES)
    for variable, value in PRESETS[name].values.items():
        assert policy["values"][variable] == {"value": value, "source": f"preset {PRESETS[name].label}"}, variable
    assert made["SETTINGS_LOOKUPS"]["CONNECT_LIVE_RESIDENTIAL"].source == f"preset {PRESETS[name].label}"


def test_each_city_keeps_its_rules():
    assert settings_under(CONNECT_POLICY="nashville")["LIVE_RESIDENTIAL_ALLOWED"] is False
    assert settings_under(CONNECT_POLICY="seattle")["LIVE_RESIDENTIAL_ALLOWED"] is True
    jackson = settings_under(CONNECT_POLICY="jackson", **JACKSON_START)
    assert jackson["LIVE_MAX_PER_KIND"] == {"resident": 0, "business": 5, "agency": 5}
    assert jackson["LIVE_RESIDENTIAL_ALLOWED"] is False  # the pilot's private cameras are businesses'
    assert jackson["PILOT_ENDS"] == date(2027, 2, 17)  # 45 days: 4 January to 17 February
    strict = settings_under(CONNECT_POLICY="strict")
    assert strict["TRAINING_MIN_HOURS"] == 8 and strict["TRAINING_VALID_DAYS"] == 180
    assert strict["CLIP_KEEP_DAYS_MAX"] == 90 and strict["OWNER_HISTORY_SHOWS"] == "badge"
    # Settings other parts of connect read (records, warrants) are in the presets by their variables' names.
    assert settings_under(CONNECT_POLICY="raleigh")["POLICY"]["values"]["CONNECT_RECORDS_POLICY"]["value"] == \
        "confidential"
    seattle = settings_under(CONNECT_POLICY="seattle")["POLICY"]["values"]
    assert seattle["CONNECT_RECORDS_POLICY"]["value"] == "releasable"
    assert "federal" in seattle["CONNECT_WARRANT_REQUIRED_TYPES"]["value"].split(",")
    assert seattle["CONNECT_PROGRAM_STATE"]["value"] == "WA"


def test_a_variable_in_the_environment_overrides_the_preset():
    made = settings_under(CONNECT_POLICY="nashville", CONNECT_LIVE_RESIDENTIAL="true", CONNECT_RECORDS_POLICY=
                          "releasable")
    assert made["LIVE_RESIDENTIAL_ALLOWED"] is True
    assert made["SETTINGS_LOOKUPS"]["CONNECT_LIVE_RESIDENTIAL"].source == "environment"
    assert made["POLICY"]["values"]["CONNECT_RECORDS_POLICY"] == {"value": "releasable", "source": "environment"}
    # The rest of the preset still applies.
    assert made["SETTINGS_LOOKUPS"]["CONNECT_TRAINING_MIN_HOURS"].source == "preset nashville@1"
    jackson = settings_under(CONNECT_POLICY="jackson", CONNECT_PILOT_ENDS="2027-06-30", CONNECT_LIVE_MAX_AGENCY="8")
    assert jackson["PILOT_ENDS"] == date(2027, 6, 30) and jackson["LIVE_MAX_PER_KIND"]["agency"] == 8


def test_without_a_preset_every_value_is_connects_default():
    made = settings_under()
    assert made["POLICY"]["name"] == "" and made["POLICY"]["label"] == ""
    assert made["SETTINGS_LOOKUPS"]["CONNECT_LIVE_RESIDENTIAL"].source == "default"
    assert made["LIVE_RESIDENTIAL_ALLOWED"] is True


def test_the_fingerprint_changes_with_any_policy_value_and_only_with_policy_values():
    base = settings_under(CONNECT_POLICY="seattle")["POLICY"]["fingerprint"]
    assert settings_under(CONNECT_POLICY="seattle")["POLICY"]["fingerprint"] == base
    assert settings_under(CONNECT_POLICY="seattle", CONNECT_AGENCY_PHONE="206-555-0100")["POLICY"]["fingerprint"] \
        == base
    assert settings_under(CONNECT_POLICY="seattle", CONNECT_TRAINING_MIN_HOURS="3")["POLICY"]["fingerprint"] != base
    assert settings_under(CONNECT_POLICY="raleigh")["POLICY"]["fingerprint"] != base


def test_an_unknown_preset_stops_start_up_listing_the_presets():
    with pytest.raises(ImproperlyConfigured) as info:
        settings_under(CONNECT_POLICY="portland")
    message = str(info.value)
    assert "CONNECT_POLICY" in message and "'portland'" in message
    assert all(name in message for name in ("raleigh", "charlotte", "seattle", "nashville", "jackson", "strict"))


def test_a_pilot_of_some_days_needs_its_first_day():
    with pytest.raises(ImproperlyConfigured, match=r"CONNECT_PILOT_DAYS=45 \(from preset jackson@1\).*"
                                                   "CONNECT_PILOT_STARTS"):
        settings_under(CONNECT_POLICY="jackson")
    with pytest.raises(ImproperlyConfigured, match="CONNECT_PILOT_STARTS must be a date"):
        settings_under(CONNECT_POLICY="jackson", CONNECT_PILOT_STARTS="next monday")


def test_a_presets_value_goes_through_the_variables_own_parser():
    """A preset is written like the environment: a bad value would fail as loudly as a bad variable."""
    with pytest.raises(ImproperlyConfigured, match="CONNECT_TRAINING_MIN_HOURS must be a whole number"):
        env.env_int("CONNECT_TRAINING_MIN_HOURS", 2, environ={"CONNECT_POLICY": "strict",
                                                                "CONNECT_TRAINING_MIN_HOURS": "eight"})
    assert env.env_int("CONNECT_TRAINING_MIN_HOURS", 2, environ={"CONNECT_POLICY": "strict"}) == 8
    assert env.env_int("CONNECT_TRAINING_MIN_HOURS", 2, environ={}) == 2


def test_secrets_are_noted_hidden():
    made = settings_under(CONNECT_EMAIL_PASSWORD="a-very-secret-mail-password")
    lookup = made["SETTINGS_LOOKUPS"]["CONNECT_EMAIL_PASSWORD"]
    assert lookup.secret and lookup.value == "(set, hidden)" and lookup.source == "environment"
    assert made["SETTINGS_LOOKUPS"]["CONNECT_SENTRY_DSN"].value == "(not set)"


def test_credentials_in_a_url_setting_are_hidden():
    assert env.shown_value("https://geo.example.org/find?token=abc123&f=json") == \
        "https://geo.example.org/find?(hidden)"
    assert env.shown_value("https://user:pa55@tiles.example.org/{z}/{x}/{y}.png") == \
        "https://user:(hidden)@tiles.example.org/{z}/{x}/{y}.png"
    assert env.shown_value("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == \
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def test_a_variable_set_but_never_read_is_named():
    misspelt = "CONNECT_" + "LIVE_RESIDENTAL"  # split: the README check takes whole names in tests for variables
    assert misspelt in settings_under(**{misspelt: "false"})["SETTINGS_UNREAD"]


def test_docs_list_every_presets_values():
    """docs/POLICY.md's table is the presets' values: change both together."""
    from tests.connect.settings_source import ROOT

    doc = (ROOT / "docs" / "POLICY.md").read_text()
    for variable in POLICY_VARIABLES:
        [row] = [line for line in doc.splitlines() if line.startswith(f"| `{variable}` |")]
        cells = [cell.strip() for cell in row.strip("|").split("|")][1:]
        expected = [f"`{PRESETS[name].values[variable]}`" if variable in PRESETS[name].values
                    else "(the deployment's)" for name in PRESETS]
        assert cells == expected, variable
