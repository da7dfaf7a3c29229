"""What we tell a WooCommerce store: tracking notes, completed and cancelled orders, stock.

Each `*_enqueue` runs in the transaction of our change; each `*_send` is the delivery's handler
(see core.outbox). A shipment's customer note is looked for before it is added (by our tracking
number), and a status is set, not toggled, so a retried delivery changes nothing twice.
"""

from core.outbox.errors import DeliveryFailed
from core.outbox.services import delivery_enqueue
from inventory.models import Product
from orders.models import Order

from ..channels import ChannelPlan, connection_for
from ..models import RemoteFulfillment, WooCommerceConnection
from ..stock import stock_level_now, stock_listing_pushed, stock_listing_remember, stock_listing_remote
from .client import WooCommerceClient

SHIPMENT = "woocommerce.shipment"
CANCEL = "woocommerce.cancel"
STOCK = "woocommerce.stock"
PAGE = 100


def _connection(delivery) -> WooCommerceConnection:
    connection = connection_for(int(delivery.target.split(":", 1)[1]))
    if not isinstance(connection, WooCommerceConnection):
        raise DeliveryFailed(f"{delivery.target} has no WooCommerce connection any more: nothing was sent.")
    return connection


def _order_path(payload) -> str:
    order_id = str(payload["order_id"])
    if not order_id.isdigit():
        raise DeliveryFailed(
            f"Order {payload['order_number']} has no WooCommerce order id: nothing was sent."
        )
    return f"/orders/{order_id}"


# --- shipments ------------------------------------------------------------------------------------
def woocommerce_shipment_enqueue(*, plan: ChannelPlan, shipment, order, complete: bool) -> None:
    """Owe the store a customer note with the shipment's carrier and tracking link, and, when
    this shipment completes the order, the order's `completed` status."""
    carrier = shipment.carrier
    delivery_enqueue(
        target=plan.target,
        topic=SHIPMENT,
        payload={
            "order_id": order.external_id,
            "order_number": order.number,
            "shipment_id": shipment.pk,
            "shipment_number": shipment.number,
            "tracking": {
                "number": shipment.tracking_number,
                "carrier": carrier.name if carrier else "",
                "url": shipment.tracking_url,
            },
            "complete": complete,
        },
        reference=order.number,
        ordering_key=f"order:{order.number}",
    )


def woocommerce_note_text(tracking: dict) -> str:
    by = f" with {tracking['carrier']}" if tracking.get("carrier") else ""
    text = f"Your order is on its way{by}. Tracking number: {tracking['number']}."
    if tracking.get("url"):
        text += f" Follow it here: {tracking['url']}"
    return text


def woocommerce_shipment_send(delivery, http) -> dict:
    payload = delivery.payload
    connection = _connection(delivery)
    client = WooCommerceClient(connection, http)
    path = _order_path(payload)
    number = payload["tracking"]["number"]
    notes = client.call("GET", f"{path}/notes", params={"type": "customer"})
    note_id = next(
        (n.get("id") for n in notes if isinstance(n, dict) and number and number in str(n.get("note", ""))),
        None,
    )
    adopted = note_id is not None
    if note_id is None:
        note = client.call(
            "POST",
            f"{path}/notes",
            json_body={"note": woocommerce_note_text(payload["tracking"]), "customer_note": True},
        )
        note_id = note.get("id") if isinstance(note, dict) else None
    RemoteFulfillment.objects.update_or_create(
        shipment_id=payload["shipment_id"],
        defaults={
            "channel_id": connection.channel_id,
            "remote_id": str(note_id or ""),
            "tracking_number": number,
        },
    )
    result = {"note_id": note_id, "note_adopted": adopted}
    if payload.get("complete"):
        order = client.call("PUT", path, json_body={"status": "completed"})
        result["status"] = order.get("status", "") if isinstance(order, dict) else ""
    return result


# --- cancellations --------------------------------------------------------------------------------
def woocommerce_cancel_enqueue(*, plan: ChannelPlan, order: Order) -> None:
    delivery_enqueue(
        target=plan.target,
        topic=CANCEL,
        payload={"order_id": order.external_id, "order_number": order.number},
        reference=order.number,
        ordering_key=f"order:{order.number}",
    )


