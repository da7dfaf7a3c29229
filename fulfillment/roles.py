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
        "fulfillment.view_shippinglabel",
        "fulfillment.view_box",
        "fulfillment.view_packingstation",
        "fulfillment.view_shipfrom",
    ],
    "Customer service": [
        "fulfillment.view_shipment",
        "fulfillment.view_trackingevent",
        "fulfillment.view_shippinglabel",
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
        "fulfillment.view_shippinglabel",
        "fulfillment.view_box",
        "fulfillment.add_box",
        "fulfillment.change_box",
        "fulfillment.view_packingstation",
        "fulfillment.add_packingstation",
        "fulfillment.change_packingstation",
        "fulfillment.view_shipfrom",
        "fulfillment.add_shipfrom",
        "fulfillment.change_shipfrom",
    ],
}
