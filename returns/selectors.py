"""Reads for returns: what a customer may still return, and the return desk's lookups."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Max, Prefetch, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.money import ZERO, quantize
from fulfillment.models import Shipment, ShipmentLine
from inventory.models import Product
from orders.models import Order, OrderLine

from .models import ReturnLine, ReturnRequest, StoreCredit

# Units in these returns are spoken for but not yet counted in OrderLine.quantity_returned
# (inspection counts them).
AWAITING_INSPECTION = [
    ReturnRequest.Status.REQUESTED,
    ReturnRequest.Status.APPROVED,
    ReturnRequest.Status.IN_TRANSIT,
    ReturnRequest.Status.DELIVERED,
    ReturnRequest.Status.RECEIVED,
]

RS = ReturnRequest.Status
# A return someone still has to move on: the customer's parcel, the warehouse or customer service.
OPEN_STATUSES = [RS.REQUESTED, RS.APPROVED, RS.IN_TRANSIT, RS.DELIVERED, RS.RECEIVED, RS.INSPECTED]


@dataclass(frozen=True)
class ReturnableLine:
    order_line: OrderLine
    delivered: int
    returnable: int
    deadline: dt.date | None
    why_not: str  # empty when some units can be returned


def return_window_days(*, order: Order, product: Product | None) -> int:
    """The product's own window when it has one, else the channel's."""
    if product is not None and product.return_window_days is not None:
        return product.return_window_days
    return order.channel.return_window_days


def return_list_returnable_lines(*, order: Order, today: dt.date | None = None) -> list[ReturnableLine]:
    """Every line of the order with how many units may be returned now and, when none, why.

    Only delivered units count, inside the return window counted from the delivery of the
    parcel that carried them. Three queries whatever the number of lines.
    """
    today = today or timezone.localdate()
    delivered = {
        row["order_line_id"]: row
        for row in ShipmentLine.objects.filter(
            order_line__order=order, shipment__status=Shipment.Status.DELIVERED
        )
        .values("order_line_id")
        .annotate(units=Sum("quantity"), at=Max("shipment__delivered_at"))
    }
    pending = dict(
        ReturnLine.objects.filter(return_request__order=order, return_request__status__in=AWAITING_INSPECTION)
        .values("order_line_id")
        .annotate(total=Sum("quantity"))
        .values_list("order_line_id", "total")
    )
    result = []
    for line in order.lines.select_related("product").order_by("pk"):
        info = delivered.get(line.pk)
        units = info["units"] if info else 0
        deadline = None
        if info and info["at"]:
            days = return_window_days(order=order, product=line.product)
            deadline = timezone.localdate(info["at"]) + dt.timedelta(days=days)
        left = max(units - line.quantity_returned - pending.get(line.pk, 0), 0)
        if line.product is None or not line.product.is_returnable:
            why, left = "This item can't be returned.", 0
        elif not units:
            why = "Not delivered yet."
        elif deadline is not None and today > deadline:
            why, left = f"The return window closed on {deadline:%-d %B %Y}.", 0
        elif not left:
            why = "Already returned or in a return request."
        else:
            why = ""
        result.append(ReturnableLine(line, units, left, deadline, why))
    return result


EXCHANGE_OTHER_PRODUCTS_LIMIT = 30


def product_list_exchange_options(*, products: list[Product]) -> dict[int, list[Product]]:
    """For each product, the active products it may be exchanged for: itself first, then its
    variants (the products whose SKU shares its stem, the part before the last "-"), then other
    products at the same price (an even exchange: the replacement is free, so only same-priced
    products qualify), at most EXCHANGE_OTHER_PRODUCTS_LIMIT of those. Two queries."""
    products = [p for p in products if p is not None]
    stems = {p.pk: p.sku.rsplit("-", 1)[0] for p in products}
    if not stems:
        return {}
    query = Q()
    for stem in set(stems.values()):
        query |= Q(sku__startswith=f"{stem}-") | Q(sku=stem)
    candidates = list(Product.objects.filter(query, is_active=True).order_by("sku"))
    prices = {p.price for p in products}
    same_price = list(
        Product.objects.filter(is_active=True, is_returnable=True, price__in=prices).order_by("name", "sku")[
            : EXCHANGE_OTHER_PRODUCTS_LIMIT * len(prices) + len(candidates)
        ]
    )
    options = {}
    for product in products:
        stem = stems[product.pk]
        same = [c for c in candidates if c.pk == product.pk]
        variants = [c for c in candidates if c.pk != product.pk and c.sku.rsplit("-", 1)[0] == stem]
        taken = {product.pk, *(v.pk for v in variants)}
        others = [c for c in same_price if c.price == product.price and c.pk not in taken]
        options[product.pk] = same + variants + others[:EXCHANGE_OTHER_PRODUCTS_LIMIT]
    return options


def return_get_by_number(*, number: str) -> ReturnRequest | None:
    """A return by its RMA number as typed or scanned (case and spaces ignored)."""
    cleaned = "".join((number or "").split()).upper()
    if cleaned and not cleaned.startswith("RMA-"):
        cleaned = "RMA-" + cleaned.removeprefix("RMA")
    return ReturnRequest.objects.select_related("order").filter(number=cleaned).first()


def return_list_for_order(*, order: Order) -> list[ReturnRequest]:
    """The order's returns with their lines and order lines, newest first (two queries)."""
    return list(
        ReturnRequest.objects.filter(order=order)
        .select_related("replacement_order", "store_credit")
        .prefetch_related(Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line")))
        .order_by("-created_at", "-pk")
    )


def order_get_return_state(*, lines: list[OrderLine]) -> str:
    """ "returned", "partially_returned" or "" from the order's lines (no query)."""
    shipped = sum(line.quantity_shipped for line in lines)
    returned = sum(line.quantity_returned for line in lines)
    if not returned:
        return ""
    return "returned" if returned >= shipped else "partially_returned"


def store_credit_list_discrepancies() -> list[str]:
    """Every store credit whose balance is not its initial amount less the sum of its
    redemptions (spent positive, given back negative), as readable lines. One query."""
    credits = (
        StoreCredit.objects.annotate(spent=Coalesce(Sum("redemptions__amount"), ZERO))
        .exclude(balance=F("initial_amount") - F("spent"))
        .order_by("pk")
    )
    return [
        f"store credit {c.code}: balance {c.balance} but issued {c.initial_amount} "
        f"less redemptions {quantize(c.spent)} is {quantize(c.initial_amount - c.spent)}"
        for c in credits
    ]


def return_request_count(*, status: str | list[str]) -> int:
    """Return requests in one status, or any of several (a stage of the returns queue). One query
    (status index)."""
    statuses = status if isinstance(status, list) else [status]
    return ReturnRequest.objects.filter(status__in=statuses).count()


def return_list_open_for_order(*, order_id: int) -> list[ReturnRequest]:
    """The order's returns still in progress (requested to inspected), oldest first. One query."""
    return list(
        ReturnRequest.objects.filter(order_id=order_id, status__in=OPEN_STATUSES).order_by("created_at", "pk")
    )
