"""The owner's weekly viewing hours: one window per weekday in the agency's local time, which may run
past midnight ("22:00"-"06:00"). Days without a window allow no viewing."""

import re
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext, pgettext

from integration.models import WEEKDAYS


def _clock(value: str) -> timedelta:
    if not re.fullmatch(r"\d{1,2}:\d{2}", value):
        raise ValueError(gettext("“%(value)s” is not a time of day.") % {"value": value})
    hours, minutes = (int(part) for part in value.split(":"))
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise ValueError(gettext("“%(value)s” is not a time of day.") % {"value": value})
    return timedelta(hours=hours, minutes=minutes)


def hours_validate(hours: dict) -> dict:
    """Normalises {day: [from, to] | None}; raises ValueError with a sentence a person can act on."""
    clean = {}
    for day in WEEKDAYS:
        window = hours.get(day)
        if not window:
            clean[day] = None
            continue
        start, end = (str(part) for part in window)
        if _clock(start) == _clock(end):
            raise ValueError(gettext("%(day)s: 'from' and 'to' are the same time; leave both empty for no viewing.")
                             % {"day": _day_short(day)})
        if _clock(start) >= timedelta(hours=24):
            raise ValueError(gettext("%(day)s: a window cannot start at 24:00.") % {"day": _day_short(day)})
        clean[day] = [start, end]
    return clean


def _local(day: date, clock: timedelta, tz) -> datetime:
    """The UTC instant of a wall-clock time on a day. Clock changes: a time that happens twice counts the
    first time, and one that does not happen (spring forward) is read with the offset before the change."""
    naive = datetime.combine(day, time.min) + clock  # 24:00 is the next midnight
    return naive.replace(tzinfo=tz).astimezone(UTC)


def _window(hours: dict, day: date, tz) -> tuple[datetime, datetime] | None:
    spec = hours.get(WEEKDAYS[day.weekday()])
    if not spec:
        return None
    start_clock, end_clock = _clock(spec[0]), _clock(spec[1])
    if end_clock <= start_clock:  # runs past midnight
        end_clock += timedelta(days=1)
    return _local(day, start_clock, tz), _local(day, end_clock, tz)


def window_end(hours: dict, now: datetime | None = None) -> datetime | None:
    """When viewing must stop if it is allowed now (back-to-back windows count as one), else None."""
    # Compared in UTC: aware datetimes of one zone compare by wall clock, which is wrong across a clock change.
    tz = timezone.get_current_timezone()
    now = (now or timezone.now()).astimezone(UTC)
    today = now.astimezone(tz).date()
    for offset in (0, -1):  # yesterday's window may run past midnight into today
        window = _window(hours, today + timedelta(days=offset), tz)
        if window and window[0] <= now < window[1]:
            end, day = window[1], today + timedelta(days=offset)
            for _ in range(7):
                day += timedelta(days=1)
                following = _window(hours, day, tz)
                if not following or following[0] != end:
                    break
                end = following[1]
            return end
    return None


def _day_short(day: str) -> str:
    """'Mon' for 'mon', in the active language."""
    return {"mon": pgettext("weekday", "Mon"), "tue": pgettext("weekday", "Tue"), "wed": pgettext("weekday", "Wed"),
            "thu": pgettext("weekday", "Thu"), "fri": pgettext("weekday", "Fri"), "sat": pgettext("weekday", "Sat"),
            "sun": pgettext("weekday", "Sun")}.get(day, day.title())


def hours_summary(hours: dict) -> str:
    windows = [tuple(hours[day]) if hours.get(day) else None for day in WEEKDAYS]
    if len(set(windows)) == 1 and windows[0]:
        if windows[0] == ("00:00", "24:00"):
            return gettext("at any time")
        return gettext("every day %(start)s–%(end)s") % {"start": windows[0][0], "end": windows[0][1]}
    days = [f"{_day_short(day)} {window[0]}–{window[1]}" for day, window in zip(WEEKDAYS, windows, strict=True)
            if window]
    return ", ".join(days) if days else gettext("never")
