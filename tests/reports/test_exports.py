import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.csv_stream import BOM, iso
from fulfillment.models import Shipment
from inventory.models import Product
from orders.models import Order
from reports.exports import EXPORTS
from reports.models import ExportLog
from tests.factories import (
    ChannelFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    RefundFactory,
    ReturnLineFactory,
    ShipmentFactory,
    TrackingEventFactory,
    stock_item,
)

from .conftest import read_csv, streamed_text

MARCH_1 = dt.datetime(2026, 3, 1, 14, 5, tzinfo=dt.UTC)
TRICKY_TEXT = 'Größe 42, "zu klein"\r\nzweite Zeile'
DOCS = Path(__file__).resolve().parents[2] / "docs" / "exports.md"


@pytest.fixture
def orders(db):
    """Three orders: an allocated web order with a formula in the name, a shipped one, a phone one."""
    web = ChannelFactory(code="web", name="Web shop")
    phone = ChannelFactory(code="phone", name="Phone")
    evil = OrderFactory(
        channel=web,
        status=Order.Status.ALLOCATED,
        customer_name='=HYPERLINK("http://evil.example","click")',
        email="eve@example.com",
        placed_at=MARCH_1,
        total=Decimal("42.50"),
        subtotal=Decimal("42.50"),
    )
    shipped = OrderFactory(
        channel=web,
        status=Order.Status.SHIPPED,
        customer_name="Zoë Ünicode",
        placed_at=MARCH_1 + dt.timedelta(days=2),
        shipped_at=MARCH_1 + dt.timedelta(days=3),
        total=Decimal("10.00"),
    )
    by_phone = OrderFactory(
        channel=phone, status=Order.Status.ALLOCATED, placed_at=MARCH_1 + dt.timedelta(days=9)
    )
    return evil, shipped, by_phone


def _export_to_file(tmp_path, *args) -> str:
    out = tmp_path / "out.csv"
    call_command("export", *args, "--output", str(out), stdout=open(tmp_path / "log.txt", "w"))  # noqa: SIM115
    with out.open(encoding="utf-8", newline="") as f:  # keep the CSV's own line endings
        return f.read()


def test_command_writes_documented_headers_iso_dates_and_neutralised_cells(orders, tmp_path):
    evil, shipped, _ = orders
    text = _export_to_file(tmp_path, "orders")
    assert not text.startswith(BOM)
    assert text.splitlines()[0].split(",") == EXPORTS["orders"].headers
    rows = {r["number"]: r for r in read_csv(text)}
    assert len(rows) == 3
    assert rows[evil.number]["customer_name"] == "'" + evil.customer_name
    assert rows[evil.number]["placed_at"] == "2026-03-01T14:05:00+00:00"
    assert rows[evil.number]["total"] == "42.50"
    assert rows[evil.number]["channel"] == "web"
    assert rows[evil.number]["shipped_at"] == ""
    assert rows[shipped.number]["customer_name"] == "Zoë Ünicode"
    assert rows[shipped.number]["shipped_at"] == "2026-03-04T14:05:00+00:00"
    log = ExportLog.objects.get()
    assert (log.kind, log.source, log.row_count, log.user) == ("orders", "command", 3, None)
    assert log.finished_at is not None


def test_command_bom_and_date_range(orders, tmp_path):
    text = _export_to_file(tmp_path, "orders", "--bom", "--since", "2026-03-02", "--until", "2026-03-03")
    assert text.startswith(BOM + "number,")
    assert [r["number"] for r in read_csv(text.removeprefix(BOM))] == [orders[1].number]
    assert ExportLog.objects.get().query == "since=2026-03-02&until=2026-03-03"


def test_command_to_stdout_keeps_the_summary_out_of_the_csv(orders, capsys):
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("export", "orders", stdout=out, stderr=err)
    assert len(read_csv(out.getvalue())) == 3
    assert "Exported 3 orders to stdout." in err.getvalue()
    assert "Exported" not in out.getvalue()


