"""Shopify orders as they stand after edits and refunds, for updates (connectors/edits.py).

Shopify keeps each line's ordered `quantity` and says what is left in `current_quantity` (REST
2024-01 on; a line removed by an edit stays with 0), and the totals after edits in `current_*`.
`orders/updated` follows every change, `orders/edited` included, with the whole order; the
`orders/edited` body itself (`{"order_edit": ...}`) names only the line ids it touched, so it is
acknowledged and the `orders/updated` delivery that comes with it is applied.
"""

UPDATE_TOPICS = ("orders/updated",)
CURRENT_TOTALS = {
    "total_tax": "current_total_tax",
    "total_discounts": "current_total_discounts",
    "total_price": "current_total_price",
    "subtotal_price": "current_subtotal_price",
}


def shopify_current(order: dict) -> dict:
    """The order with each line at its current quantity (lines with none left dropped) and its
    current totals; payloads older than current_quantity stay as they are."""
    order = dict(order)
    items = order.get("line_items")
    if isinstance(items, list):
        kept = []
        for item in items:
            if isinstance(item, dict) and item.get("current_quantity") is not None:
                if str(item["current_quantity"]).strip() in ("0", "0.0"):
                    continue
                item = {**item, "quantity": item["current_quantity"]}
            kept.append(item)
        order["line_items"] = kept
    for total, current in CURRENT_TOTALS.items():
        if order.get(current) is not None:
            order[total] = order[current]
    return order


def shopify_skipped(*, topic: str) -> str:
    if topic == "orders/edited":
        return (
            "Acknowledged: the orders/updated delivery Shopify sends with every edit carries the "
            "order as edited."
        )
    return ""
