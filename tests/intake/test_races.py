"""The same order arriving at the same moment makes one order (PostgreSQL row locks)."""

import json
from functools import partial

import pytest
from django.test import Client

from intake.models import InboundRequest
from inventory.models import StockItem
from orders.models import Order
from tests.races import run_together

from .conftest import order_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def post_together(auth, bodies_and_headers):
    """POST every (body, headers) to the API at the same instant; returns (status, reply) each."""

    def post(body, headers):
        response = Client().post(
            "/api/v1/orders", json.dumps(body), content_type="application/json", **auth, **headers
        )
        return response.status_code, response.json()

    return run_together(
        [partial(post, body, headers) for body, headers in bodies_and_headers], raise_errors=True
    )


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
