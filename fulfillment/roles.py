"""What each staff group may do in fulfillment (gathered by core.roles). Shipping: warehouse staff
start fulfilment (it creates the shipments), build and print pick lists, pack and ship; customer
service follow shipments and the late ones; managers keep carriers and services and read the rest."""

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Warehouse staff": [
        "fulfillment.view_carrier",
        "fulfillment.view_servicelevel",
        "fulfillment.view_shipment",
        "fulfillment.add_shipment",
        "fulfillment.change_shipment",
        "fulfillment.view_shipmentline",
        "fulfillment.view_trackingevent",
        "fulfillment.view_picklist",
        "fulfillment.add_picklist",
        "fulfillment.view_picklistline",
    ],
    "Customer service": [
        "fulfillment.view_carrier",
        "fulfillment.view_servicelevel",
        "fulfillment.view_shipment",
        "fulfillment.view_shipmentline",
        "fulfillment.view_trackingevent",
        "fulfillment.view_lateshipment",
    ],
    "Managers": [
        "fulfillment.view_carrier",
        "fulfillment.add_carrier",
        "fulfillment.change_carrier",
        "fulfillment.view_servicelevel",
        "fulfillment.add_servicelevel",
        "fulfillment.change_servicelevel",
        "fulfillment.view_shipment",
        "fulfillment.view_shipmentline",
        "fulfillment.view_trackingevent",
        "fulfillment.view_lateshipment",
        "fulfillment.view_picklist",
        "fulfillment.view_picklistline",
    ],
}
