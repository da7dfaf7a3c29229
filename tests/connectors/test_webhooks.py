"""The order webhook flow Shopify and WooCommerce share (connectors/webhooks.py): every delivery
stored raw and answered after one write, refused without a matching signature, never a 500, a
replayed delivery acknowledged without capturing twice; the intake worker then processes a
burst in arrival order, one bad delivery failing alone."""

import json
from functools import partial

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from intake import work
from intake.models import InboundRequest
from intake.work import intake_work
from orders.models import Order
from tests.intake.conftest import fixture_bytes, fixture_json
from tests.races import run_together

from .conftest import SHOPIFY_URL, WOO_URL, outcome_of, send_shopify, send_woo

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url,sender", [(SHOPIFY_URL, send_shopify), (WOO_URL, send_woo)])
def test_bad_signature_is_401_and_stored(client, shopify, woo, url, sender):
    body = fixture_bytes("shopify/shopify_python_api__order.json")

    response = sender(client, body, secret="wrong")

    assert response.status_code == 401
    assert Order.objects.count() == 0
    inbound = InboundRequest.objects.get()
    assert inbound.outcome == "rejected" and inbound.channel is None
    assert inbound.body == body.decode()


@pytest.mark.parametrize(
    "raw", [b"{", b"[]", b'{"id": 1}', b'{"order": {"id": 1, "line_items": [5]}}', b"\xff"]
)
def test_garbage_with_a_valid_signature_is_stored_as_failed_not_500(client, shopify, raw):
    response = send_shopify(client, raw)

    assert response.status_code == 200
    assert InboundRequest.objects.get().outcome in ("failed", "ignored")


def test_shopify_replayed_delivery_is_acknowledged_not_captured_twice(client, shopify):
    body = fixture_bytes("shopify/shopify_python_api__order.json")
    send_shopify(client, body, delivery="same")
    replay = send_shopify(client, body, delivery="same")
    resent = send_shopify(client, body, delivery="other")  # a new delivery of the same order

    # Answered after one INSERT, no read first: the worker finds the delivery id taken.
    assert replay.json() == {"outcome": "received"}
    assert resent.json() == {"outcome": "received"}
    same = InboundRequest.objects.filter(delivery_id="same").order_by("pk")
    assert [r.outcome for r in same] == ["held", "duplicate"]
    assert same[1].order_id == same[0].order_id
    assert outcome_of("other") == "duplicate"  # processed: the order it names was captured before
    assert Order.objects.count() == 1


def shop_order(order_id: int, **changes) -> bytes:
    """Shopify's published order under another id (its SKUs unknown here: captured on hold)."""
    order = fixture_json("shopify/shopify_python_api__order.json")["order"]
    order.update(id=order_id, **changes)
    return json.dumps(order).encode()


def outcomes() -> dict[str, str]:
    return dict(InboundRequest.objects.order_by("pk").values_list("delivery_id", "outcome"))


def test_a_delivery_is_answered_after_one_write(client, shopify):
    with CaptureQueriesContext(connection) as ctx:
        response = send_shopify(client, shop_order(1001), delivery="one", process=False)

    assert response.status_code == 200 and response.json() == {"outcome": "received"}
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(writes) == 1 and writes[0].startswith('INSERT INTO "orders_inboundrequest"')
    inbound = InboundRequest.objects.get()
    assert (inbound.outcome, inbound.channel, inbound.topic) == ("received", shopify, "orders/create")
    assert not Order.objects.exists()  # the worker captures it


def test_a_burst_is_captured_by_the_worker_in_one_call(client, shopify, monkeypatch):
    sizes = []
    real = work.orders_capture
    monkeypatch.setattr(
        work, "orders_capture", lambda requests: sizes.append(len(requests)) or real(requests)
    )
    for i in range(4):
        send_shopify(client, shop_order(2000 + i), delivery=f"burst-{i}", process=False)

    assert intake_work() == 4

    assert sizes == [4]
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["2000", "2001", "2002", "2003"]
    assert set(outcomes().values()) == {"held"}  # captured; on hold for the SKUs we don't sell


