"""What each staff group may do in fulfillment (gathered by core.roles). Shipping: warehouse staff
pick, pack and ship; customer service follow shipments; managers keep carriers and services."""

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Warehouse staff": [
        "fulfillment.view_carrier",
        "fulfillment.view_servicelevel",
        "fulfillment.view_shipment",
        "fulfillment.change_shipment",
        "fulfillment.view_shipmentline",
        "fulfillment.view_trackingevent",
    ],
    "Customer service": [
        "fulfillment.view_shipment",
        "fulfillment.view_trackingevent",
    ],
    "Managers": [
        "fulfillment.view_carrier",
        "fulfillment.add_carrier",
        "fulfillment.change_carrier",
        "fulfillment.view_servicelevel",
        "fulfillment.add_servicelevel",
        "fulfillment.change_servicelevel",
        "fulfillment.view_shipment",
        "fulfillment.view_trackingevent",
    ],
}
