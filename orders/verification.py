"""Verification rules, run on capture and again when a hold is released.

Each rule returns findings (hold reason + a detail staff can act on). Review reasons (duplicate,
limit, fraud, manual) that staff have released once are not raised again for the same order:
releasing them is the review.
"""

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection
from django.db.models.functions import Upper

from .address_checks import address_verify, suggestion_one_line
from .models import Order, OrderHold, OrderLine

Reason = OrderHold.Reason

REVIEW_REASONS = {Reason.DUPLICATE, Reason.LIMIT, Reason.FRAUD, Reason.MANUAL}

# Payment methods where nothing is collected before shipping.
DEFERRED_PAYMENT_METHODS = {
    "cod",
    "cash_on_delivery",
    "pay_on_delivery",
    "invoice",
    "bank_transfer_invoice",
}
PAID_STATUSES = {Order.PaymentStatus.AUTHORIZED, Order.PaymentStatus.PAID}

POSTCODE_PATTERNS = {
    "US": r"\d{5}(-\d{4})?",
    "CA": r"[A-Z]\d[A-Z] ?\d[A-Z]\d",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}",
    "DE": r"\d{5}",
    "FR": r"\d{5}",
    "ES": r"\d{5}",
    "IT": r"\d{5}",
    "NL": r"\d{4} ?[A-Z]{2}",
    "BE": r"\d{4}",
    "AT": r"\d{4}",
    "CH": r"\d{4}",
    "AU": r"\d{4}",
    "NZ": r"\d{4}",
    "SE": r"\d{3} ?\d{2}",
    "DK": r"\d{4}",
    "NO": r"\d{4}",
    "PL": r"\d{2}-\d{3}",
    "PT": r"\d{4}-\d{3}",
    "JP": r"\d{3}-?\d{4}",
    "BR": r"\d{5}-?\d{3}",
    "IN": r"\d{6}",
}
# Countries whose addresses have no postal code.
NO_POSTCODE = {"IE", "HK", "AE", "QA", "PA", "JM"}


@dataclass(frozen=True)
class Finding:
    reason: str
    detail: str
    suggestion: dict | None = None  # the carrier's version of the address, kept on the hold


def _sentence(text: str) -> str:
    """A hold's detail: the reason's label stands before it (“Address unverifiable: Missing city.”)."""
    return text[:1].upper() + text[1:] + "."


def postcode_problem(country: str, postal_code: str) -> str | None:
    country = (country or "").upper()
    code = (postal_code or "").strip().upper()
    if not code:
        return None if country in NO_POSTCODE else "postal code is missing"
    pattern = POSTCODE_PATTERNS.get(country)
    if pattern and not re.fullmatch(pattern, code):
        return f"postal code “{postal_code}” is not valid for {country}"
    return None


def check_required(order: Order, lines) -> list[Finding]:
    problems = []
    try:
        validate_email(order.email)
    except ValidationError:
        problems.append("a valid customer e-mail")
    if not lines:
        problems.append("at least one line")
    if problems:
        return [Finding(Reason.INCOMPLETE, _sentence(" and ".join(problems)))]
    return []


def check_address(order: Order, lines) -> list[Finding]:
    address = order.shipping_address
    if address is None:
        return [Finding(Reason.ADDRESS, "No shipping address.")]
    missing = [
        label
        for label, value in [
            ("street", address.line1),
            ("city", address.city),
            ("country", address.country),
            ("name", address.name),
        ]
        if not (value or "").strip()
    ]
    problems = []
    if missing:
        problems.append("missing " + ", ".join(missing))
    if address.country and not re.fullmatch(r"[A-Z]{2}", address.country):
        problems.append(f"country “{address.country}” is not an ISO 3166 code")
    elif address.country and (problem := postcode_problem(address.country, address.postal_code)):
        problems.append(problem)
    if problems:
        return [Finding(Reason.ADDRESS, _sentence("; ".join(problems)))]
    return []


