"""reports.admin: the export actions and links every list offers managers (and nobody else), and
the export log nobody edits."""

import pytest
from django.urls import reverse

from reports.models import ExportLog

from .helpers import one_of_everything, read_csv, streamed_text


def test_admin_action_exports_only_the_selected_orders(manager_client, orders):
    evil, shipped, _ = orders
    changelist = reverse("admin:orders_order_changelist")
    page = manager_client.get(changelist)
    actions = [value for value, _ in page.context["action_form"].fields["action"].choices]
    assert {"export_orders_csv", "export_order_lines_csv"} <= set(actions)
    assert reverse("reports:export", args=["orders"]) in page.content.decode()

    response = manager_client.post(
        changelist, {"action": "export_orders_csv", "_selected_action": [evil.pk, shipped.pk]}
    )
    assert sorted(r["number"] for r in read_csv(streamed_text(response))) == sorted(
        [evil.number, shipped.number]
    )
    log = ExportLog.objects.get()
    assert (log.row_count, log.query) == (2, "[2 selected]")


@pytest.mark.parametrize(
    "admin_url, action",
    [
        ("admin:fulfillment_shipment_changelist", "export_shipments_csv"),
        ("admin:fulfillment_trackingevent_changelist", "export_tracking_events_csv"),
        ("admin:returns_returnrequest_changelist", "export_return_lines_csv"),
        ("admin:returns_refund_changelist", "export_refunds_csv"),
        ("admin:inventory_stockitem_changelist", "export_stock_levels_csv"),
        ("admin:inventory_stockmovement_changelist", "export_stock_movements_csv"),
    ],
)
def test_every_list_offers_its_exports_to_managers(manager_client, admin_url, action):
    one_of_everything()
    page = manager_client.get(reverse(admin_url))
    assert page.status_code == 200
    assert action in [v for v, _ in page.context["action_form"].fields["action"].choices]
    kind = action.removeprefix("export_").removesuffix("_csv")
    assert reverse("reports:export", args=[kind]) in page.content.decode()


def test_non_managers_get_no_export(client, clerk, orders):
    client.force_login(clerk)
    changelist = reverse("admin:orders_order_changelist")
    page = client.get(changelist)
    assert page.status_code == 200
    actions = [v for v, _ in page.context["action_form"].fields["action"].choices]
    assert not [a for a in actions if a.startswith("export_")]
    assert reverse("reports:export", args=["orders"]) not in page.content.decode()
    assert client.get(reverse("reports:export", args=["orders"])).status_code == 403
    response = client.post(changelist, {"action": "export_orders_csv", "_selected_action": [orders[0].pk]})
    assert not getattr(response, "streaming", False)
    assert not ExportLog.objects.exists()


def test_managers_read_the_export_log_and_nobody_edits_it(manager_client, client, clerk, orders):
    manager_client.get(reverse("reports:export", args=["orders"]), {"status__exact": "allocated"})
    page = manager_client.get(reverse("admin:reports_exportlog_changelist"))
    assert page.status_code == 200
    assert "status__exact=allocated" in page.content.decode()
    assert not page.context["has_add_permission"]
    log = ExportLog.objects.get()
    assert (
        manager_client.post(
            reverse("admin:reports_exportlog_delete", args=[log.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    client.force_login(clerk)
    assert client.get(reverse("admin:reports_exportlog_changelist")).status_code == 403
