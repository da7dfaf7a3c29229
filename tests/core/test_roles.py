"""Each app declares the permissions its staff groups need (`<app>/roles.py`); core gathers them
and keeps the groups up to date after every migrate."""

import pytest
from django.contrib.auth.models import Group, Permission

from core.roles import STAFF_GROUPS, ensure_staff_groups, role_permissions

# The groups' permissions as core/roles.py listed them for every app before each app declared its
# own. The apps of that time must still give exactly these; apps added since (intake) add theirs.
BEFORE_APPS_DECLARED_THEIR_OWN = {
    "Warehouse staff": {
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
    },
    "Customer service": {
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
    },
    "Managers": {
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
    },
}
APPS_THEN = {"inventory", "orders", "fulfillment", "returns", "support", "reports"}
# Models added since, with the permissions their apps declare for them (labels, boxes, stations).
ADDED_SINCE = {
    "Warehouse staff": {
        "fulfillment.view_shippinglabel",
        "fulfillment.view_box",
        "fulfillment.view_packingstation",
        "fulfillment.view_shipfrom",
        "returns.view_returnlabel",
    },
    "Customer service": {"fulfillment.view_shippinglabel", "returns.view_returnlabel"},
    "Managers": {
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
        "returns.view_returnlabel",
    },
}


def _of_apps_then(names) -> set[str]:
    return {name for name in names if name.split(".")[0] in APPS_THEN}


def test_the_gathered_roles_are_the_lists_core_had():
    gathered = role_permissions()
    assert set(gathered) == set(STAFF_GROUPS)
    for group, expected in BEFORE_APPS_DECLARED_THEIR_OWN.items():
        assert _of_apps_then(gathered[group]) == expected | ADDED_SINCE[group], group


@pytest.mark.django_db
def test_each_group_gets_exactly_those_permissions():
    Group.objects.all().delete()
    ensure_staff_groups()
    for group, expected in BEFORE_APPS_DECLARED_THEIR_OWN.items():
        perms = Group.objects.get(name=group).permissions.values_list("content_type__app_label", "codename")
        assert (
            _of_apps_then(f"{app}.{codename}" for app, codename in perms) == expected | ADDED_SINCE[group]
        ), group


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
