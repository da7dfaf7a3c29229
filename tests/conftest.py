import datetime as dt
import os
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import settings as hypothesis_settings

from orders.inputs import AddressInput, LineInput, OrderInput
from tests.factories import user_in_group

from .browser import browser, end_other_database_sessions  # noqa: F401  browser: the fixture
from .factories import ChannelFactory, ProductFactory, ServiceLevelFactory, WarehouseFactory, stock_put

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The property-based tests (test_stock_invariants.py, intake/test_api_schemathesis.py) draw the
# same examples on every run, wherever it runs: Hypothesis's own "ci" profile (derandomized, no
# example database), which it loads by itself only where a CI variable is set. A run's result then
# can't depend on its seed. To hunt for new failures with fresh examples: `pytest
# --hypothesis-profile=default tests/test_stock_invariants.py tests/intake/test_api_schemathesis.py`.
hypothesis_settings.load_profile("ci")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "postgres" in item.keywords and connection.vendor != "postgresql":
            item.add_marker(
                pytest.mark.skip(
                    reason="needs PostgreSQL: SQLite ignores select_for_update, so row locks "
                    "can't be proven here (run with DATABASE_URL=postgres://...)"
                )
            )


@pytest.fixture(scope="session", autouse=True)
def _test_database_droppable(django_db_setup, django_db_blocker):
    """Set up after the test database and torn down before it is dropped: end the sessions the
    live server left open, so the drop succeeds (otherwise: "test_oms is being accessed by
    other users" and a database left behind)."""
    yield
    with django_db_blocker.unblock():
        end_other_database_sessions()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: cached order pages and rate-limit counters are
    keyed by order number, which a rolled-back database can hand out again. One entry is put
    back: the list of active event-webhook subscriptions, as the test database holds it (none),
    so a test counting a change's queries counts what production runs with that list cached
    (connectors/subscribers/selectors.py), not a cold read of it."""
    from django.core.cache import cache

    from connectors.subscribers.selectors import CACHE_KEY, ActiveSubscriptions
    from connectors.webhooks import webhook_channels_forget

    cache.clear()
    webhook_channels_forget()  # channels of a rolled-back test, kept in this process
    cache.set(CACHE_KEY, ActiveSubscriptions(), None)
    yield


class Clock:
    """Stands in for django.utils.timezone.now: a pinned moment that moves one microsecond per
    read (time never stands still, so two writes never share a timestamp, as in production) and
    otherwise only when the test sets `moment`."""

    TICK = dt.timedelta(microseconds=1)

    def __init__(self, moment: dt.datetime):
        self.moment = moment

    def __call__(self) -> dt.datetime:
        moment = self.moment
        self.moment += self.TICK
        return moment.astimezone(dt.UTC)  # as timezone.now() does, whatever zone it was set in


# A Wednesday noon: no day, week, month or carrier-cutoff boundary within hours of it.
PINNED_NOW = dt.datetime(2026, 3, 18, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock(monkeypatch):
    """Pin the time the code reads to PINNED_NOW: timezone.now, and through it localdate(),
    auto_now fields, the services and the factories. A test that reads the time more than once
    (a page cached under today's date, rollups keyed by day, a lead time in whole seconds) then
    can't straddle midnight or a second, however slow the machine or whenever CI runs it.
    `clock.moment = ...` moves it. Signed links and cache expiry keep the real time.time."""
    clock = Clock(PINNED_NOW)
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@pytest.fixture
def channel(db):
    return ChannelFactory()


@pytest.fixture
def warehouse(db):
    return WarehouseFactory(code="MAIN", priority=1)


@pytest.fixture
def service_level(db):
    return ServiceLevelFactory()


@pytest.fixture
def stocked_product(db, warehouse):
    product = ProductFactory(sku="WIDGET-1", name="Blue widget", price=Decimal("25.00"))
    stock_put(product, warehouse, 10, bin_location="A-01-1")
    return product


def make_order_input(*, lines, external_id="", email="ada@example.com", **overrides) -> OrderInput:
    """A clean, paid order to a valid US address, unless overridden."""
    values = {
        "external_id": external_id,
        "email": email,
        "customer_name": "Ada Lovelace",
        "shipping_address": AddressInput(
            name="Ada Lovelace",
            line1="12 Analytical Way",
            city="New York",
            region="NY",
            postal_code="10001",
            country="US",
        ),
        "lines": [LineInput(sku=sku, quantity=qty, unit_price=Decimal(price)) for sku, qty, price in lines],
        "payment_method": "card",
        "payment_status": "paid",
        "payment_amount": None,
    }
    values.update(overrides)
    return OrderInput(**values)


@pytest.fixture
def order_input():
    return make_order_input


@pytest.fixture
def manager(db):
    return user_in_group("manager", "Managers")


@pytest.fixture
def clerk(db):
    """Customer service: may see orders, may not export or see the dashboard."""
    return user_in_group("clerk", "Customer service")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def easypost(httpserver, settings):
    """EasyPost's recorded answers on a local server, and the settings that point the official
    client at it (a test key, as EasyPost's test mode uses)."""
    from .connectors.easypost_replay import EasyPostReplay

    replay = EasyPostReplay(httpserver)
    settings.EASYPOST_API_KEY = "EZTK-test-key"
    settings.EASYPOST_API_BASE = replay.api_base
    settings.EASYPOST_TIMEOUT_SECONDS = 2
    return replay


USPS_ACCOUNT = "ca_b25657e9896e4d63ac8151ac346ac41e"  # the account in EasyPost's cassettes


@pytest.fixture
def usps(db, warehouse):
    """USPS through EasyPost, as EasyPost's recordings rate it: three service levels mapped to
    its service codes, cheaper in our table than the factory's UPS so the rules choose them; and
    the warehouse's ship-from address."""
    from fulfillment.models import Carrier, ServiceLevel, ShipFrom

    carrier = Carrier.objects.create(
        code="usps", name="USPS", gateway="easypost", gateway_account_id=USPS_ACCOUNT, gateway_carrier="USPS"
    )
    levels = {}
    for code, name, speed, days in [
        ("GroundAdvantage", "Ground Advantage", "standard", 3),
        ("Priority", "Priority", "express", 2),
        ("Express", "Priority Express", "overnight", 1),
    ]:
        levels[code] = ServiceLevel.objects.create(
            carrier=carrier,
            code=code.lower(),
            name=name,
            speed=speed,
            transit_days=days,
            price_per_parcel=Decimal("1.00"),
            price_per_kg=Decimal("0"),
            gateway_service=code,
        )
    ShipFrom.objects.create(
        warehouse=warehouse,
        name="OMS Warehouse",
        line1="388 Townsend St",
        line2="Apt 20",
        city="San Francisco",
        region="CA",
        postal_code="94107",
        country="US",
    )
    return levels
