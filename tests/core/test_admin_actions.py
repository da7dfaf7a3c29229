"""core.admin_actions: object actions (buttons with a form each, on their own page), confirmations,
and availability from the state machine. Extensions: test_admin_extensions.py."""

import pytest
from django.urls import reverse

from intake.keys import channel_api_key_create
from intake.models import ChannelApiKey
from inventory.models import InboundReceipt
from inventory.services import ReceiptLineInput, inbound_receipt_create
from orders.models import Order
from orders.services import order_capture
from tests.factories import ChannelFactory, OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db
S = Order.Status


def action_url(model, pk, name):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_object_action", args=[pk, name])


def change_url(model, pk):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# --- forms: typed values, errors shown with what was typed --------------------------------------
def test_an_invalid_action_form_comes_back_with_what_was_typed_and_the_error(
    admin_client, channel, stocked_product, order_input
):
    held = order_capture(
        channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")], payment_status="pending")
    )
    assert held.status == S.ON_HOLD
    response = admin_client.post(
        action_url(Order, held.pk, "payment"),
        {"method": "store_credit", "reference": "SC-TYPO", "status": "x"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Select a valid choice. x is not one of the available choices." in page
    assert 'value="SC-TYPO"' in page and '<option value="store_credit" selected>' in page
    held.refresh_from_db()
    assert (held.payment_method, held.payment_reference) == ("card", "")


def test_typed_values_are_checked_by_the_form_before_the_service_sees_them(admin_client, stocked_product):
    from inventory.models import StockItem

    item = StockItem.objects.get()
    url = action_url(StockItem, item.pk, "count")
    response = admin_client.post(url, {"counted": "-1", "note": "shelf A"})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "counted": ["Ensure this value is greater than or equal to 0."]
    }
    assert 'value="shelf A"' in response.content.decode()
    assert item.movements.count() == 1  # only the stock put there


def test_an_action_page_opened_with_get_changes_nothing(admin_client, channel, stocked_product, order_input):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")]))
    response = admin_client.get(action_url(Order, order.pk, "start_fulfillment"))
    assert response.status_code == 200 and b"Start fulfilment" in response.content
    order.refresh_from_db()
    assert order.status == S.ALLOCATED and not order.shipments.exists()


# --- confirmations ---------------------------------------------------------------------------
@pytest.fixture
def keyed_channel(db):
    channel = ChannelFactory(code="web")
    channel_api_key_create(channel=channel, name="shop backend")
    return channel


def test_rotating_a_key_asks_first_and_runs_only_from_the_confirmation(admin_client, keyed_channel):
    url = action_url(keyed_channel.__class__, keyed_channel.pk, "rotate_key")
    page = admin_client.get(change_url(keyed_channel.__class__, keyed_channel.pk)).content.decode()
    assert f'<form method="get" action="{url}"' in page  # the button only opens the question
    assert f'<form method="post" action="{url}"' not in page

    question = admin_client.get(url)
    assert question.status_code == 200
    assert "Every existing key of this channel stops working now. Continue?" in question.content.decode()
    assert 'name="confirmed" value="yes"' in question.content.decode()

    unasked = admin_client.post(url, {"name": "new backend"})  # as a one-click button would post
    assert unasked.status_code == 200 and "Continue?" in unasked.content.decode()
    assert 'value="new backend"' in unasked.content.decode()  # what was typed stays
    assert ChannelApiKey.objects.filter(revoked_at__isnull=True).count() == 1
    old = ChannelApiKey.objects.get()

    done = admin_client.post(url, {"name": "new backend", "confirmed": "yes"}, follow=True)
    assert any("Keys rotated" in m for m in messages_of(done))
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert ChannelApiKey.objects.get(revoked_at__isnull=True).name == "new backend"


def test_rotate_is_offered_only_while_the_channel_has_a_working_key(admin_client):
    channel = ChannelFactory(code="web")
    page = admin_client.get(change_url(channel.__class__, channel.pk)).content.decode()
    assert "Create API key" in page and "Rotate API key" not in page


def test_closing_a_receipt_asks_first_and_runs_only_from_the_confirmation(admin_client, warehouse):
    product = ProductFactory(sku="A")
    receipt = inbound_receipt_create(
        supplier="Acme", warehouse_id=warehouse.pk, lines=[ReceiptLineInput(product.pk, 5)]
    )
    url = action_url(InboundReceipt, receipt.pk, "close")
    page = admin_client.get(change_url(InboundReceipt, receipt.pk)).content.decode()
    assert f'<form method="get" action="{url}"' in page

    assert "Stop expecting the rest of this receipt?" in admin_client.get(url).content.decode()
    admin_client.post(url, {"note": "supplier gave up"})
    receipt.refresh_from_db()
    assert receipt.is_open

    admin_client.post(url, {"note": "supplier gave up", "confirmed": "yes"})
    receipt.refresh_from_db()
    assert receipt.status == InboundReceipt.Status.CANCELLED


# --- availability from the state machine ------------------------------------------------------
EDITS = {"edit", "cancel_lines"}  # orders.admin.edit, while can_proceed(order.edit)
BUTTONS_BY_STATUS = {
    S.PENDING: {"payment", "hold", "cancel", "note"},
    S.ON_HOLD: {"release", "payment", "hold", "cancel", "note", *EDITS},
    S.VERIFIED: {"allocate", "cancel", "note", *EDITS},
    S.BACKORDERED: {"allocate", "cancel", "note", *EDITS},
    S.ALLOCATED: {"start_fulfillment", "cancel", "note", *EDITS},
    S.PROCESSING: {"pack_and_ship", "note", *EDITS},
    S.PARTIALLY_SHIPPED: {"pack_and_ship", "note", *EDITS},
    S.SHIPPED: {"deliver", "note"},
    S.DELIVERED: {"note"},
    S.CANCELLED: {"note"},
}


@pytest.mark.parametrize("status", list(BUTTONS_BY_STATUS))
def test_the_order_page_offers_the_steps_its_state_machine_allows(admin_client, channel, status):
    order = OrderFactory(channel=channel, status=status)
    response = admin_client.get(change_url(Order, order.pk))
    assert {b.action.name for b in response.context["object_actions"]} == BUTTONS_BY_STATUS[status]


def test_a_transition_condition_that_fails_hides_the_button_and_refuses_it(
    admin_client, channel, stocked_product, order_input, monkeypatch
):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")]))
    cancel = Order.cancel._django_fsm.get_transition(S.ALLOCATED)
    monkeypatch.setattr(cancel, "conditions", [lambda order: False])

    page = admin_client.get(change_url(Order, order.pk))
    assert "cancel" not in {b.action.name for b in page.context["object_actions"]}
    response = admin_client.post(action_url(Order, order.pk, "cancel"), {"reason": "x"}, follow=True)
    assert any("not possible" in m for m in messages_of(response))
    order.refresh_from_db()
    assert order.status == S.ALLOCATED
