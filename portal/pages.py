"""The customer's order page, rendered once and served from the shared cache.

What is cached is only what every visitor of the order sees: the status card, parcels, items,
returns, timeline, the message thread and the empty message form, as HTML fragments. The link
token, the CSRF token, a bound form with errors and the "sent" notice are added per request by
the view, and the token is checked (signature and expiry) on every request before the cache is
even asked.

Freshness: every write that changes what the page shows locks the order (orders.services.
order_lock) or records an order event (order_event_record), and both replace the order's
version stamp after commit (core.cache_versions); a pick list run does the same for its orders
and portal.signals covers staff correcting an address in the admin. An entry is only used under
the stamp it was rendered with, so the next request after a commit renders afresh. The key also
holds today's date, and entries expire after ORDER_PAGE_TIMEOUT as a safety net.
"""

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from core.cache_versions import cache_get_versioned, cache_set_versioned
from orders.selectors import order_get_for_tracking

from .forms import MessageForm
from .selectors import order_get_page

ORDER_PAGE_TIMEOUT = 300
NAMESPACE = "order"


def _key(number: str) -> str:
    return f"portal:page:{number}:{timezone.localdate().isoformat()}"


def order_page_render(*, number: str) -> dict | None:
    """Render the shared parts of an order's page from the database (no cache); None when
    there is no such order."""
    order = order_get_for_tracking(number=number)
    if order is None:
        return None
    context = order_get_page(order=order)
    return {
        "number": order.number,
        "status": order.status,
        "may_return": context["may_return"],
        "show_actions": bool(context["may_return"] or context["thread"] or context["returns"]),
        "has_messages": bool(context["thread_messages"]),
        "status_html": mark_safe(render_to_string("portal/_order_status.html", context)),
        "body_html": mark_safe(render_to_string("portal/_order_body.html", context)),
        "messages_html": mark_safe(render_to_string("portal/_order_messages.html", context)),
        "form_html": mark_safe(
            render_to_string("portal/_message_fields.html", {"message_form": MessageForm()})
        ),
    }


def order_page_get(*, number: str) -> dict | None:
    """The shared parts of an order's page: from the cache when it holds them under the order's
    current version stamp (no database query), else rendered and stored. None when there is no
    such order (not cached: a number that does not exist is never looked up without a valid
    signed token)."""
    key = _key(number)
    stamp, page = cache_get_versioned(namespace=NAMESPACE, ident=number, key=key)
    if page is not None:
        return page
    # The stamp was read before the rows: a write committing meanwhile replaces it, so what we
    # store now can't be served after that write.
    page = order_page_render(number=number)
    if page is not None:
        cache_set_versioned(key=key, stamp=stamp, value=page, timeout=ORDER_PAGE_TIMEOUT)
    return page
