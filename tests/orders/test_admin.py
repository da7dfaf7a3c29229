"""The orders admin: staff move an order from capture to delivered with the buttons on its page,
find orders by filter and search, and work the hold queue."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from inventory.models import StockItem
from orders.models import Order
from orders.services import order_capture
from tests.factories import OrderFactory, UserFactory, staff_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="boss", is_superuser=True))
    return client


@pytest.fixture
def cs_client(client):
    user = staff_in("Customer service")
    user.groups.add(Group.objects.get(name="Warehouse staff"))
    client.force_login(user)
    return client


def press(client, obj_url_name, pk, action, **data):
    url = reverse(obj_url_name, args=[pk, action])
    return client.post(url, data, follow=True)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_buttons_take_an_order_from_capture_to_delivered(
    cs_client, channel, stocked_product, service_level, order_input
):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 2, "25.00")]))
    page = cs_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert page.status_code == 200
    assert b"Start fulfilment" in page.content
    assert b"Mark delivered" not in page.content

    response = press(cs_client, "admin:orders_order_object_action", order.pk, "start_fulfillment")
    assert any("1 shipment(s) created" in m for m in messages_of(response))
    response = press(
        cs_client, "admin:orders_order_object_action", order.pk, "pack_and_ship", tracking_number="1ZDEMO"
    )
    assert any("1ZDEMO" in m for m in messages_of(response))
    response = press(cs_client, "admin:orders_order_object_action", order.pk, "deliver")

    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    assert StockItem.objects.get().on_hand == 8
    assert b"Delivered" in response.content


def test_refused_transition_is_a_message_not_a_500(cs_client, channel, stocked_product, order_input):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")]))
    response = press(cs_client, "admin:orders_order_object_action", order.pk, "release")
    assert response.status_code == 200
    assert any("not possible" in m for m in messages_of(response))
    order.refresh_from_db()
    assert order.status == Order.Status.ALLOCATED


def test_stale_button_after_someone_else_cancelled(cs_client, channel, stocked_product, order_input):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")]))
    press(cs_client, "admin:orders_order_object_action", order.pk, "cancel", reason="duplicate")
    response = press(cs_client, "admin:orders_order_object_action", order.pk, "cancel", reason="again")
    assert any("not possible" in m for m in messages_of(response))
    assert StockItem.objects.get().reserved == 0


def test_cancel_requires_a_reason(cs_client, channel, stocked_product, order_input):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")]))
    response = press(cs_client, "admin:orders_order_object_action", order.pk, "cancel", silent="on")
    assert response.status_code == 200  # the cancel form again, as it was typed, with the error
    assert response.context["form"].errors == {"reason": ["This field is required."]}
    assert 'name="silent" id="id_silent" checked' in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.ALLOCATED


def test_warehouse_staff_cannot_cancel(client, channel, stocked_product, order_input):
    client.force_login(staff_in("Warehouse staff"))
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")]))
    page = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert page.status_code == 200
    assert b"Cancel order" not in page.content
    response = client.post(
        reverse("admin:orders_order_object_action", args=[order.pk, "cancel"]), {"reason": "x"}
    )
    assert response.status_code == 403


def test_order_list_filters_and_search(cs_client, channel):
    held = OrderFactory(status=Order.Status.ON_HOLD, customer_name="Grace Hopper", email="grace@example.com")
    OrderFactory(status=Order.Status.DELIVERED, customer_name="Alan Turing")
    url = reverse("admin:orders_order_changelist")
    by_status = cs_client.get(url, {"status__exact": "on_hold"})
    assert list(by_status.context["cl"].result_list) == [held]
    by_email = cs_client.get(url, {"q": "grace@example.com"})
    assert list(by_email.context["cl"].result_list) == [held]
    by_number = cs_client.get(url, {"q": held.number})
    assert list(by_number.context["cl"].result_list) == [held]


def test_release_without_notifying_sends_no_backorder_email(
    cs_client, channel, stocked_product, order_input, django_capture_on_commit_callbacks
):
    from django.core import mail

    order = order_capture(
        channel=channel, data=order_input(lines=[("WIDGET-1", 20, "25.00")], payment_status="pending")
    )
    Order.objects.filter(pk=order.pk).update(payment_status=Order.PaymentStatus.PAID)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        press(cs_client, "admin:orders_order_object_action", order.pk, "release", silent="on")
    order.refresh_from_db()
    assert order.status == Order.Status.BACKORDERED
    assert mail.outbox == []
    assert order.events.filter(message__contains="staff chose not to notify").exists()

    with django_capture_on_commit_callbacks(execute=True):
        press(cs_client, "admin:orders_order_object_action", order.pk, "allocate")
    assert mail.outbox == []  # still short: nothing new to tell


def test_hold_queue_filters_by_reason_and_release_reruns_the_rules(staff_client, channel, order_input):
    from orders.services import order_capture

    unknown = order_capture(channel=channel, data=order_input(lines=[("GHOST-1", 1, "5.00")]))
    unpaid = order_capture(
        channel=channel,
        data=order_input(lines=[("GHOST-2", 1, "5.00")], payment_status="pending", email="bo@example.com"),
    )
    queue = staff_client.get(reverse("admin:orders_orderhold_changelist"), {"reason__exact": "payment"})
    assert unpaid.number in queue.content.decode() and unknown.number not in queue.content.decode()
    by_reason = staff_client.get(reverse("admin:orders_order_changelist"), {"hold": "unknown_sku"})
    assert unknown.number in by_reason.content.decode()

    staff_client.post(reverse("admin:orders_order_object_action", args=[unknown.pk, "release"]))

    unknown.refresh_from_db()
    assert unknown.status == "on_hold"  # the SKU is still unknown: straight back on hold
    assert unknown.holds.filter(released_at__isnull=True, reason="unknown_sku").count() == 1