def test_a_batch_looks_its_skus_up_once_however_many_deliveries_it_holds(client, shopify):
    template = fixture_json("shopify/shopify_python_api__order.json")["order"]["line_items"]

    def product_lookups(first_id, count):
        for order_id in range(first_id, first_id + count):
            lines = [{**line, "sku": f"{line['sku']}-{order_id}"} for line in template]  # each its own SKUs
            send_shopify(
                client, shop_order(order_id, line_items=lines), delivery=f"skus-{order_id}", process=False
            )
        with CaptureQueriesContext(connection) as ctx:
            assert intake_work() == count
        return sum('FROM "inventory_product"' in q["sql"] for q in ctx.captured_queries)

    # Their SKUs at once before mapping, then (we sell none of them) the variant ids, then the
    # product ids: a round each, for the whole batch; and the capture's own, once.
    assert product_lookups(2100, 2) == product_lookups(2200, 7) <= 4


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_delivery_is_one_statement_without_begin_or_commit(shopify):
    with CaptureQueriesContext(connection) as ctx:
        response = send_shopify(Client(), shop_order(1002), delivery="solo", process=False)

    assert response.json() == {"outcome": "received"}
    sql = [q["sql"] for q in ctx.captured_queries]
    assert not any(s.startswith(("BEGIN", "COMMIT", "SAVEPOINT")) for s in sql), sql
    assert [s for s in sql if s.startswith("INSERT")] == [s for s in sql if "orders_inboundrequest" in s]
    assert InboundRequest.objects.get(delivery_id="solo").outcome == "received"


def test_a_create_then_its_cancellation_in_one_burst_are_processed_in_arrival_order(client, shopify):
    cancelled = {"cancelled_at": "2008-01-10T11:00:00-05:00", "cancel_reason": "customer"}
    send_shopify(client, shop_order(3000), delivery="create", process=False)
    send_shopify(client, shop_order(3001), delivery="other", process=False)
    send_shopify(
        client, shop_order(3000, **cancelled), delivery="cancel", topic="orders/cancelled", process=False
    )

    intake_work()

    assert Order.objects.get(external_id="3000").status == Order.Status.CANCELLED
    assert Order.objects.get(external_id="3001").status == Order.Status.ON_HOLD
    # The create's request follows its order off hold (cancelled): written before the cancel ran.
    assert outcomes() == {"create": "captured", "other": "held", "cancel": "cancelled"}


def test_a_replayed_delivery_id_is_processed_once(client, shopify):
    first = send_shopify(client, shop_order(4000), delivery="same", process=False)
    while_waiting = send_shopify(client, shop_order(4000), delivery="same", process=False)
    intake_work()
    after = send_shopify(client, shop_order(4000), delivery="same")

    # A copy while the first waits is refused by the pending index at once; a copy after it was
    # processed is queued and found taken by the worker, which doesn't process it again.
    assert [r.json()["outcome"] for r in (first, while_waiting, after)] == [
        "received",
        "duplicate",
        "received",
    ]
    rows = InboundRequest.objects.order_by("pk")
    assert list(rows.values_list("outcome", flat=True)) == ["held", "duplicate", "duplicate"]
    assert Order.objects.count() == 1
    assert {row.order_id for row in rows[1:]} <= {None, Order.objects.get().pk}


def test_a_batch_with_one_unmappable_delivery_captures_the_others(client, shopify):
    send_shopify(client, shop_order(5000), delivery="good-1", process=False)
    send_shopify(client, shop_order(5001, line_items=[]), delivery="bad", process=False)
    send_shopify(client, shop_order(5002), delivery="good-2", process=False)

    intake_work()

    assert outcomes() == {"good-1": "held", "bad": "failed", "good-2": "held"}
    assert "5001 has no line items" in InboundRequest.objects.get(delivery_id="bad").error
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["5000", "5002"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_delivery_from_eight_connections_at_once_is_queued_once(shopify):
    body = shop_order(6000)
    replies = run_together(
        [partial(send_shopify, Client(), body, delivery="racing", process=False) for _ in range(8)],
        raise_errors=True,
    )

    assert sorted(r.json()["outcome"] for r in replies) == ["duplicate"] * 7 + ["received"]
    assert InboundRequest.objects.filter(outcome="received").count() == 1
    intake_work()
    assert Order.objects.count() == 1
