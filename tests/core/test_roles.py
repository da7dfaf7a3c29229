"""Each app declares the permissions its staff groups need (`<app>/roles.py`); core gathers them
and keeps the groups up to date after every migrate.

JOBS is the roles written as the jobs of design.md's "Who uses it": for each group, what it must be
able to do (allowed) and what it must not (refused), with the permission that decides it. Every
permission a group is given must be named here as a job of that group, so a permission added to a
roles.py without a reason fails too. What each permission opens in the admin is walked in
tests/core/test_role_walk.py.
"""

import pytest
from django.contrib.auth.models import Group, Permission

from core.roles import STAFF_GROUPS, ensure_staff_groups, role_permissions
from tests.factories import UserFactory

WAREHOUSE, SERVICE, MANAGERS = STAFF_GROUPS
YES, NO = True, False

# (group, job, permission, allowed)
JOBS = [
    # --- warehouse staff: pick lists, scan-to-pack, ship, receive stock and returns, count stock
    (WAREHOUSE, "read the orders they ship", "orders.view_order", YES),
    (WAREHOUSE, "read the orders they ship", "orders.view_orderline", YES),
    (WAREHOUSE, "read the orders they ship", "orders.view_orderevent", YES),
    (WAREHOUSE, "start fulfilment (creates the shipments)", "fulfillment.add_shipment", YES),
    (WAREHOUSE, "see what is ready to pick", "fulfillment.view_shipment", YES),
    (WAREHOUSE, "see what is ready to pick", "fulfillment.view_shipmentline", YES),
    (WAREHOUSE, "build a pick list", "fulfillment.add_picklist", YES),
    (WAREHOUSE, "print and work pick lists", "fulfillment.view_picklist", YES),
    (WAREHOUSE, "print and work pick lists", "fulfillment.view_picklistline", YES),
    (WAREHOUSE, "pack at the station, ship, mark delivered", "fulfillment.change_shipment", YES),
    (WAREHOUSE, "see carriers and services to ship with", "fulfillment.view_carrier", YES),
    (WAREHOUSE, "see carriers and services to ship with", "fulfillment.view_servicelevel", YES),
    (WAREHOUSE, "follow parcels", "fulfillment.view_trackingevent", YES),
    (WAREHOUSE, "look up products and warehouses", "inventory.view_product", YES),
    (WAREHOUSE, "look up products and warehouses", "inventory.view_warehouse", YES),
    (WAREHOUSE, "count, adjust and transfer stock", "inventory.view_stockitem", YES),
    (WAREHOUSE, "count, adjust and transfer stock", "inventory.change_stockitem", YES),
    (WAREHOUSE, "count, adjust and transfer stock", "inventory.view_stockmovement", YES),
    (WAREHOUSE, "count, adjust and transfer stock", "inventory.add_stockmovement", YES),
    (WAREHOUSE, "see what stock is promised", "inventory.view_reservation", YES),
    (WAREHOUSE, "receive supplier deliveries", "inventory.view_inboundreceipt", YES),
    (WAREHOUSE, "receive supplier deliveries", "inventory.add_inboundreceipt", YES),
    (WAREHOUSE, "receive supplier deliveries", "inventory.change_inboundreceipt", YES),
    (WAREHOUSE, "receive supplier deliveries", "inventory.view_inboundreceiptline", YES),
    (WAREHOUSE, "receive supplier deliveries", "inventory.add_inboundreceiptline", YES),
    (WAREHOUSE, "receive supplier deliveries", "inventory.change_inboundreceiptline", YES),
    (WAREHOUSE, "receive supplier deliveries", "inventory.delete_inboundreceiptline", YES),
    (WAREHOUSE, "receive and inspect return parcels", "returns.view_returnrequest", YES),
    (WAREHOUSE, "receive and inspect return parcels", "returns.view_returnline", YES),
    (WAREHOUSE, "receive and inspect return parcels", "returns.receive_returnrequest", YES),
    (WAREHOUSE, "cancel, hold, release or edit orders", "orders.change_order", NO),
    (WAREHOUSE, "take phone orders", "orders.add_order", NO),
    (WAREHOUSE, "approve or reject returns", "returns.decide_returnrequest", NO),
    (WAREHOUSE, "refund", "returns.resolve_returnrequest", NO),
    (WAREHOUSE, "re-process inbound requests", "intake.change_inboundrequest", NO),
    (WAREHOUSE, "edit products or carriers", "inventory.change_product", NO),
    (WAREHOUSE, "edit products or carriers", "fulfillment.change_carrier", NO),
    (WAREHOUSE, "export", "reports.export_data", NO),
    # --- customer service: holds, unknown SKUs, inbound requests, orders and addresses, messages,
    # returns, cancellations, refunds, failed deliveries
    (SERVICE, "take phone orders", "orders.add_order", YES),
    (SERVICE, "work orders: release holds, cancel, correct payment, notes", "orders.view_order", YES),
    (SERVICE, "work orders: release holds, cancel, correct payment, notes", "orders.change_order", YES),
    (SERVICE, "work orders: release holds, cancel, correct payment, notes", "orders.view_orderline", YES),
    (SERVICE, "work orders: release holds, cancel, correct payment, notes", "orders.view_orderevent", YES),
    (SERVICE, "work orders: release holds, cancel, correct payment, notes", "orders.add_orderevent", YES),
    (SERVICE, "work the holds queue", "orders.view_orderhold", YES),
    (SERVICE, "work the holds queue", "orders.change_orderhold", YES),
    (SERVICE, "correct addresses", "orders.view_address", YES),
    (SERVICE, "correct addresses", "orders.change_address", YES),
    (SERVICE, "see which channel an order came from", "orders.view_channel", YES),
    (SERVICE, "re-process inbound requests", "intake.view_inboundrequest", YES),
    (SERVICE, "re-process inbound requests", "intake.change_inboundrequest", YES),
    (SERVICE, "map unknown SKUs", "intake.view_skumapping", YES),
    (SERVICE, "map unknown SKUs", "intake.add_skumapping", YES),
    (SERVICE, "map unknown SKUs", "intake.change_skumapping", YES),
    (SERVICE, "upload marketplace files and read their reports", "intake.view_importbatch", YES),
    (SERVICE, "upload marketplace files and read their reports", "intake.add_importbatch", YES),
    (SERVICE, "answer customer messages", "support.view_thread", YES),
    (SERVICE, "answer customer messages", "support.change_thread", YES),
    (SERVICE, "answer customer messages", "support.view_message", YES),
    (SERVICE, "answer customer messages", "support.add_message", YES),
    (SERVICE, "approve or reject returns", "returns.view_returnrequest", YES),
    (SERVICE, "approve or reject returns", "returns.view_returnline", YES),
    (SERVICE, "approve or reject returns", "returns.decide_returnrequest", YES),
    (SERVICE, "refund, give store credit, exchange", "returns.resolve_returnrequest", YES),
    (SERVICE, "refund, give store credit, exchange", "returns.view_refund", YES),
    (SERVICE, "refund, give store credit, exchange", "returns.view_storecredit", YES),
    (SERVICE, "refund, give store credit, exchange", "returns.view_storecreditredemption", YES),
    (SERVICE, "follow shipments and tell customers where they are", "fulfillment.view_shipment", YES),
    (SERVICE, "follow shipments and tell customers where they are", "fulfillment.view_shipmentline", YES),
    (SERVICE, "follow shipments and tell customers where they are", "fulfillment.view_trackingevent", YES),
    (SERVICE, "follow shipments and tell customers where they are", "fulfillment.view_carrier", YES),
    (SERVICE, "follow shipments and tell customers where they are", "fulfillment.view_servicelevel", YES),
    (SERVICE, "work the late shipments queue", "fulfillment.view_lateshipment", YES),
    (SERVICE, "tell customers what is in stock", "inventory.view_product", YES),
    (SERVICE, "tell customers what is in stock", "inventory.view_warehouse", YES),
    (SERVICE, "tell customers what is in stock", "inventory.view_stockitem", YES),
    (SERVICE, "watch failed deliveries to channels", "core.view_delivery", YES),
    (SERVICE, "watch failed deliveries to channels", "core.view_deliveryattempt", YES),
    (SERVICE, "send a failed delivery again", "core.change_delivery", YES),
    (SERVICE, "pack or ship", "fulfillment.change_shipment", NO),
    (SERVICE, "build pick lists", "fulfillment.add_picklist", NO),
    (SERVICE, "receive return parcels", "returns.receive_returnrequest", NO),
    (SERVICE, "edit products or carriers", "inventory.change_product", NO),
    (SERVICE, "edit products or carriers", "fulfillment.change_carrier", NO),
    (SERVICE, "edit channels or their API keys", "orders.change_channel", NO),
    (SERVICE, "edit channels or their API keys", "intake.add_channelapikey", NO),
    (SERVICE, "adjust stock", "inventory.change_stockitem", NO),
    (SERVICE, "read the stock ledger", "inventory.view_stockmovement", NO),
    (SERVICE, "export", "reports.export_data", NO),
    # --- managers: read everything, export, KPIs; edit catalogue, channels and carriers
    (MANAGERS, "export CSV", "reports.export_data", YES),
    (MANAGERS, "export CSV", "orders.export_order", YES),
    (MANAGERS, "read the KPI dashboard", "reports.view_dashboard", YES),
    (MANAGERS, "read the export log", "reports.view_exportlog", YES),
    (MANAGERS, "edit the catalogue", "inventory.view_product", YES),
    (MANAGERS, "edit the catalogue", "inventory.add_product", YES),
    (MANAGERS, "edit the catalogue", "inventory.change_product", YES),
    (MANAGERS, "edit warehouses", "inventory.view_warehouse", YES),
    (MANAGERS, "edit warehouses", "inventory.add_warehouse", YES),
    (MANAGERS, "edit warehouses", "inventory.change_warehouse", YES),
    (MANAGERS, "set reorder points, write stock off", "inventory.view_stockitem", YES),
    (MANAGERS, "set reorder points, write stock off", "inventory.change_stockitem", YES),
    (MANAGERS, "order from suppliers (inbound receipts)", "inventory.view_inboundreceipt", YES),
    (MANAGERS, "order from suppliers (inbound receipts)", "inventory.add_inboundreceipt", YES),
    (MANAGERS, "order from suppliers (inbound receipts)", "inventory.change_inboundreceipt", YES),
    (MANAGERS, "order from suppliers (inbound receipts)", "inventory.view_inboundreceiptline", YES),
    (MANAGERS, "order from suppliers (inbound receipts)", "inventory.add_inboundreceiptline", YES),
    (MANAGERS, "order from suppliers (inbound receipts)", "inventory.change_inboundreceiptline", YES),
    (MANAGERS, "order from suppliers (inbound receipts)", "inventory.delete_inboundreceiptline", YES),
    (MANAGERS, "edit channels", "orders.view_channel", YES),
    (MANAGERS, "edit channels", "orders.add_channel", YES),
    (MANAGERS, "edit channels", "orders.change_channel", YES),
    (MANAGERS, "edit channels: API keys", "intake.view_channelapikey", YES),
    (MANAGERS, "edit channels: API keys", "intake.add_channelapikey", YES),
    (MANAGERS, "edit channels: API keys", "intake.change_channelapikey", YES),
    (MANAGERS, "edit channels: SKU mappings", "intake.view_skumapping", YES),
    (MANAGERS, "edit channels: SKU mappings", "intake.add_skumapping", YES),
    (MANAGERS, "edit channels: SKU mappings", "intake.change_skumapping", YES),
    (MANAGERS, "edit carriers", "fulfillment.view_carrier", YES),
    (MANAGERS, "edit carriers", "fulfillment.add_carrier", YES),
    (MANAGERS, "edit carriers", "fulfillment.change_carrier", YES),
    (MANAGERS, "edit carriers", "fulfillment.view_servicelevel", YES),
    (MANAGERS, "edit carriers", "fulfillment.add_servicelevel", YES),
    (MANAGERS, "edit carriers", "fulfillment.change_servicelevel", YES),
    *[
        (MANAGERS, "read everything", permission, YES)
        for permission in [
            "orders.view_order",
            "orders.view_orderline",
            "orders.view_orderevent",
            "orders.view_orderhold",
            "orders.view_address",
            "intake.view_inboundrequest",
            "intake.view_importbatch",
            "fulfillment.view_shipment",
            "fulfillment.view_shipmentline",
            "fulfillment.view_trackingevent",
            "fulfillment.view_lateshipment",
            "fulfillment.view_picklist",
            "fulfillment.view_picklistline",
            "inventory.view_stockmovement",
            "inventory.view_reservation",
            "returns.view_returnrequest",
            "returns.view_returnline",
            "returns.view_refund",
            "returns.view_storecredit",
            "returns.view_storecreditredemption",
            "support.view_thread",
            "support.view_message",
            "core.view_delivery",
            "core.view_deliveryattempt",
        ]
    ],
    (MANAGERS, "change an order (cancel, release, edit)", "orders.change_order", NO),
    (MANAGERS, "take phone orders", "orders.add_order", NO),
    (MANAGERS, "pack or ship", "fulfillment.change_shipment", NO),
    (MANAGERS, "build pick lists", "fulfillment.add_picklist", NO),
    (MANAGERS, "re-process inbound requests", "intake.change_inboundrequest", NO),
    (MANAGERS, "approve returns or refund", "returns.decide_returnrequest", NO),
    (MANAGERS, "approve returns or refund", "returns.resolve_returnrequest", NO),
    (MANAGERS, "answer customers", "support.add_message", NO),
    (MANAGERS, "send deliveries again", "core.change_delivery", NO),
    (MANAGERS, "delete products", "inventory.delete_product", NO),
    # --- labels, boxes and stations (fulfillment.gateway), return labels
    (WAREHOUSE, "choose the box and station they pack with", "fulfillment.view_box", YES),
    (WAREHOUSE, "choose the box and station they pack with", "fulfillment.view_packingstation", YES),
    (WAREHOUSE, "see where parcels ship from", "fulfillment.view_shipfrom", YES),
    (WAREHOUSE, "see and reprint the labels they bought", "fulfillment.view_shippinglabel", YES),
    (WAREHOUSE, "see a return's label when its parcel arrives", "returns.view_returnlabel", YES),
    (SERVICE, "tell a customer about their parcel's label", "fulfillment.view_shippinglabel", YES),
    (SERVICE, "send a customer their return label again", "returns.view_returnlabel", YES),
    (MANAGERS, "read labels and what postage cost", "fulfillment.view_shippinglabel", YES),
    (MANAGERS, "read return labels", "returns.view_returnlabel", YES),
    *[
        (
            MANAGERS,
            "keep the packing set-up: boxes, stations, ship-from addresses",
            f"fulfillment.{action}_{model}",
            YES,
        )
        for model in ("box", "packingstation", "shipfrom")
        for action in ("view", "add", "change")
    ],
    # --- the channels' connections and the event-webhook subscriptions (connectors)
    (SERVICE, "see whether a channel is connected", "connectors.view_shopifyconnection", YES),
    (SERVICE, "see whether a channel is connected", "connectors.view_woocommerceconnection", YES),
    (SERVICE, "connect a channel or change its credentials", "connectors.change_shopifyconnection", NO),
    *[
        (
            MANAGERS,
            "connect channels: credentials, locations, stock buffer",
            f"connectors.{action}_{model}",
            YES,
        )
        for model in ("shopifyconnection", "woocommerceconnection")
        for action in ("view", "add", "change")
    ],
    *[
        (MANAGERS, "map warehouses to the shop's locations", f"connectors.{action}_shopifylocation", YES)
        for action in ("view", "add", "change", "delete")
    ],
    (MANAGERS, "read and correct what each channel was told of stock", "connectors.view_stocklisting", YES),
    (MANAGERS, "read and correct what each channel was told of stock", "connectors.change_stocklisting", YES),
    *[
        (MANAGERS, "keep the event-webhook subscriptions", f"connectors.{action}_subscription", YES)
        for action in ("view", "add", "change", "delete")
    ],
    (WAREHOUSE, "keep the event-webhook subscriptions", "connectors.change_subscription", NO),
]


