"""What we tell Shopify: fulfilments with tracking, tracking corrections, cancellations, stock.

Each `*_enqueue` runs in the transaction of our change and writes a delivery built from our rows;
each `*_send` is the delivery's handler, run by the worker after commit (see core.outbox). Every
handler is safe to run twice: it looks before it creates (a fulfilment with our tracking number,
an order already cancelled) and adopts what it finds.
"""

from urllib.parse import quote

from core.outbox.errors import DeliveryFailed
from core.outbox.services import delivery_enqueue
from inventory.models import Product

from ..channels import ChannelPlan, connection_for
from ..models import RemoteFulfillment, ShopifyConnection, ShopifyLocation
from ..stock import stock_level_now, stock_listing_pushed, stock_listing_remember, stock_listing_remote
from .client import ShopifyClient, shopify_gid

FULFILLMENT = "shopify.fulfillment"
TRACKING = "shopify.tracking"
CANCEL = "shopify.cancel"
STOCK = "shopify.stock"

ORDER_FULFILLMENT_ORDERS = """
query OrderFulfillmentOrders($id: ID!, $after: String) {
  order(id: $id) {
    id
    fulfillments(first: 20) { id status trackingInfo(first: 5) { number } }
    fulfillmentOrders(first: 5, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id
        status
        assignedLocation { location { id } }
        supportedActions { action }
        lineItems(first: 50) { nodes { id remainingQuantity lineItem { id } } }
      }
    }
  }
}
"""
FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}
"""
TRACKING_UPDATE = """
mutation FulfillmentTrackingInfoUpdate(
  $fulfillmentId: ID!, $trackingInfoInput: FulfillmentTrackingInput!, $notifyCustomer: Boolean
) {
  fulfillmentTrackingInfoUpdate(
    fulfillmentId: $fulfillmentId, trackingInfoInput: $trackingInfoInput, notifyCustomer: $notifyCustomer
  ) {
    fulfillment { id trackingInfo { number company url } }
    userErrors { field message }
  }
}
"""
ORDER_CANCELLED = """
query OrderCancelled($id: ID!) {
  order(id: $id) { id cancelledAt }
}
"""
ORDER_CANCEL = """
mutation OrderCancel(
  $orderId: ID!, $notifyCustomer: Boolean, $refundMethod: OrderCancelRefundMethodInput,
  $restock: Boolean!, $reason: OrderCancelReason!, $staffNote: String
) {
  orderCancel(
    orderId: $orderId, notifyCustomer: $notifyCustomer, refundMethod: $refundMethod,
    restock: $restock, reason: $reason, staffNote: $staffNote
  ) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""
VARIANT_BY_SKU = """
query VariantBySku($query: String!) {
  productVariants(first: 5, query: $query) { nodes { sku inventoryItem { id } } }
}
"""
INVENTORY_SET = """
mutation InventorySetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { reason changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}
"""
STOCK_LEVELS = """
query StockLevels($after: String) {
  productVariants(first: 50, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      sku
      inventoryItem {
        id
        inventoryLevels(first: 10) {
          nodes { location { id } quantities(names: ["available"]) { name quantity } }
        }
      }
    }
  }
}
"""


def _connection(delivery) -> ShopifyConnection:
    connection = connection_for(int(delivery.target.split(":", 1)[1]))
    if not isinstance(connection, ShopifyConnection):
        raise DeliveryFailed(f"{delivery.target} has no Shopify connection any more: nothing was sent.")
    return connection


def _tracking_info(shipment) -> dict:
    carrier = shipment.carrier
    info = {"number": shipment.tracking_number}
    if carrier is not None:
        info["company"] = carrier.name
    if shipment.tracking_url:
        info["url"] = shipment.tracking_url
    return info


# --- fulfilments -----------------------------------------------------------------------------------
def shopify_fulfillment_enqueue(*, plan: ChannelPlan, shipment, order) -> None:
    """Owe Shopify the fulfilment of a shipment we shipped: its lines by Shopify's line item ids,
    the tracking number, carrier and link, at the location its warehouse is mapped to."""
    mapping = (
        ShopifyLocation.objects.filter(
            connection__channel_id=plan.channel_id, warehouse_id=shipment.warehouse_id
        )
        .only("location_id")
        .first()
    )
    lines = [
        {
            "line_item_id": shopify_gid("LineItem", sl.order_line.external_line_id)
            if sl.order_line.external_line_id
            else "",
            "sku": sl.order_line.sku,
            "quantity": sl.quantity,
        }
        for sl in shipment.lines.select_related("order_line")
    ]
    delivery_enqueue(
        target=plan.target,
        topic=FULFILLMENT,
        payload={
            "order_id": shopify_gid("Order", order.external_id),
            "order_number": order.number,
            "shipment_id": shipment.pk,
            "shipment_number": shipment.number,
            "location_id": mapping.location_gid if mapping else "",
            "lines": lines,
            "tracking": _tracking_info(shipment),
        },
        reference=order.number,
        ordering_key=f"order:{order.number}",
    )


def _fulfillment_orders(client: ShopifyClient, order_id: str) -> tuple[list, list]:
    """The order's fulfilments and all its fulfillment orders (paged; cursors are opaque)."""
    fulfillments, nodes, after = None, [], None
    while True:
        data = client.execute(ORDER_FULFILLMENT_ORDERS, {"id": order_id, "after": after}, cost=300)
        order = data.get("order")
        if not isinstance(order, dict):
            raise DeliveryFailed(f"Shopify has no order {order_id}.")
        if fulfillments is None:
            fulfillments = order.get("fulfillments") or []
        page = order.get("fulfillmentOrders") or {}
        nodes.extend(page.get("nodes") or [])
        info = page.get("pageInfo") or {}
        if not info.get("hasNextPage") or not info.get("endCursor"):
            return fulfillments, nodes
        after = info["endCursor"]


def _line_items_by_fulfillment_order(payload: dict, nodes: list) -> list[dict]:
    """Our shipment's lines as Shopify's fulfillment order line items: open fulfillment orders
    at the mapped location (any location when none is mapped) that we may fulfil, matched by
    the line item ids. Raises DeliveryFailed naming what Shopify can't take."""
    location = payload["location_id"]
    open_orders = [
        node
        for node in nodes
        if node.get("status") in ("OPEN", "IN_PROGRESS")
        and (
            not location or ((node.get("assignedLocation") or {}).get("location") or {}).get("id") == location
        )
        and any(a.get("action") == "CREATE_FULFILLMENT" for a in node.get("supportedActions") or [])
    ]
    remaining = [
        [
            node["id"],
            item["id"],
            (item.get("lineItem") or {}).get("id"),
            int(item.get("remainingQuantity") or 0),
        ]
        for node in open_orders
        for item in (node.get("lineItems") or {}).get("nodes") or []
    ]
    chosen: dict[str, dict[str, int]] = {}
    for line in payload["lines"]:
        if not line["line_item_id"]:
            raise DeliveryFailed(
                f"Order {payload['order_number']} has no Shopify line item id for {line['sku']} (captured "
                "before we kept them): mark this shipment fulfilled in Shopify by hand."
            )
        wanted = line["quantity"]
        for entry in remaining:
            if entry[2] != line["line_item_id"] or entry[3] <= 0 or wanted == 0:
                continue
            take = min(entry[3], wanted)
            entry[3] -= take
            wanted -= take
            chosen.setdefault(entry[0], {})
            chosen[entry[0]][entry[1]] = chosen[entry[0]].get(entry[1], 0) + take
        if wanted:
            where = f" at {location}" if location else ""
            raise DeliveryFailed(
                f"Shopify has no open fulfillment order{where} that we may fulfil with {wanted} more "
                f"× {line['sku']} ({line['line_item_id']}) of order {payload['order_number']}."
            )
    return [
        {
            "fulfillmentOrderId": fo_id,
            "fulfillmentOrderLineItems": [{"id": item_id, "quantity": qty} for item_id, qty in items.items()],
        }
        for fo_id, items in chosen.items()
    ]


def _remember_fulfillment(payload: dict, channel_id: int, fulfillment_id: str) -> None:
    RemoteFulfillment.objects.update_or_create(
        shipment_id=payload["shipment_id"],
        defaults={
            "channel_id": channel_id,
            "remote_id": fulfillment_id,
            "tracking_number": payload["tracking"]["number"],
        },
    )


def shopify_fulfillment_send(delivery, http) -> dict:
    payload = delivery.payload
    connection = _connection(delivery)
    client = ShopifyClient(connection, http)
    fulfillments, nodes = _fulfillment_orders(client, payload["order_id"])
    number = payload["tracking"]["number"]
    for fulfillment in fulfillments:
        numbers = {t.get("number") for t in fulfillment.get("trackingInfo") or []}
        if number in numbers and fulfillment.get("status") not in ("CANCELLED", "ERROR", "FAILURE"):
            # An earlier attempt made it (its answer was lost): adopt it, don't make a second.
            _remember_fulfillment(payload, connection.channel_id, fulfillment["id"])
            return {"fulfillment_id": fulfillment["id"], "adopted": True}
    result = client.mutate(
        FULFILLMENT_CREATE,
        {
            "fulfillment": {
                "lineItemsByFulfillmentOrder": _line_items_by_fulfillment_order(payload, nodes),
                "trackingInfo": payload["tracking"],
                "notifyCustomer": connection.notify_customer,
            }
        },
        name="fulfillmentCreate",
    )
    fulfillment = result.get("fulfillment") or {}
    if not fulfillment.get("id"):
        raise DeliveryFailed("Shopify's fulfillmentCreate answered without a fulfilment id.")
    _remember_fulfillment(payload, connection.channel_id, fulfillment["id"])
    return {"fulfillment_id": fulfillment["id"], "status": fulfillment.get("status", "")}


# --- tracking corrections -------------------------------------------------------------------------
def shopify_tracking_enqueue(*, plan: ChannelPlan, shipment, order, previous: str) -> None:
    """Owe Shopify a shipment's corrected tracking number (after its fulfilment, in order)."""
    delivery_enqueue(
        target=plan.target,
        topic=TRACKING,
        payload={
            "order_number": order.number,
            "shipment_id": shipment.pk,
            "shipment_number": shipment.number,
            "previous": previous,
            "tracking": _tracking_info(shipment),
        },
        reference=order.number,
        ordering_key=f"order:{order.number}",
    )


def shopify_tracking_send(delivery, http) -> dict:
    payload = delivery.payload
    connection = _connection(delivery)
    remote = RemoteFulfillment.objects.filter(shipment_id=payload["shipment_id"]).first()
    if remote is None:
        raise DeliveryFailed(
            f"Shopify has no fulfilment of {payload['shipment_number']} that we know of: its tracking "
            "can't be updated (was the fulfilment delivery given up?)."
        )
    result = ShopifyClient(connection, http).mutate(
        TRACKING_UPDATE,
        {
            "fulfillmentId": remote.remote_id,
            "trackingInfoInput": payload["tracking"],
            "notifyCustomer": connection.notify_customer,
        },
        name="fulfillmentTrackingInfoUpdate",
    )
    remote.tracking_number = payload["tracking"]["number"]
    remote.save(update_fields=["tracking_number", "updated_at"])
    return {"fulfillment_id": (result.get("fulfillment") or {}).get("id", remote.remote_id)}


# --- cancellations -----------------------------------------------------------------------------------
def shopify_cancel_enqueue(*, plan: ChannelPlan, order, reason: str) -> None:
    """Owe Shopify the cancellation of an order that came from it."""
    delivery_enqueue(
        target=plan.target,
        topic=CANCEL,
        payload={
            "order_id": shopify_gid("Order", order.external_id),
            "order_number": order.number,
            "staff_note": f"Cancelled in the OMS ({order.number}): {reason}"[:255],
        },
        reference=order.number,
        ordering_key=f"order:{order.number}",
    )


def shopify_cancel_send(delivery, http) -> dict:
    payload = delivery.payload
    connection = _connection(delivery)
    client = ShopifyClient(connection, http)
    order = client.execute(ORDER_CANCELLED, {"id": payload["order_id"]}, cost=1).get("order")
    if not isinstance(order, dict):
        raise DeliveryFailed(f"Shopify has no order {payload['order_id']}.")
    if order.get("cancelledAt"):
        return {"already_cancelled_at": order["cancelledAt"]}
    result = client.mutate(
        ORDER_CANCEL,
        {
            "orderId": payload["order_id"],
            "notifyCustomer": connection.notify_customer,
            "refundMethod": {"originalPaymentMethodsRefund": connection.cancel_refund},
            "restock": connection.cancel_restock,
            "reason": "OTHER",
            "staffNote": payload["staff_note"],
        },
        name="orderCancel",
    )
    job = result.get("job") or {}
    return {"job_id": job.get("id", ""), "done": bool(job.get("done"))}


# --- stock levels ------------------------------------------------------------------------------------
def _inventory_item_id(client: ShopifyClient, channel_id: int, product_id: int, sku: str) -> str:
    """Shopify's inventory item for our SKU: remembered on the listing, looked up once."""
    listing = stock_listing_remote(channel_id=channel_id, product_id=product_id)
    if listing is not None and listing.remote_id:
        return listing.remote_id
    escaped = sku.replace("\\", "\\\\").replace('"', '\\"')
    data = client.execute(VARIANT_BY_SKU, {"query": f'sku:"{escaped}"'}, cost=10)
    for node in (data.get("productVariants") or {}).get("nodes") or []:
        item = node.get("inventoryItem") or {}
        if node.get("sku") == sku and item.get("id"):
            stock_listing_remember(channel_id=channel_id, product_id=product_id, remote_id=item["id"])
            return item["id"]
    return ""


def shopify_stock_send(delivery, http) -> dict:
    payload = delivery.payload
    connection = _connection(delivery)
    now = stock_level_now(channel_id=connection.channel_id, product_id=payload["product_id"])
    if now is None:
        return {"skipped": "The channel takes no stock levels any more."}
    sku, level = now
    client = ShopifyClient(connection, http)
    item_id = _inventory_item_id(client, connection.channel_id, payload["product_id"], sku)
    if not item_id:
        return {"skipped": f"No variant in Shopify has SKU {sku}."}
    result = client.mutate(
        INVENTORY_SET,
        {
            "input": {
                "name": "available",
                "reason": "correction",
                "ignoreCompareQuantity": True,
                "referenceDocumentUri": f"oms://stock-level/{quote(sku, safe='')}",
                "quantities": [
                    {"inventoryItemId": item_id, "locationId": location, "quantity": quantity}
                    for location, quantity in level["locations"].items()
                ],
            }
        },
        name="inventorySetQuantities",
    )
    stock_listing_pushed(channel_id=connection.channel_id, product_id=payload["product_id"], level=level)
    changes = (result.get("inventoryAdjustmentGroup") or {}).get("changes") or []
    return {"inventory_item_id": item_id, "level": level, "changes": len(changes)}


def shopify_stock_read(connection: ShopifyConnection, http, *, locations: set[str]) -> dict[str, int | None]:
    """Every variant's available units over our mapped locations, by SKU (None when it has no
    level at any of them). Remembers the inventory item ids it sees for our SKUs."""
    client = ShopifyClient(connection, http)
    theirs: dict[str, int | None] = {}
    items: dict[str, str] = {}
    after = None
    while True:
        data = client.execute(STOCK_LEVELS, {"after": after}, cost=600)
        page = data.get("productVariants") or {}
        for node in page.get("nodes") or []:
            sku = (node.get("sku") or "").strip()
            item = node.get("inventoryItem") or {}
            if not sku or not item:
                continue
            items[sku] = item.get("id", "")
            found = None
            for level in (item.get("inventoryLevels") or {}).get("nodes") or []:
                if ((level.get("location") or {}).get("id")) in locations:
                    units = sum(int(q.get("quantity") or 0) for q in level.get("quantities") or [])
                    found = (found or 0) + units
            theirs[sku] = found
        info = page.get("pageInfo") or {}
        if not info.get("hasNextPage") or not info.get("endCursor"):
            break
        after = info["endCursor"]
    for product_id, sku in Product.objects.filter(sku__in=list(items)).values_list("pk", "sku"):
        if items[sku]:
            stock_listing_remember(
                channel_id=connection.channel_id, product_id=product_id, remote_id=items[sku]
            )
    return theirs