def check_address_deliverable(order: Order, lines) -> list[Finding]:
    """The carrier can deliver to the shipping address (asked through the registered verifier,
    orders.address_checks; only when a carrier gateway that verifies is configured). Addresses
    with missing parts are left to check_address."""
    if check_address(order, lines):
        return []
    verdict = address_verify(order.shipping_address)
    if verdict.deliverable is not False:
        return []
    detail = f"{verdict.checked_by or 'The carrier'} can't deliver to this address"
    if verdict.reasons:
        detail += ": " + "; ".join(verdict.reasons)
    if verdict.suggestion:
        detail += f". Suggested: {suggestion_one_line(verdict.suggestion)}"
    return [Finding(Reason.ADDRESS, detail[:499] + ".", suggestion=verdict.suggestion)]


def check_skus(order: Order, lines) -> list[Finding]:
    """Lines we have to ship whose SKU names no active product (a line the channel fulfilled
    itself leaves us nothing to ship)."""
    bad = [
        line.sku or "(no SKU)"
        for line in lines
        if line.quantity > line.quantity_shipped and (line.product is None or not line.product.is_active)
    ]
    if bad:
        return [Finding(Reason.UNKNOWN_SKU, ", ".join(bad) + ".")]
    return []


def check_limits(order: Order, lines) -> list[Finding]:
    max_qty = settings.OMS["MAX_LINE_QUANTITY"]
    max_value = Decimal(settings.OMS["MAX_ORDER_VALUE"])
    findings = []
    over = [f"{line.sku} × {line.quantity}" for line in lines if line.quantity > max_qty]
    if over:
        findings.append(Finding(Reason.LIMIT, f"Quantity over {max_qty} per line: " + ", ".join(over) + "."))
    if order.total > max_value:
        findings.append(
            Finding(Reason.LIMIT, f"Order value {order.total} {order.currency} is over {max_value}.")
        )
    return findings


def _customers_lock(emails) -> None:
    """Serialise duplicate checks per customer until the transaction ends (PostgreSQL).

    Two identical orders captured at the same moment each insert their row, then look for the
    other; neither sees the other's uncommitted row. With this lock the second to arrive waits
    until the first commits and then sees it (READ COMMITTED takes a new snapshot per statement).
    A batch takes its customers' locks in one statement, in the order of their keys, so two
    batches with customers in common queue instead of deadlocking. SQLite runs one writing
    transaction at a time, so it needs nothing.
    """
    keys = sorted({f"order-dup:{email.upper()}" for email in emails if email})
    if keys and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(h) FROM "
                "(SELECT hashtext(k) AS h FROM unnest(%s::text[]) AS k ORDER BY 1) AS keys",
                [keys],
            )


@dataclass
class DuplicateIndex:
    """The orders (not cancelled) of some customers within the duplicate window of some moments,
    read once for a batch capture: by upper-case e-mail, (placed_at, pk, number, sorted items).

    `rank` gives the batch's own orders their place in the batch: an order is compared with the
    ones captured before it, as if they had arrived one at a time (the first of two identical
    orders in a batch is clean, the second held as its duplicate)."""

    by_email: dict[str, list[tuple]] = field(default_factory=dict)
    rank: dict[int, int] = field(default_factory=dict)