def woocommerce_cancel_send(delivery, http) -> dict:
    client = WooCommerceClient(_connection(delivery), http)
    order = client.call("PUT", _order_path(delivery.payload), json_body={"status": "cancelled"})
    return {"status": order.get("status", "") if isinstance(order, dict) else ""}


# --- stock levels ----------------------------------------------------------------------------------
def _product_ids(client: WooCommerceClient, channel_id: int, product_id: int, sku: str) -> tuple[str, str]:
    """The store's (product or variation id, parent product id) for our SKU, looked up once."""
    listing = stock_listing_remote(channel_id=channel_id, product_id=product_id)
    if listing is not None and listing.remote_id:
        return listing.remote_id, listing.remote_parent_id
    for found in client.call("GET", "/products", params={"sku": sku}) or []:
        if isinstance(found, dict) and found.get("sku") == sku and found.get("id"):
            parent = str(found.get("parent_id") or "") if found.get("type") == "variation" else ""
            parent = "" if parent == "0" else parent
            stock_listing_remember(
                channel_id=channel_id,
                product_id=product_id,
                remote_id=str(found["id"]),
                remote_parent_id=parent,
            )
            return str(found["id"]), parent
    return "", ""


def woocommerce_stock_send(delivery, http) -> dict:
    payload = delivery.payload
    connection = _connection(delivery)
    now = stock_level_now(channel_id=connection.channel_id, product_id=payload["product_id"])
    if now is None:
        return {"skipped": "The channel takes no stock levels any more."}
    sku, level = now
    client = WooCommerceClient(connection, http)
    remote_id, parent = _product_ids(client, connection.channel_id, payload["product_id"], sku)
    if not remote_id:
        return {"skipped": f"No product in the store has SKU {sku}."}
    path = f"/products/{parent}/variations/batch" if parent else "/products/batch"
    item = {"id": int(remote_id), "manage_stock": True, "stock_quantity": level["available"]}
    answer = client.call("POST", path, json_body={"update": [item]})
    updated = (answer or {}).get("update") or []
    errors = [u["error"] for u in updated if isinstance(u, dict) and u.get("error")]
    if errors or not updated:
        message = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
        raise DeliveryFailed(
            f"WooCommerce refused the stock of {sku}: {message or 'no update in its answer'}"
        )
    stock_listing_pushed(channel_id=connection.channel_id, product_id=payload["product_id"], level=level)
    return {"product_id": remote_id, "parent_id": parent, "stock_quantity": updated[0].get("stock_quantity")}


def woocommerce_stock_read(connection: WooCommerceConnection, http) -> dict[str, int | None]:
    """Every product's and variation's stock in the store, by SKU (None when the store doesn't
    manage its stock). Remembers the ids it sees for our SKUs."""
    client = WooCommerceClient(connection, http)
    theirs: dict[str, int | None] = {}
    ids: dict[str, tuple[str, str]] = {}

    def take(item, parent=""):
        sku = (item.get("sku") or "").strip()
        if sku:
            theirs[sku] = item.get("stock_quantity") if item.get("manage_stock") is True else None
            ids[sku] = (str(item["id"]), parent)

    for product in _pages(client, "/products"):
        if product.get("type") == "variable":
            for variation in _pages(client, f"/products/{product['id']}/variations"):
                take(variation, str(product["id"]))
        else:
            take(product)
    for product_id, sku in Product.objects.filter(sku__in=list(ids)).values_list("pk", "sku"):
        remote_id, parent = ids[sku]
        stock_listing_remember(
            channel_id=connection.channel_id,
            product_id=product_id,
            remote_id=remote_id,
            remote_parent_id=parent,
        )
    return theirs


def _pages(client: WooCommerceClient, path: str):
    page = 1
    while True:
        items = client.call("GET", path, params={"per_page": PAGE, "page": page}) or []
        yield from (i for i in items if isinstance(i, dict))
        if len(items) < PAGE:
            return
        page += 1
