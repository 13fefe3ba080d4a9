"""A moment as a resident reads it in a request: the weekday and date always (a window can cross midnight), the
clock of the reader's language (9:00 p.m. in English, 21:00 in Spanish), and the time zone, named at each end
(a window can cross a daylight saving change)."""

from django import template
from django.utils import formats, timezone

register = template.Library()


@register.filter
def moment(value) -> str:
    """Tuesday, Dec. 1, 2026, 9:00 p.m. EST"""
    if not value:
        return ""
    local = timezone.localtime(value)
    day = f"{formats.date_format(local, 'l')}, {formats.date_format(local, 'DATE_FORMAT')}"
    return f"{day}, {formats.time_format(local, 'TIME_FORMAT')} {local.tzname()}"
