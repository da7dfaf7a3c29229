"""Idempotency-Key records (intake/idempotency.py): once per (channel, key), replayed for the
same body, a conflict for another; purged daily (`manage.py purge_idempotency_keys`) once older
than OMS_IDEMPOTENCY_KEY_DAYS. The API's use of it (races, a retry after the purge): test_api.py."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from intake.idempotency import IdempotencyConflict, idempotency_records_purge, idempotent_run
from intake.models import IdempotencyRecord, InboundRequest
from orders.models import Order
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


def _record(channel, key: str, *, age: dt.timedelta) -> IdempotencyRecord:
    record = IdempotencyRecord.objects.create(
        channel=channel, key=key, request_hash="0" * 64, status_code=201, order=OrderFactory(channel=channel)
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - age)
    return record


def test_the_daily_purge_deletes_records_older_than_the_setting_and_keeps_the_rest(settings, clock):
    settings.OMS = {**settings.OMS, "IDEMPOTENCY_KEY_DAYS": 3}
    web = ChannelFactory(code="web")
    three_days, minute = dt.timedelta(days=3), dt.timedelta(minutes=1)
    _record(web, "older", age=three_days + minute)
    _record(web, "younger", age=three_days - minute)
    _record(web, "today", age=dt.timedelta(hours=1))
    InboundRequest.objects.create(source=InboundRequest.Source.API, channel=web, delivery_id="older")

    out = io.StringIO()
    call_command("purge_idempotency_keys", stdout=out)

    assert out.getvalue() == "Deleted 1 Idempotency-Key records older than 3 days.\n"
    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True)) == ["today", "younger"]
    assert InboundRequest.objects.filter(delivery_id="older").exists()  # the raw request stays
    assert Order.objects.count() == 3  # and so do the orders the replies named


def test_a_record_is_replayed_for_the_whole_period_and_purged_after_it(settings):
    settings.OMS = {**settings.OMS, "IDEMPOTENCY_KEY_DAYS": 7}
    record = _record(ChannelFactory(code="web"), "k-1", age=dt.timedelta(0))
    record.refresh_from_db()
    period_end = record.created_at + dt.timedelta(days=7)

    assert idempotency_records_purge(now=period_end) == 0
    assert IdempotencyRecord.objects.filter(pk=record.pk).exists()
    assert idempotency_records_purge(now=period_end + dt.timedelta(microseconds=1)) == 1
    assert not IdempotencyRecord.objects.exists()


def test_by_default_a_record_younger_than_a_week_is_kept(clock):
    _record(ChannelFactory(code="web"), "k-1", age=dt.timedelta(days=7) - dt.timedelta(minutes=1))
    out = io.StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert out.getvalue() == "Deleted 0 Idempotency-Key records older than 7 days.\n"
    assert IdempotencyRecord.objects.count() == 1


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