def _row_id(row) -> str:
    group, job, permission, allowed = row
    return f"{group.split()[0].lower()}-{'may' if allowed else 'may-not'}-{permission}"


@pytest.mark.parametrize("row", JOBS, ids=_row_id)
def test_each_role_has_what_its_jobs_need_and_nothing_it_must_not_do(row):
    group, job, permission, allowed = row
    assert (permission in role_permissions()[group]) is allowed, job


def test_every_permission_a_group_gets_is_one_of_its_jobs():
    """No permission given out without a job for it here."""
    jobs = {(group, permission) for group, _, permission, allowed in JOBS if allowed}
    unexplained = {
        group: sorted(p for p in permissions if (group, p) not in jobs)
        for group, permissions in role_permissions().items()
    }
    assert unexplained == {group: [] for group in STAFF_GROUPS}


@pytest.mark.django_db
def test_a_member_of_each_group_has_exactly_its_permissions():
    Group.objects.all().delete()
    ensure_staff_groups()
    for group, expected in role_permissions().items():
        user = UserFactory()
        user.groups.add(Group.objects.get(name=group))
        assert user.get_all_permissions() == set(expected), group


@pytest.mark.django_db
def test_every_declared_permission_exists():
    """A typo would otherwise be skipped silently, and the group would lack the permission."""
    existing = {
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }
    for group, names in role_permissions().items():
        assert set(names) - existing == set(), group


def test_a_group_name_with_a_typo_is_refused_not_made(monkeypatch):
    import types

    from django.core.exceptions import ImproperlyConfigured

    import core.roles

    typo = types.SimpleNamespace(ROLE_PERMISSIONS={"Warehouse stuff": ["inventory.view_product"]})
    real = core.roles.import_module
    monkeypatch.setattr(
        core.roles, "import_module", lambda name: typo if name == "inventory.roles" else real(name)
    )
    with pytest.raises(ImproperlyConfigured, match="Warehouse stuff"):
        role_permissions()
