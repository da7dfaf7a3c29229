"""Idempotency-Key records (intake/idempotency.py): once per (channel, key), replayed for the
same body, a conflict for another. The API's use of it (races included): test_api.py."""

import pytest

from intake.idempotency import IdempotencyConflict, idempotent_run
from intake.models import IdempotencyRecord
from tests.factories import ChannelFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_a_key_runs_once_per_channel_and_replays_its_first_reply():
    web, shop = ChannelFactory(code="web"), ChannelFactory(code="shop")
    order = OrderFactory(channel=web)
    runs = []

    def run():
        runs.append(1)
        return 201, {"number": order.number}, order

    first = idempotent_run(channel=web, key="k-1", body=b'{"a": 1}', run=run)
    again = idempotent_run(channel=web, key="k-1", body=b'{"a": 1}', run=run)
    elsewhere = idempotent_run(channel=shop, key="k-1", body=b'{"a": 1}', run=run)

    assert first == (201, {"number": order.number}, None)
    status, reply, record = again
    assert (status, reply, record.order) == (201, {"number": order.number}, order)
    assert elsewhere[2] is None  # another channel's key of the same name is its own
    assert len(runs) == 2 and IdempotencyRecord.objects.count() == 2


def test_a_key_reused_with_another_body_is_a_conflict_and_runs_nothing():
    web = ChannelFactory(code="web")
    order = OrderFactory(channel=web)
    idempotent_run(channel=web, key="k-1", body=b'{"a": 1}', run=lambda: (201, {}, order))

    with pytest.raises(IdempotencyConflict):
        idempotent_run(channel=web, key="k-1", body=b'{"a": 2}', run=pytest.fail)
