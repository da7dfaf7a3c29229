"""Idempotency-Key records (intake/idempotency.py): once per (channel, key), replayed for the
same body, a conflict for another. The API's use of it: test_api.py and test_races.py."""

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


def test_a_record_written_before_fingerprints_still_replays_the_same_body():
    web = ChannelFactory(code="web")
    order = OrderFactory(channel=web)
    idempotent_run(channel=web, key="k-1", body=b'{"a": 1}', run=lambda: (201, {}, order))  # raw hash

    status, _, record = idempotent_run(
        channel=web, key="k-1", body=b'{"a": 1}', fingerprint="f" * 64, run=pytest.fail
    )

    assert (status, record.order) == (201, order)


def test_a_fingerprint_makes_a_body_written_differently_the_same():
    web = ChannelFactory(code="web")
    order = OrderFactory(channel=web)
    idempotent_run(
        channel=web, key="k-1", body=b'{"a": 1}', fingerprint="f" * 64, run=lambda: (201, {}, order)
    )

    replayed = idempotent_run(
        channel=web, key="k-1", body=b'{ "a" : 1 }', fingerprint="f" * 64, run=pytest.fail
    )
    with pytest.raises(IdempotencyConflict):
        idempotent_run(channel=web, key="k-1", body=b'{"a": 1}', fingerprint="0" * 64, run=pytest.fail)

    assert replayed[2].order == order


def test_the_order_fingerprint_is_the_order_data_not_its_spelling():
    import datetime as dt
    from decimal import Decimal

    from intake.idempotency import order_fingerprint
    from orders.inputs import LineInput, OrderInput

    def data(price, placed_at, qty=1):
        return OrderInput(
            email="ada@example.com",
            lines=[LineInput(sku="MUG", quantity=qty, unit_price=price)],
            placed_at=placed_at,
        )

    utc = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
    naive = dt.datetime(2026, 3, 1, 10)
    paris = dt.datetime(2026, 3, 1, 11, tzinfo=dt.timezone(dt.timedelta(hours=1)))

    assert (
        len(
            {
                order_fingerprint(data(p, t))
                for p in (Decimal("5"), Decimal("5.00"))
                for t in (utc, naive, paris)
            }
        )
        == 1
    )
    assert order_fingerprint(data(Decimal("5"), utc)) != order_fingerprint(data(Decimal("5"), utc, qty=2))
