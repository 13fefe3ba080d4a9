"""The owner's weekly hours, in the agency's time zone (America/New_York here), across midnight and clock changes."""

from datetime import UTC, datetime

import pytest

from integration.hours import hours_summary, hours_validate, window_end

EVERY_DAY = {day: ["07:00", "22:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_inside_and_outside_a_window():
    # Friday 2026-11-27, 12:00 EST = 17:00 UTC.
    assert window_end(EVERY_DAY, utc(2026, 11, 27, 17)) == utc(2026, 11, 28, 3)  # 22:00 EST
    assert window_end(EVERY_DAY, utc(2026, 11, 28, 4)) is None  # 23:00 EST


def test_a_window_past_midnight_and_back_to_back_days():
    nights = {**{day: None for day in EVERY_DAY}, "fri": ["22:00", "06:00"]}
    assert window_end(nights, utc(2026, 11, 28, 8)) == utc(2026, 11, 28, 11)  # Sat 03:00 EST -> 06:00 EST
    always = {day: ["00:00", "24:00"] for day in EVERY_DAY}
    end = window_end(always, utc(2026, 11, 27, 17))
    assert end is not None and (end - utc(2026, 11, 27, 17)).days >= 6  # a week of whole days is one window


def test_clock_changes_are_counted_in_real_time():
    # 2026-11-01: clocks fall back at 02:00 EDT to 01:00 EST. A window 00:00-03:00 lasts four real hours.
    sunday = {**{day: None for day in EVERY_DAY}, "sun": ["00:00", "03:00"]}
    second_one_fifteen = utc(2026, 11, 1, 6, 15)  # 01:15 EST, the second time 01:15 happens
    assert window_end(sunday, second_one_fifteen) == utc(2026, 11, 1, 8)  # 03:00 EST
    # 2026-03-08: clocks spring forward at 02:00 EST to 03:00 EDT; 02:30 does not exist that day.
    spring = {**{day: None for day in EVERY_DAY}, "sun": ["00:00", "02:30"]}
    end = window_end(spring, utc(2026, 3, 8, 6, 30))  # 01:30 EST
    assert end is not None and end > utc(2026, 3, 8, 6, 30)


def test_validation_and_summary():
    with pytest.raises(ValueError, match="not a time of day"):
        hours_validate({"mon": ["7", "25:00"]})
    with pytest.raises(ValueError, match="the same time"):
        hours_validate({"mon": ["07:00", "07:00"]})
    assert hours_summary(EVERY_DAY) == "every day 07:00–22:00"
    assert hours_summary({day: ["00:00", "24:00"] for day in EVERY_DAY}) == "at any time"
    assert hours_summary({"mon": ["07:00", "09:00"]}) == "Mon 07:00–09:00"
