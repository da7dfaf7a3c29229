"""What each staff group may do in orders (gathered by core.roles). Orders: customer service work them
(phone orders, holds, edits, addresses, cancellations, notes); warehouse staff read them; managers
read and export them and keep the channels, but change no order."""

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Warehouse staff": [
        "orders.view_order",
        "orders.view_orderline",
        "orders.view_orderevent",
    ],
    "Customer service": [
        "orders.view_channel",
        "orders.view_order",
        "orders.add_order",
        "orders.change_order",
        "orders.view_orderline",
        "orders.view_orderevent",
        "orders.add_orderevent",
        "orders.view_orderhold",
        "orders.change_orderhold",
        "orders.view_address",
        "orders.change_address",
    ],
    "Managers": [
        "orders.view_channel",
        "orders.add_channel",
        "orders.change_channel",
        "orders.view_order",
        "orders.export_order",
        "orders.view_orderline",
        "orders.view_orderevent",
        "orders.view_orderhold",
        "orders.view_address",
    ],
}
