"""Small server-rendered SVG charts: no JavaScript, no external files, CSP-safe.

Every label goes through format_html, so the markup is escaped; values are plain numbers.
"""

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#2f6f9f", "#e07b39", "#3a9a5b", "#b8434a", "#7a5ea8", "#8c6d31", "#d45d9c", "#5b6770"]


def _nice_max(value: float) -> float:
    """Round the axis maximum up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1
    power = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def stacked_bars(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    width: int = 760,
    height: int = 240,
) -> SafeString:
    """Vertical stacked bars: one bar per category, one colour per series, with a legend."""
    left, right, top, bottom = 44, 10, 10, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for _, values in series) for i in range(len(categories))]
    ymax = _nice_max(max(totals, default=0))
    slot = plot_w / max(len(categories), 1)
    bar_w = max(slot * 0.75, 1)
    parts = []
    for tick in range(5):
        value = ymax * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ddd"/>'
                '<text x="{}" y="{}" text-anchor="end" font-size="10" fill="#666">{}</text>',
                left, f"{y:.1f}", width - right, f"{y:.1f}", left - 4, f"{y + 3:.1f}", f"{value:g}",
            )
        )  # fmt: skip
    label_every = max(1, len(categories) // 12)
    for i, category in enumerate(categories):
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h
        for k, (name, values) in enumerate(series):
            value = values[i]
            if not value:
                continue
            h = plot_h * value / ymax
            y -= h
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} · {}: {}</title></rect>',
                    f"{x:.1f}", f"{y:.1f}", f"{bar_w:.1f}", f"{h:.1f}", PALETTE[k % len(PALETTE)],
                    category, name, f"{value:g}",
                )
            )  # fmt: skip
        if i % label_every == 0:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" font-size="10" fill="#444">{}</text>',
                    f"{x + bar_w / 2:.1f}", top + plot_h + 13, category,
                )
            )  # fmt: skip
    legend_x = left
    for k, (name, _) in enumerate(series):
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="10" height="10" fill="{}"/>'
                '<text x="{}" y="{}" font-size="11" fill="#333">{}</text>',
                legend_x, height - 16, PALETTE[k % len(PALETTE)], legend_x + 14, height - 7, name,
            )
        )  # fmt: skip
        legend_x += 24 + 7 * len(name)
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="kpi-chart" viewBox="0 0 {} {}" width="100%" '
        'role="img" aria-label="{}"><title>{}</title>{}</svg>',
        width, height, title, title, mark_safe("".join(parts)),
    )  # fmt: skip


def horizontal_bars(
    items: Sequence[tuple[str, float, str]], *, title: str, width: int = 520, bar_h: int = 18
) -> SafeString:
    """One horizontal bar per (label, value, shown_text), scaled to the largest value."""
    left, gap = 170, 6
    height = max(len(items), 1) * (bar_h + gap) + gap
    vmax = max((v for _, v, _ in items), default=0) or 1
    plot_w = width - left - 70
    rows = []
    for i, (label, value, shown) in enumerate(items):
        y = gap + i * (bar_h + gap)
        w = plot_w * value / vmax
        rows.append(
            (
                y + bar_h * 0.7, label,
                left, y, f"{w:.1f}", bar_h, PALETTE[0], label, shown,
                left + w + 4, y + bar_h * 0.7, shown,
            )
        )  # fmt: skip
    body = format_html_join(
        "",
        '<text x="164" y="{}" text-anchor="end" font-size="11" fill="#333">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>'
        '<text x="{}" y="{}" font-size="11" fill="#333">{}</text>',
        rows,
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="kpi-chart kpi-hbars" viewBox="0 0 {} {}" width="{}" '
        'role="img" aria-label="{}"><title>{}</title>{}</svg>',
        width, height, width, title, title, body,
    )  # fmt: skip
