"""Code128 barcodes as inline SVG (no image files, no external service)."""

import re
from functools import lru_cache

import barcode
from barcode.errors import BarcodeError
from barcode.writer import SVGWriter

_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


@lru_cache(maxsize=4096)
def code128_svg(value: str, *, height_mm: float = 12.0) -> str:
    """The SVG element for `value` (empty when it can't be encoded, e.g. non-ASCII). The human
    readable text is left to the page, which escapes it."""
    if not value:
        return ""
    try:
        code = barcode.Code128(value, writer=SVGWriter())
        svg = code.render(
            writer_options={
                "module_height": height_mm,
                "module_width": 0.25,
                "write_text": False,
                "quiet_zone": 2,
            }
        )
    except (BarcodeError, ValueError, UnicodeError):
        return ""
    text = _COMMENT.sub("", _PROLOGUE.sub("", svg.decode("utf-8"), count=1))
    text = text.replace(' id="barcode_group"', "")
    return text.replace("<svg ", '<svg class="barcode" role="img" aria-label="barcode" ', 1)