@pytest.mark.parametrize(
    "args, message",
    [
        (["orders", "--since", "yesterday"], "is not a date"),
        (["orders", "--since", "2026-03-05", "--until", "2026-03-01"], "must be before"),
        (["stock_levels", "--since", "2026-03-01"], "snapshot"),
        (["orders", "--user", "nobody"], "No user named"),
    ],
)
def test_command_refuses_bad_input_without_writing_a_log(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("export", *args, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not ExportLog.objects.exists()


def _one_of_everything():
    product = ProductFactory(sku=f"=CMD|' /C calc'!A{Product.objects.count()}", name="Widget")
    line = OrderLineFactory(
        product=product, sku=product.sku, unit_price=Decimal("2.50"), quantity=4, quantity_shipped=4
    )
    shipment = ShipmentFactory(order=line.order, estimated_delivery=dt.date(2026, 3, 5))
    TrackingEventFactory(shipment=shipment, location="-Berlin")
    ReturnLineFactory(
        order_line=line, return_request__order=line.order, return_request__comment=TRICKY_TEXT, quantity=2
    )
    RefundFactory(order=line.order, amount=Decimal("5.00"))
    stock_item(product, on_hand=7, reserved=2, reorder_point=5)


@pytest.mark.parametrize("kind", sorted(EXPORTS))
def test_every_export_streams_its_documented_columns(db, tmp_path, kind):
    _one_of_everything()
    rows = read_csv(_export_to_file(tmp_path, kind))
    assert rows, f"{kind} exported nothing"
    assert list(rows[0]) == EXPORTS[kind].headers
    docs = DOCS.read_text()
    section = docs.split(f"\n## `{kind}`", 1)[1].split("\n## ", 1)[0]
    for header in EXPORTS[kind].headers:
        assert re.search(rf"^\| `{header}` \|", section, re.M), f"{kind}.{header} is not documented"


def test_computed_columns(db, tmp_path):
    _one_of_everything()
    line = read_csv(_export_to_file(tmp_path, "order_lines"))[0]
    assert (line["line_total"], line["sku"]) == ("10.00", "'=CMD|' /C calc'!A0")
    stock_item(ProductFactory(sku="PLENTY"), on_hand=50, reorder_point=5)
    stock, plenty = read_csv(_export_to_file(tmp_path, "stock_levels"))
    assert (plenty["sku"], plenty["available"], plenty["needs_reorder"]) == ("PLENTY", "50", "false")
    assert (stock["on_hand"], stock["reserved"], stock["available"], stock["needs_reorder"]) == (
        "7",
        "2",
        "5",
        "true",
    )
    movement = read_csv(_export_to_file(tmp_path, "stock_movements"))[0]
    assert movement["quantity"] == "7"
    Shipment.objects.update(packed_at=dt.datetime(2026, 3, 4, 10, 0, 0, 500000, tzinfo=dt.UTC))
    shipment = read_csv(_export_to_file(tmp_path, "shipments"))[0]
    saved = Shipment.objects.get()
    assert shipment["created_at"] == iso(saved.created_at.astimezone(dt.UTC))
    assert shipment["packed_at"] == "2026-03-04T10:00:00.5+00:00"
    assert (shipment["estimated_delivery"], shipment["shipped_at"]) == ("2026-03-05", "")
    request = read_csv(_export_to_file(tmp_path, "returns"))[0]
    assert request["comment"] == TRICKY_TEXT  # commas, quotes and line breaks survive the round trip
    event = read_csv(_export_to_file(tmp_path, "tracking_events"))[0]
    assert event["location"] == "'-Berlin"
    assert event["occurred_at"] == "2026-03-02T09:30:00+00:00"


# --- admin ---------------------------------------------------------------------------------------


def test_filtered_list_export_respects_filters_and_search(manager_client, manager, orders):
    evil, shipped, by_phone = orders
    url = reverse("reports:export", args=["orders"])
    response = manager_client.get(url, {"status__exact": "allocated", "channel__id__exact": evil.channel_id})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="orders.csv"' in response["Content-Disposition"]
    assert [r["number"] for r in read_csv(streamed_text(response))] == [evil.number]

    response = manager_client.get(url, {"q": shipped.email, "bom": "1"})
    text = streamed_text(response)
    assert text.startswith(BOM)
    assert [r["number"] for r in read_csv(text.removeprefix(BOM))] == [shipped.number]

    logs = list(ExportLog.objects.order_by("pk"))
    assert [(lg.user, lg.source, lg.row_count) for lg in logs] == [
        (manager, "admin", 1),
        (manager, "admin", 1),
    ]
    assert "status__exact=allocated" in logs[0].query
    assert f"q={shipped.email.replace('@', '%40')}" in logs[1].query


def test_order_lines_of_the_filtered_orders(manager_client, orders):
    evil, shipped, _ = orders
    OrderLineFactory(order=evil, sku="A")
    OrderLineFactory(order=shipped, sku="B")
    response = manager_client.get(reverse("reports:export", args=["order_lines"]), {"q": evil.email})
    assert [(r["order_number"], r["sku"]) for r in read_csv(streamed_text(response))] == [(evil.number, "A")]


def test_bad_filter_is_a_message_not_a_500(manager_client, orders):
    response = manager_client.get(reverse("reports:export", args=["orders"]), {"nonsense__field": "1"})
    assert response.status_code == 302
    assert not ExportLog.objects.exists()


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
    _one_of_everything()
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


def test_export_needs_view_permission_on_the_exported_rows(client, orders):
    """The export permission alone does not open rows the user may not see."""
    from tests.factories import UserFactory

    user = UserFactory(username="exporter")
    user.groups.add(Group.objects.get(name="Customer service"))
    user.user_permissions.add(*Group.objects.get(name="Managers").permissions.filter(codename="export_data"))
    client.force_login(user)
    assert client.get(reverse("reports:export", args=["stock_movements"])).status_code == 403
    assert client.get(reverse("reports:export", args=["orders"])).status_code == 200


def _queries_for_export(client, kind) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("reports:export", args=[kind]))
        streamed_text(response)
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("kind", ["orders", "order_lines", "returns", "return_lines", "stock_levels"])
def test_export_queries_do_not_grow_with_the_data(manager_client, kind):
    _one_of_everything()
    small = _queries_for_export(manager_client, kind)
    for _ in range(6):
        _one_of_everything()
    large = _queries_for_export(manager_client, kind)
    assert len(small) == len(large), "\n".join(large)
    assert len(large) <= 15, "\n".join(large)


def test_export_of_a_list_filtered_through_a_join(manager_client, orders):
    """The hold filter joins holds and adds DISTINCT; the export still works and has no duplicates."""
    from orders.models import OrderHold

    evil = orders[0]
    OrderHold.objects.create(order=evil, reason=OrderHold.Reason.FRAUD, detail="card")
    OrderHold.objects.create(order=evil, reason=OrderHold.Reason.FRAUD, detail="address")
    OrderLineFactory(order=evil)
    url = reverse("reports:export", args=["orders"])
    assert [r["number"] for r in read_csv(streamed_text(manager_client.get(url, {"hold": "fraud"})))] == [
        evil.number
    ]
    url = reverse("reports:export", args=["order_lines"])
    lines = read_csv(streamed_text(manager_client.get(url, {"hold": "fraud"})))
    assert [r["order_number"] for r in lines] == [evil.number]


def test_command_progress_bar_goes_to_stderr(orders, tmp_path):
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command(
        "export", "orders", "-o", str(tmp_path / "o.csv"), "--progress", "always", stdout=out, stderr=err
    )
    assert "100%" in err.getvalue() and "3.00/3.00" in err.getvalue()  # tqdm: rows done/total
    assert "Exported 3 orders to" in out.getvalue()
    assert len(read_csv((tmp_path / "o.csv").read_text(encoding="utf-8"))) == 3


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
