from django import template
from django.utils.safestring import mark_safe

from ..barcodes import code128_svg

register = template.Library()


@register.simple_tag
def barcode(value, height_mm=12.0):
    """Inline Code128 SVG for a shipment number or SKU (built by python-barcode, no user markup)."""
    return mark_safe(code128_svg(str(value or ""), height_mm=float(height_mm)))  # noqa: S308
