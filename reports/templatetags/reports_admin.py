"""Reports in the admin: lead times as managers read them."""

from django import template

register = template.Library()


@register.filter
def duration_short(value) -> str:
    """A lead time as a manager reads it: "1 d 12 h", "5 h 30 min", "45 min"; "—" for none."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


@register.filter
def lead_band(band) -> str:
    """A lead-time band (reports.selectors.LeadBand) as a manager reads it: "within 26 h",
    "within 4 d 6 h", "over 30 d"; "—" for none. Hours up to 3 days, where the bands are hours."""
    if band is None:
        return "—"
    if band.within is None:
        return f"over {duration_short(band.after)}"
    hours = band.within.total_seconds() / 3600
    return f"within {hours:.0f} h" if hours <= 72 else f"within {duration_short(band.within)}"
