"""Customer service edit an order and cancel some of its lines from its admin page: a form page,
a preview of the difference and the money, then the confirmation."""

import itertools
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse

from fulfillment.picking import pick_list_create
from fulfillment.services import order_start_fulfillment
from inventory.models import StockItem
from orders.models import Order, OrderEvent
from orders.services import order_capture
from returns.models import Refund
from tests.conftest import make_order_input
from tests.factories import ProductFactory, UserFactory, stock_put

pytestmark = pytest.mark.django_db
D = Decimal
emails = itertools.count(1)


def staff_in(group_name):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def cs_client(client):
    client.force_login(staff_in("Customer service"))
    return client


@pytest.fixture
def products(warehouse, service_level):
    mug = ProductFactory(sku="MUG", name="Mug", price=D("12.00"))
    lamp = ProductFactory(sku="LAMP", name="Lamp", price=D("40.00"))
    for product in (mug, lamp):
        stock_put(product, warehouse, 10)
    return {"MUG": mug, "LAMP": lamp}


def capture(channel, lines):
    data = make_order_input(lines=lines, email=f"buyer{next(emails)}@example.com")
    return order_capture(channel=channel, data=data)


def edit_url(order, name="edit"):
    return reverse("admin:orders_order_object_action", args=[order.pk, name])


def edit_form(order, *, lines, **fields):
    """The edit page's POST: the order's address and speed as they are, `lines` as
    [(line id or None, product id, quantity, unit price or "")], then `fields`."""
    address = order.shipping_address
    data = {
        "ship_name": address.name,
        "line1": address.line1,
        "city": address.city,
        "region": address.region,
        "postal_code": address.postal_code,
        "country": address.country,
        "shipping_speed": order.shipping_speed,
        "shipping_total": str(order.shipping_total),
        "reason": "Customer called",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": str(order.lines.count()),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for i, (line_id, product_id, quantity, price) in enumerate(lines):
        data |= {
            f"lines-{i}-line": line_id or "",
            f"lines-{i}-product": product_id or "",
            f"lines-{i}-quantity": quantity,
            f"lines-{i}-unit_price": price,
        }
    return {**data, **fields}


def digest_of(page) -> str:
    match = re.search(r'name="confirm" value="([0-9a-f]+)"', page.content.decode())
    assert match, "no confirmation button on the page"
    return match.group(1)


def test_the_order_page_opens_the_edit_page_with_the_lines_and_the_product_search(
    cs_client, channel, products
):
    order = capture(channel, [("MUG", 1, "12.00")])
    change = cs_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert f'<form method="get" action="{edit_url(order)}"' in change
    assert f'<form method="get" action="{edit_url(order, "cancel_lines")}"' in change

    page = cs_client.get(edit_url(order))

    assert page.status_code == 200
    body = page.content.decode()
    assert "1 × MUG · Mug at 12.00" in body
    assert "admin-autocomplete" in body  # the phone-order page's product search
    assert 'name="confirm"' not in body  # nothing to confirm before a preview


def test_the_preview_shows_the_difference_and_the_money_and_the_confirmation_runs_it(
    cs_client, channel, products, django_capture_on_commit_callbacks
):
    order = capture(channel, [("MUG", 1, "12.00")])
    line = order.lines.get()
    data = edit_form(
        order,
        lines=[(line.pk, products["MUG"].pk, 2, "12.00"), (None, products["LAMP"].pk, 1, "")],
        payment_collected="on",
    )

    page = cs_client.post(edit_url(order), data)

    body = page.content.decode()
    assert "Preview — nothing is changed until you confirm" in body
    assert "Mug (MUG): quantity 1 → 2." in body and "Added 1 × Lamp (LAMP) at 40.00." in body
    assert "52.00 USD more, paid with the edit." in body
    order.refresh_from_db()
    assert order.total == D("12.00") and order.lines.count() == 1  # nothing changed yet

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = cs_client.post(edit_url(order), {**data, "confirm": digest_of(page)}, follow=True)

    assert any("changed" in str(m) for m in done.context["messages"])
    order.refresh_from_db()
    assert order.total == D("64.00") and order.status == Order.Status.ALLOCATED
    (event,) = order.events.filter(kind=OrderEvent.Kind.EDITED)
    assert event.message.startswith("Order changed: Customer called")
    assert len(mail.outbox) == 1


def test_a_form_changed_after_its_preview_is_previewed_again_not_run(cs_client, channel, products):
    order = capture(channel, [("MUG", 1, "12.00")])
    line = order.lines.get()
    data = edit_form(order, lines=[(line.pk, products["MUG"].pk, 2, "12.00")], payment_collected="on")
    digest = digest_of(cs_client.post(edit_url(order), data))

    changed = edit_form(order, lines=[(line.pk, products["MUG"].pk, 5, "12.00")], payment_collected="on")
    page = cs_client.post(edit_url(order), {**changed, "confirm": digest})

    assert "quantity 1 → 5" in page.content.decode()
    order.refresh_from_db()
    assert order.lines.get().quantity == 1


def test_an_edit_the_warehouse_has_started_is_refused_on_the_page(cs_client, channel, products, warehouse):
    order = capture(channel, [("MUG", 1, "12.00")])
    order_start_fulfillment(order_id=order.pk)
    pick_list_create(warehouse_id=warehouse.pk)
    line = order.lines.get()

    page = cs_client.post(
        edit_url(order), edit_form(order, lines=[(line.pk, products["MUG"].pk, 3, "12.00")])
    )

    assert page.status_code == 200
    assert "is being picked: its items can&#x27;t change any more." in page.content.decode()


def test_the_edit_page_says_what_is_wrong_with_a_line(cs_client, channel, products):
    order = capture(channel, [("MUG", 1, "12.00")])
    inactive = ProductFactory(sku="OLD", is_active=False)
    line = order.lines.get()

    page = cs_client.post(
        edit_url(order),
        edit_form(order, lines=[(line.pk, products["MUG"].pk, 1, ""), (None, inactive.pk, 1, "")]),
    )

    assert "No active product has the SKU “OLD”." in page.content.decode()


def test_cancel_lines_previews_then_cancels_the_units(cs_client, channel, products):
    order = capture(channel, [("MUG", 3, "12.00"), ("LAMP", 1, "40.00")])
    mug = order.lines.get(sku="MUG")
    url = edit_url(order, "cancel_lines")
    assert f'name="cancel_{mug.pk}"' in cs_client.get(url).content.decode()
    data = {f"cancel_{mug.pk}": "2", f"cancel_{order.lines.get(sku='LAMP').pk}": "0", "reason": "broken"}

    preview = cs_client.post(url, data)
    assert "24.00 USD to pay back. It goes back to the payment" in preview.content.decode()
    cs_client.post(url, {**data, "confirm": digest_of(preview)})

    mug.refresh_from_db()
    assert mug.quantity == 1
    assert StockItem.objects.get(product=products["MUG"]).reserved == 1
    assert Refund.objects.get(order=order).amount == D("24.00")


def test_warehouse_staff_cannot_edit_orders(client, channel, products):
    order = capture(channel, [("MUG", 1, "12.00")])
    client.force_login(staff_in("Warehouse staff"))

    assert client.get(edit_url(order)).status_code == 403
    assert client.get(edit_url(order, "cancel_lines")).status_code == 403
