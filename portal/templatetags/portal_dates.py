"""Date filters for the long lists of the customer's order page (timeline, messages).

They print what Django's `date:"c"` and `date:"j M, H:i"` print, in the current time zone and
language, without building a DateFormat and parsing the format string on every call: the order
page prints two of them per timeline entry and per message, and with `date` they were the larger
part of rendering it.
"""

from django import template
from django.utils.dates import MONTHS_3

register = template.Library()


@register.filter(expects_localtime=True, is_safe=False)
def iso_time(value) -> str:
    """As `date:"c"`: 2026-03-18T12:00:00+00:00."""
    return value.isoformat() if hasattr(value, "isoformat") else ""


@register.filter(expects_localtime=True, is_safe=False)
def short_time(value) -> str:
    """As `date:"j M, H:i"`: 18 Mar, 12:00."""
    if not hasattr(value, "hour"):
        return ""
    return f"{value.day} {MONTHS_3[value.month].title()}, {value.hour:02d}:{value.minute:02d}"
