"""The customer's order page, rendered once per change and served from the shared cache.

What is cached is only what every visitor of the order sees: the whole page rendered once, with
holes (placeholder strings) where the link token and the "sent" notice go; each request fills the
holes in with its own (two-phase rendering, so a warm page costs one cache round trip and a few
string replacements, no query and no template). The token is checked (signature and expiry) on
every request before the cache is even asked.

Freshness: every write that changes what the page shows locks the order (orders.events.
order_lock) or records an order event (order_event_record), and both send orders.signals.
order_changed; portal.signals also covers a pick list run, staff correcting an address in the
admin and store credit spent elsewhere. After the commit, portal.signals replaces the orders'
version stamps (core.cache_versions), so no entry rendered before is used again, and queues one
task (portal.tasks.order_pages_warm) that renders the pages of every order the commit changed
into the cache: the first view after a change, typically the customer following the link in the
e-mail about it, is a cached one. A page is stored only under the stamp read before its rows,
and refused when a later commit replaced that stamp meanwhile, so a slow rendering never pushes
out a newer page. A page nobody warmed (stamp evicted, a new day) is rendered by the first
request and stored the same way.

The key holds today's date, and an entry lives until the day is over: long enough for the
customer to open the e-mail about a change, and a bound on how long something that changed
without telling portal (a carrier renamed in the admin) can show.
"""

import datetime as dt
import functools
import re
from collections.abc import Iterable
from itertools import batched
from urllib.parse import quote

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dates import MONTHS, MONTHS_3, WEEKDAYS
from django.utils.html import escape
from django.utils.http import RFC3986_SUBDELIMS

from core.cache_versions import (
    cache_get_versioned,
    cache_get_versioned_many,
    cache_set_if_current,
    cache_set_many_if_current,
)
from orders.cache import ORDER_CACHE_NAMESPACE

from .selectors import OrderPage, PageMessage, PageParcel, order_list_pages

# Placeholders for the per-request parts: plain letters, so the template's escaping leaves them
# intact.
TOKEN_HOLE = "portal-link-token-hole"
SENT_HOLE = "portal-sent-notice-hole"
RETURN_HOLE = "portal-return-number-hole"
URL_SAFE = RFC3986_SUBDELIMS + "/~:@"  # as django.urls.resolvers quotes URL arguments
# Pages rendered per batch when warming many: the queries per batch are fixed (see
# portal.selectors.order_list_pages), the memory held is a batch's rows and pages.
WARM_BATCH = 200


def _key(number: str) -> str:
    return f"portal:page:{number}:{timezone.localdate().isoformat()}"


def _timeout() -> int:
    """Seconds until today's pages can no longer be asked for (the key holds the date)."""
    now = timezone.localtime()
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=now.tzinfo)
    return max(60, int((midnight - now).total_seconds()) + 60)


@functools.cache
def _return_url() -> str:
    """A return's page under the order's URL, with holes for the token and the return number:
    reversed once, not once per return."""
    return reverse("portal:return_done", args=[TOKEN_HOLE, RETURN_HOLE])


@functools.cache
def _names(language: str) -> tuple[list[str], list[str], list[str]]:
    """Short and long month names (January is 1) and weekday names (Monday is 0) in a language,
    as the date filter prints them: looked up once per language, not once per date."""
    with translation.override(language):
        return (
            ["", *(str(MONTHS_3[m]).title() for m in range(1, 13))],
            ["", *(str(MONTHS[m]) for m in range(1, 13))],
            [str(WEEKDAYS[d]) for d in range(7)],
        )


class _Dates:
    """The page's dates in the current time zone and language, printed as the date filter would
    print them with the formats below, without a DateFormat per call (the timeline is the
    longest list on the page)."""

    def __init__(self):
        self.tz = timezone.get_current_timezone()
        self.month3, self.month, self.weekday = _names(translation.get_language() or "en")

    def moment(self, at: dt.datetime) -> dict[str, str]:
        """For a <time> element: `date:"c"` (iso) and `date:"j M, H:i"` (when)."""
        local = at.astimezone(self.tz)
        return {
            "iso": local.isoformat(),
            "when": f"{local.day} {self.month3[local.month]}, {local.hour:02d}:{local.minute:02d}",
        }

    def day(self, day: dt.date | dt.datetime) -> str:
        """`date:"l j F"`: Tuesday 3 March."""
        if isinstance(day, dt.datetime):
            day = day.astimezone(self.tz)
        return f"{self.weekday[day.weekday()]} {day.day} {self.month[day.month]}"

    def full(self, at: dt.datetime) -> str:
        """`date:"j F Y, H:i"`: 3 March 2026, 14:05."""
        local = at.astimezone(self.tz)
        return f"{local.day} {self.month[local.month]} {local.year}, {local.hour:02d}:{local.minute:02d}"


