"""The three staff groups and what each may do in the admin.

Permissions are named by "app_label.codename" strings, so core imports no other app. The groups
are brought up to date after every `migrate`.
"""

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Warehouse staff": [
        "inventory.view_product",
        "inventory.view_warehouse",
        "inventory.view_stockitem",
        "inventory.change_stockitem",
        "inventory.view_stockmovement",
        "inventory.add_stockmovement",
        "inventory.view_reservation",
        "inventory.view_inboundreceipt",
        "inventory.add_inboundreceipt",
        "inventory.change_inboundreceipt",
        "inventory.view_inboundreceiptline",
        "inventory.add_inboundreceiptline",
        "inventory.change_inboundreceiptline",
        "inventory.delete_inboundreceiptline",
        "orders.view_order",
        "orders.view_orderline",
        "orders.view_orderevent",
        "fulfillment.view_carrier",
        "fulfillment.view_servicelevel",
        "fulfillment.view_shipment",
        "fulfillment.change_shipment",
        "fulfillment.view_shipmentline",
        "fulfillment.view_trackingevent",
        "returns.view_returnrequest",
        "returns.change_returnrequest",
        "returns.view_returnline",
        "returns.change_returnline",
    ],
    "Customer service": [
        "inventory.view_product",
        "inventory.view_stockitem",
        "inventory.view_warehouse",
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
        "fulfillment.view_shipment",
        "fulfillment.view_trackingevent",
        "returns.view_returnrequest",
        "returns.add_returnrequest",
        "returns.change_returnrequest",
        "returns.view_returnline",
        "returns.view_refund",
        "returns.add_refund",
        "returns.view_storecredit",
        "returns.add_storecredit",
        "returns.view_storecreditredemption",
        "support.view_thread",
        "support.change_thread",
        "support.view_message",
        "support.add_message",
    ],
    "Managers": [
        "inventory.view_product",
        "inventory.add_product",
        "inventory.change_product",
        "inventory.view_warehouse",
        "inventory.add_warehouse",
        "inventory.change_warehouse",
        "inventory.view_stockitem",
        "inventory.change_stockitem",
        "inventory.view_stockmovement",
        "inventory.view_reservation",
        "inventory.view_inboundreceipt",
        "inventory.add_inboundreceipt",
        "inventory.change_inboundreceipt",
        "inventory.view_inboundreceiptline",
        "inventory.add_inboundreceiptline",
        "inventory.change_inboundreceiptline",
        "inventory.delete_inboundreceiptline",
        "orders.view_channel",
        "orders.add_channel",
        "orders.change_channel",
        "orders.view_order",
        "orders.change_order",
        "orders.export_order",
        "orders.view_orderline",
        "orders.view_orderevent",
        "orders.view_orderhold",
        "fulfillment.view_carrier",
        "fulfillment.add_carrier",
        "fulfillment.change_carrier",
        "fulfillment.view_servicelevel",
        "fulfillment.add_servicelevel",
        "fulfillment.change_servicelevel",
        "fulfillment.view_shipment",
        "fulfillment.view_trackingevent",
        "returns.view_returnrequest",
        "returns.view_returnline",
        "returns.view_refund",
        "returns.view_storecredit",
        "returns.view_storecreditredemption",
        "support.view_thread",
        "support.view_message",
        "reports.export_data",
        "reports.view_dashboard",
        "reports.view_exportlog",
    ],
}


def ensure_staff_groups(sender=None, **kwargs):
    """Create or update the staff groups; unknown permission names are skipped, not fatal."""
    from django.contrib.auth.models import Group, Permission

    for group_name, perm_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = []
        for name in perm_names:
            app_label, codename = name.split(".")
            wanted.append((app_label, codename))
        perms = Permission.objects.filter(
            content_type__app_label__in={a for a, _ in wanted},
            codename__in={c for _, c in wanted},
        ).select_related("content_type")
        found = [p for p in perms if (p.content_type.app_label, p.codename) in set(wanted)]
        group.permissions.set(found)
