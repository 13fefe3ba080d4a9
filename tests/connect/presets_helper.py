"""Settings as connect would start under a policy preset: connect/settings.py run afresh with an environment of the
test's choosing (nothing mocked), and a fixture that puts the policy's settings in force for one test."""

import os
import runpy

import pytest

from connect import env
from tests.connect.settings_source import SETTINGS

# The settings a policy variable feeds, put in force by `under_policy`; infrastructure stays the test run's.
POLICY_SETTINGS = ("POLICY", "SETTINGS_LOOKUPS", "SETTINGS_UNREAD", "LIVE_RESIDENTIAL_ALLOWED", "TRAINING_MIN_HOURS",
                   "TRAINING_VALID_DAYS", "LIVE_SELF_OVERRIDE", "LIVE_MAX_PER_KIND", "PILOT_DAYS", "PILOT_STARTS",
                   "PILOT_ENDS", "PILOT_END_REGISTRATIONS", "CLIP_KEEP_DAYS_MIN", "CLIP_KEEP_DAYS_MAX",
                   "LIVE_SESSION_KEEP_DAYS", "OWNER_HISTORY_SHOWS", "LEDGER_KEEP_DAYS",
                   "RECORDS_POLICY", "RECORDS_OBJECTION_DAYS", "WARRANT_REQUIRED_TYPES", "PROGRAM_STATE")


def settings_under(**variables: str) -> dict:
    """Every setting connect/settings.py makes with these variables set (and the test run's others)."""
    saved_environ, saved_lookups = dict(os.environ), dict(env.LOOKUPS)
    try:
        env.LOOKUPS.clear()
        os.environ.update(variables)
        made = runpy.run_path(str(SETTINGS))
        made["SETTINGS_LOOKUPS"] = dict(env.LOOKUPS)
        return {name: value for name, value in made.items() if name.isupper()}
    finally:
        os.environ.clear()
        os.environ.update(saved_environ)
        env.LOOKUPS.clear()
        env.LOOKUPS.update(saved_lookups)


@pytest.fixture
def under_policy(settings):
    """under_policy(CONNECT_POLICY="nashville", ...): the policy's settings in force for the rest of the test."""

    def apply(**variables: str) -> dict:
        made = settings_under(**variables)
        for name in POLICY_SETTINGS:
            if name in made:
                setattr(settings, name, made[name])
        return made

    return apply
