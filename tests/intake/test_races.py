"""The same order arriving at the same moment makes one order (PostgreSQL row locks)."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from intake.models import InboundRequest
from inventory.models import StockItem
from orders.models import Order

from .conftest import order_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def post_together(auth, bodies_and_headers, n=10):
    barrier = threading.Barrier(n)
    replies = []

    def worker(body, headers):
        try:
            client = Client()
            barrier.wait()
            response = client.post(
                "/api/v1/orders", json.dumps(body), content_type="application/json", **auth, **headers
            )
            replies.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=bh) for bh in bodies_and_headers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return replies


def test_same_external_id_from_ten_threads_makes_one_order(auth, widgets):
    replies = post_together(auth, [(order_body(), {})] * 10)

    assert sorted(status for status, _ in replies) == [200] * 9 + [201]
    assert len({reply["number"] for _, reply in replies}) == 1
    assert Order.objects.count() == 1
    assert StockItem.objects.get(product__sku="WIDGET-1").reserved == 2


def test_same_idempotency_key_from_ten_threads_makes_one_order(auth, widgets):
    replies = post_together(auth, [(order_body(), {"HTTP_IDEMPOTENCY_KEY": "retry-7"})] * 10)

    assert {status for status, _ in replies} == {201}  # every retry gets the first reply
    assert len({reply["number"] for _, reply in replies}) == 1
    assert Order.objects.count() == 1
    # Every request is written down once: the winner as captured, the others (replayed, or
    # rolled back after losing the race for the key) as duplicates.
    outcomes = sorted(InboundRequest.objects.values_list("outcome", flat=True))
    assert outcomes == ["captured"] + ["duplicate"] * 9


def test_two_bodies_racing_for_one_external_id_make_one_order_and_409_for_the_other(auth, widgets):
    first, second = order_body(), order_body(shipping_speed="overnight")
    replies = post_together(auth, [(first, {}), (second, {})] * 5)

    assert Order.objects.count() == 1
    winners = sorted(status for status, reply in replies if status != 409)
    assert winners == [200] * 4 + [201]  # the winning body: created once, then the same order
    assert [status for status, _ in replies].count(409) == 5  # the other body: refused, naming it
    number = Order.objects.get().number
    assert all(number in reply["detail"] for status, reply in replies if status == 409)
