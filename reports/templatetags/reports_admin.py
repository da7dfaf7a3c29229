"""Export links in an admin list's object tools (next to "Add …")."""

from django import template
from django.contrib.admin.views.main import PAGE_VAR
from django.urls import reverse
from django.utils.html import format_html_join

from reports.exports import exports_for_admin
from reports.services import export_user_can

register = template.Library()


@register.simple_tag(takes_context=True)
def export_links(context):
    """One "Export … CSV" link per export of this list, keeping the list's filters and search."""
    cl, request = context.get("cl"), context.get("request")
    if cl is None or request is None:
        return ""
    query = cl.get_query_string(remove=[PAGE_VAR]).lstrip("?")
    links = []
    for export in exports_for_admin(cl.model):
        if not export_user_can(user=request.user, export=export):
            continue
        url = reverse("reports:export", args=[export.name]) + (f"?{query}" if query else "")
        bom_url = url + ("&" if query else "?") + "bom=1"
        links.append((url, export.label.capitalize(), bom_url))
    return format_html_join(
        "",
        '<li><a href="{}" class="viewlink" title="Every row of the filtered list, as CSV">{} CSV</a>'
        ' <a href="{}" title="The same with a UTF-8 BOM, for Excel">(Excel)</a></li>',
        links,
    )


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
