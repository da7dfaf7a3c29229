"""The customer's order page, rendered once and served from the shared cache.

What is cached is only what every visitor of the order sees: the whole page rendered once, with
holes (placeholder strings) where the link token and the "sent" notice go; each
request fills the holes in with its own (two-phase rendering, so a warm page costs one cache
round trip and a few string replacements, no query and no template). The token is checked
(signature and expiry) on every request before the cache is even asked.

Freshness: every write that changes what the page shows locks the order (orders.events.
order_lock) or records an order event (order_event_record), and both send orders.signals.
order_changed, on which portal.signals replaces the order's version stamp after commit
(core.cache_versions); a pick list run sends it for its orders, and portal.signals also covers
staff correcting an address in the admin. An entry is only used under the stamp it was rendered
with, so the next request after a commit renders afresh. The key also
holds today's date, and entries expire after ORDER_PAGE_TIMEOUT as a safety net.
"""

import functools
import re
from urllib.parse import quote

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import mark_safe

from core.cache_versions import cache_get_versioned, cache_set_versioned
from orders.cache import ORDER_CACHE_NAMESPACE
from orders.selectors import order_get_for_tracking

from .selectors import order_get_page

ORDER_PAGE_TIMEOUT = 300
# Placeholders for the per-request parts: plain letters, so the template's escaping leaves them
# intact.
TOKEN_HOLE = "portal-link-token-hole"
SENT_HOLE = "portal-sent-notice-hole"
URL_SAFE = RFC3986_SUBDELIMS + "/~:@"  # as django.urls.resolvers quotes URL arguments


def _key(number: str) -> str:
    return f"portal:page:{number}:{timezone.localdate().isoformat()}"


def order_page_parts(*, order) -> dict:
    """The shared parts of an order's page, rendered from the database as HTML fragments (for
    portal/order.html's `page`)."""
    context = {**order_get_page(order=order), "token": TOKEN_HOLE}
    return {
        "status": order.status,
        "may_return": context["may_return"],
        "show_actions": bool(context["may_return"] or context["thread"] or context["returns"]),
        "has_messages": bool(context["thread_messages"]),
        "status_html": mark_safe(render_to_string("portal/_order_status.html", context)),
        "body_html": mark_safe(render_to_string("portal/_order_body.html", context)),
        "messages_html": mark_safe(render_to_string("portal/_order_messages.html", context)),
    }


def order_page_render(*, number: str) -> str | None:
    """The whole order page from the database, with holes for the per-request parts; None
    when there is no such order."""
    order = order_get_for_tracking(number=number)
    if order is None:
        return None
    context = {
        "number": order.number,
        "page": order_page_parts(order=order),
        "token": TOKEN_HOLE,
        "sent_hole": SENT_HOLE,
    }
    return render_to_string("portal/order.html", context)


def order_page_get(*, number: str) -> str | None:
    """The order page with holes: from the cache when it holds it under the order's current
    version stamp (no database query), else rendered and stored. None when there is no such
    order (not cached: only a valid signed token gets this far)."""
    key = _key(number)
    stamp, page = cache_get_versioned(namespace=ORDER_CACHE_NAMESPACE, ident=number, key=key)
    if page is not None:
        return page
    # The stamp was read before the rows: a write committing meanwhile replaces it, so what we
    # store now can't be served after that write.
    page = order_page_render(number=number)
    if page is not None:
        cache_set_versioned(key=key, stamp=stamp, value=page, timeout=ORDER_PAGE_TIMEOUT)
    return page


@functools.cache
def _token_links() -> re.Pattern:
    """Every link under the order's own URL with the hole for the token (return form, message
    form, each return's page), with its quotes: customer-written text is HTML-escaped, so it can
    never produce one."""
    prefix = reverse("portal:order", args=[TOKEN_HOLE])
    return re.compile('"' + re.escape(prefix) + '([^"]*)"')


def order_page_html(*, request, number: str, token: str, sent: str) -> str | None:
    """The order page for this request: the shared page with this visitor's link token and
    notice filled in. None when there is no such order. The page carries no form, so no CSRF
    token: the message form lives on its own page (portal:message_post), rendered fresh."""
    page = order_page_get(number=number)
    if page is None:
        return None
    # The notice's hole comes before any customer text.
    quoted = quote(token, safe=URL_SAFE)  # what reverse() would put in the URL
    own = escape(reverse("portal:order", args=[TOKEN_HOLE]).replace(TOKEN_HOLE, quoted))
    page = _token_links().sub(lambda m: f'"{own}{m.group(1)}"', page)
    sent_alert = render_to_string("portal/_sent_alert.html") if sent == "message" else ""
    return page.replace(SENT_HOLE, sent_alert, 1)