def _parcel_rows(parcels: Iterable[PageParcel], dates: _Dates) -> list[dict]:
    return [
        {
            "status": p.status,
            "status_label": p.status_label,
            "service": p.service,
            "tracking_number": p.tracking_number,
            "tracking_url": p.tracking_url,
            "delivered": dates.day(p.delivered_at) if p.delivered_at else "",
            "estimated": dates.day(p.estimated_delivery) if p.estimated_delivery else "",
            "items": p.items,
        }
        for p in parcels
    ]


def message_rows(messages: Iterable[PageMessage], dates: _Dates | None = None) -> list[dict]:
    """Messages as portal/_order_messages.html shows them."""
    dates = dates or _Dates()
    return [{"author": m.author, "body": m.body, **dates.moment(m.created_at)} for m in messages]


def _context(page: OrderPage) -> dict:
    """What portal/order.html shows: the page's values, lists as rows of plain strings."""
    dates = _Dates()
    order = page.order
    may_return = page.may_return
    returns = [
        (rr, _return_url().replace(RETURN_HOLE, quote(rr.number, safe=URL_SAFE))) for rr in page.returns
    ]
    return {
        "number": order.number,
        "order": order,
        "placed": dates.full(order.placed_at),
        "status_words": page.status_words,
        "return_state": page.return_state,
        "lines": page.lines,
        "shipments": _parcel_rows(page.parcels, dates),
        "parcel_count": len(page.parcels),
        "returns": returns,
        "timeline": [
            {"source": e.source, "title": e.title, "detail": e.detail, **dates.moment(e.at)}
            for e in page.timeline
        ],
        "thread_messages": message_rows(page.thread_messages, dates),
        "may_return": may_return,
        "show_actions": bool(may_return or page.has_thread or page.returns),
        "token": TOKEN_HOLE,
        "sent_hole": SENT_HOLE,
    }


def order_pages_render(*, numbers: Iterable[str]) -> dict[str, str]:
    """The pages of these orders from the database, with holes for the per-request parts, by
    order number; numbers of no order are left out. The same queries for one order or many."""
    return {
        page.order.number: render_to_string("portal/order.html", _context(page))
        for page in order_list_pages(numbers=numbers)
    }


def order_page_get(*, number: str) -> str | None:
    """The order page with holes: from the cache when it holds it under the order's current
    version stamp (no database query), else rendered and stored. None when there is no such
    order (not cached: only a valid signed token gets this far)."""
    key = _key(number)
    stamp, page = cache_get_versioned(namespace=ORDER_CACHE_NAMESPACE, ident=number, key=key)
    if page is not None:
        return page
    # The stamp was read before the rows: a write committing meanwhile replaces it, and then
    # what we rendered is not stored.
    page = order_pages_render(numbers=[number]).get(number)
    if page is not None:
        cache_set_if_current(
            namespace=ORDER_CACHE_NAMESPACE,
            ident=number,
            key=key,
            stamp=stamp,
            value=page,
            timeout=_timeout(),
        )
    return page


def order_page_is_cached(*, number: str) -> bool:
    """Whether the next request for the order's page will be served from the cache (its page is
    stored under its current stamp). For checks and benchmarks; one cache round trip."""
    return cache_get_versioned(namespace=ORDER_CACHE_NAMESPACE, ident=number, key=_key(number))[1] is not None


def order_pages_warm(*, numbers: Iterable[str]) -> int:
    """Render the pages of these orders into the shared cache, so the next request for each is
    served from it, in batches of WARM_BATCH (a fixed number of queries each). Pages already
    cached under their order's current stamp are left alone. Each page is stored under the stamp
    read before its rows, and refused if a commit replaced the stamp meanwhile (that commit warms
    its own). Returns how many pages were stored."""
    stored = 0
    for batch in batched(dict.fromkeys(numbers), WARM_BATCH):
        keys = {number: _key(number) for number in batch}
        cached = cache_get_versioned_many(namespace=ORDER_CACHE_NAMESPACE, keys=keys)
        missing = [number for number, (_, page) in cached.items() if page is None]
        pages = order_pages_render(numbers=missing) if missing else {}
        entries = {number: (keys[number], cached[number][0], page) for number, page in pages.items()}
        stored += cache_set_many_if_current(
            namespace=ORDER_CACHE_NAMESPACE, entries=entries, timeout=_timeout()
        )
    return stored


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
