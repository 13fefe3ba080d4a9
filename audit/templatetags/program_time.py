"""Times as staff read them in the ledger and in custody reports: in the program's time zone (TIME_ZONE), with
the zone named and each time's offset from UTC, since that offset changes with daylight saving time."""

from django import template
from django.utils import timezone

register = template.Library()


def _offset(moment) -> str:
    raw = moment.strftime("%z")  # -0500
    return f"UTC{raw[:3]}:{raw[3:]}"


@register.filter
def program_time(value) -> str:
    """2026-12-04 20:24:54 EST (UTC-05:00)"""
    if not value:
        return ""
    local = timezone.localtime(value, timezone.get_default_timezone())
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} ({_offset(local)})"


@register.simple_tag
def program_time_zone() -> str:
    """America/New_York (UTC-05:00 now)"""
    zone = timezone.get_default_timezone()
    return f"{timezone.get_default_timezone_name()} ({_offset(timezone.localtime(timezone.now(), zone))} now)"
