"""Policy presets: a named, versioned bundle of CONNECT_* settings for a whole program (docs/POLICY.md).

`CONNECT_POLICY=seattle` makes each of the preset's values the default of its variable; a variable set in the
environment still wins. The values are written as they would be in the environment, so every setting, including
ones added later, is presettable by its name and goes through its own parser. Change a preset's values only
with a new version: the version is shown on /transparency/ and recorded in the ledger with each change.
"""

from dataclasses import dataclass, field

POLICY_VARIABLE = "CONNECT_POLICY"


@dataclass(frozen=True)
class Preset:
    name: str
    version: int
    program: str  # whose rules, in a few words (docs/POLICY.md gives the sources)
    values: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


# What connect's own defaults are, written out for every preset that follows them: each preset names every
# variable any preset sets, so switching from one preset to another never keeps a stale value by omission.
_BASELINE = {
    "CONNECT_LIVE_RESIDENTIAL": "true",
    "CONNECT_TRAINING_MIN_HOURS": "2",
    "CONNECT_TRAINING_VALID_DAYS": "365",
    "CONNECT_LIVE_SELF_OVERRIDE": "false",
    "CONNECT_RECORDS_POLICY": "confidential",
    "CONNECT_RECORDS_OBJECTION_DAYS": "10",
    "CONNECT_WARRANT_REQUIRED_TYPES": "federal,out_of_state",
    "CONNECT_AGENCY_LIVE_VIEWS": "true",
    "CONNECT_LIVE_MAX_RESIDENT": "0",
    "CONNECT_LIVE_MAX_BUSINESS": "0",
    "CONNECT_LIVE_MAX_AGENCY": "0",
    "CONNECT_PILOT_DAYS": "0",
    "CONNECT_PILOT_END_REGISTRATIONS": "keep",
    "CONNECT_CLIP_KEEP_DAYS_MIN": "30",
    "CONNECT_CLIP_KEEP_DAYS_MAX": "365",
    "CONNECT_LIVE_SESSION_KEEP_DAYS": "90",
    "CONNECT_OWNER_HISTORY_SHOWS": "unit",
}


def _preset(name: str, version: int, program: str, **changes: str) -> Preset:
    values = dict(_BASELINE)
    for key, value in changes.items():
        variable = f"CONNECT_{key}"
        if variable not in values and variable != "CONNECT_PROGRAM_STATE":
            raise ValueError(f"preset {name}: {variable} is not in the baseline; add it there first")
        values[variable] = value
    return Preset(name=name, version=version, program=program, values=values)


PRESETS: dict[str, Preset] = {preset.name: preset for preset in (
    _preset("raleigh", 1, "Raleigh, North Carolina: a registry; shared video is not public information",
            PROGRAM_STATE="NC", RECORDS_POLICY="confidential"),
    _preset("charlotte", 1, "Charlotte-Mecklenburg, North Carolina: registry and live integration",
            PROGRAM_STATE="NC", RECORDS_POLICY="confidential"),
    _preset("seattle", 1, "Seattle, Washington: no federal access without a warrant; records releasable after a "
                          "case closes",
            PROGRAM_STATE="WA", RECORDS_POLICY="releasable", WARRANT_REQUIRED_TYPES="federal,out_of_state"),
    _preset("nashville", 1, "Nashville, Tennessee: the Metro Council's ordinance bans live access to residential "
                            "cameras",
            PROGRAM_STATE="TN", LIVE_RESIDENTIAL="false"),
    # connect's caps are per owner kind: the pilot's five private cameras are businesses', with residential live
    # sharing off, so no more than five private cameras are ever live (docs/POLICY.md).
    _preset("jackson", 1, "Jackson, Mississippi: a 45-day pilot of 5 city and 5 private cameras",
            PROGRAM_STATE="MS", LIVE_MAX_AGENCY="5", LIVE_MAX_BUSINESS="5", LIVE_RESIDENTIAL="false",
            PILOT_DAYS="45"),
    # Every safeguard at its tightest; the program's state stays whatever the deployment sets.
    _preset("strict", 2, "every safeguard at its tightest",
            LIVE_RESIDENTIAL="false", AGENCY_LIVE_VIEWS="false", TRAINING_MIN_HOURS="8", TRAINING_VALID_DAYS="180",
            RECORDS_POLICY="confidential", RECORDS_OBJECTION_DAYS="30",
            WARRANT_REQUIRED_TYPES="federal,out_of_state,police,prosecutor,other",
            CLIP_KEEP_DAYS_MIN="0", CLIP_KEEP_DAYS_MAX="90", LIVE_SESSION_KEEP_DAYS="30",
            OWNER_HISTORY_SHOWS="badge"),
)}

# The variables that make up the program's policy: what the ledger's policy entries and /transparency/ cover.
POLICY_VARIABLES = sorted({variable for preset in PRESETS.values() for variable in preset.values})