def duplicate_index_build(orders: list[Order]) -> DuplicateIndex:
    """Lock the customers of these (saved) orders and read, in one query, every line of their
    other orders within the window around them (check_duplicate reads the index, not the
    database)."""
    with_email = [o for o in orders if o.email]
    index = DuplicateIndex(rank={o.pk: i for i, o in enumerate(orders)})
    if not with_email:
        return index
    _customers_lock(o.email for o in with_email)
    window = dt.timedelta(minutes=settings.OMS["DUPLICATE_WINDOW_MINUTES"])
    rows = (
        OrderLine.objects.annotate(email_upper=Upper("order__email"))
        .filter(
            email_upper__in={o.email.upper() for o in with_email},
            order__placed_at__gte=min(o.placed_at for o in with_email) - window,
            order__placed_at__lte=max(o.placed_at for o in with_email) + window,
        )
        .exclude(order__status=Order.Status.CANCELLED)
        .values_list("email_upper", "order_id", "order__placed_at", "order__number", "sku", "quantity")
    )
    found: dict[tuple, list] = defaultdict(list)
    for email, order_id, placed_at, number, sku, quantity in rows:
        found[(email, placed_at, order_id, number)].append((sku, quantity))
    by_email: dict[str, list[tuple]] = defaultdict(list)
    for (email, placed_at, order_id, number), items in found.items():
        by_email[email].append((placed_at, order_id, number, sorted(items)))
    for candidates in by_email.values():
        candidates.sort(key=lambda c: (c[0], c[1]))
    index.by_email = dict(by_email)
    return index


def _duplicate_in(index: DuplicateIndex, order: Order, signature: list) -> str | None:
    """The number of the first order the index holds that this one duplicates, if any."""
    window = dt.timedelta(minutes=settings.OMS["DUPLICATE_WINDOW_MINUTES"])
    mine = index.rank.get(order.pk)
    for placed_at, other_id, number, items in index.by_email.get(order.email.upper(), ()):
        if other_id == order.pk or abs(placed_at - order.placed_at) > window or items != signature:
            continue
        theirs = index.rank.get(other_id)
        if mine is not None and theirs is not None and theirs > mine:
            continue  # captured after this one in the same batch
        return number
    return None


def check_duplicate(order: Order, lines, duplicates: DuplicateIndex | None = None) -> list[Finding]:
    """Same customer (e-mail, any case) and the same items within the window, either side of
    this order's time, among every order of that customer in the window that isn't cancelled.
    A batch capture passes the index it read once for the batch (duplicate_index_build)."""
    if not order.email or not lines:
        return []
    signature = sorted((line.sku, line.quantity) for line in lines)
    if duplicates is None:
        duplicates = duplicate_index_build([order])
    number = _duplicate_in(duplicates, order, signature)
    if number is None:
        return []
    minutes = settings.OMS["DUPLICATE_WINDOW_MINUTES"]
    return [Finding(Reason.DUPLICATE, f"Same customer and items as {number} within {minutes} minutes.")]


def check_payment(order: Order, lines) -> list[Finding]:
    method = (order.payment_method or "").strip().lower()
    if method in DEFERRED_PAYMENT_METHODS or order.payment_status in PAID_STATUSES:
        return []
    return [
        Finding(
            Reason.PAYMENT,
            f"Payment is {order.get_payment_status_display().lower()}"
            + (f" ({order.payment_method})" if order.payment_method else "")
            + "; it must be authorized before shipping.",
        )
    ]


RULES = [
    check_required,
    check_address,
    check_address_deliverable,
    check_skus,
    check_limits,
    check_duplicate,
    check_payment,
]


def order_run_verification(
    order: Order, *, lines=None, new: bool = False, duplicates: DuplicateIndex | None = None
) -> list[Finding]:
    """Every finding for this order, skipping review reasons staff have already released.

    `lines` (with products) are read unless given; `new` says the order was just created, so it
    has no released holds to read; `duplicates`, the index a batch capture read for all its
    orders (check_duplicate)."""
    if lines is None:
        lines = list(order.lines.select_related("product"))
    reviewed = (
        set()
        if new
        else set(
            order.holds.filter(released_at__isnull=False, reason__in=REVIEW_REASONS).values_list(
                "reason", flat=True
            )
        )
    )
    findings = []
    for rule in RULES:
        found = check_duplicate(order, lines, duplicates) if rule is check_duplicate else rule(order, lines)
        findings.extend(f for f in found if f.reason not in reviewed)
    return findings
