"""Each channel's allocation strategy picks the warehouse(s) and says why on the timeline."""

import pytest

from fulfillment.services import order_start_fulfillment
from inventory.models import Reservation
from orders.models import Channel, Order, OrderEvent
from orders.services import order_capture
from tests.factories import ChannelFactory, ProductFactory, WarehouseFactory, stock_put

pytestmark = pytest.mark.django_db
Strategy = Channel.AllocationStrategy


@pytest.fixture
def network(db):
    """Three warehouses: a high-priority one in Texas, one in New York, one in Germany."""
    return {
        "TX": WarehouseFactory(code="TX", country="US", region="TX", priority=1),
        "NY": WarehouseFactory(code="NY", country="US", region="NY", priority=2),
        "DE": WarehouseFactory(code="DE", country="DE", region="BE", priority=3),
    }


def reserved_by_warehouse(order):
    rows = Reservation.objects.filter(reference=order.stock_reference, status="active")
    result = {}
    for res in rows.select_related("stock_item__warehouse"):
        code = res.stock_item.warehouse.code
        result[code] = result.get(code, 0) + res.quantity
    return result


def allocation_message(order):
    return order.events.filter(kind=OrderEvent.Kind.ALLOCATED).first().message


def capture(strategy, order_input, lines, **address):
    channel = ChannelFactory(code=strategy, name=strategy, allocation_strategy=strategy)
    # A distinct customer each time, so the duplicate rule never holds one.
    data = order_input(lines=lines, email=f"{Order.objects.count()}@example.com")
    for key, value in address.items():
        setattr(data.shipping_address, key, value)
    return order_capture(channel=channel, data=data)


def test_priority_ships_complete_from_the_highest_priority_warehouse_that_can(network, order_input):
    product = ProductFactory(sku="P")
    stock_put(product, network["TX"], 2)
    stock_put(product, network["NY"], 5)
    stock_put(product, network["DE"], 9)

    order = capture(Strategy.PRIORITY, order_input, [("P", 4, "10.00")])

    assert order.status == Order.Status.ALLOCATED
    assert reserved_by_warehouse(order) == {"NY": 4}
    assert "priority" in allocation_message(order)
    assert "NY" in allocation_message(order)


def test_nearest_prefers_the_customers_region_then_country(network, order_input):
    product = ProductFactory(sku="P")
    for code in ["TX", "NY", "DE"]:
        stock_put(product, network[code], 5)

    in_ny = capture(Strategy.NEAREST, order_input, [("P", 1, "10.00")], region="NY", country="US")
    in_berlin = capture(
        Strategy.NEAREST, order_input, [("P", 1, "10.00")], region="BE", country="DE", postal_code="10115"
    )
    in_ca = capture(Strategy.NEAREST, order_input, [("P", 1, "10.00")], region="CA", postal_code="90001")

    assert reserved_by_warehouse(in_ny) == {"NY": 1}
    assert "same region" in allocation_message(in_ny)
    assert reserved_by_warehouse(in_ca) == {"TX": 1}
    assert "same country" in allocation_message(in_ca)
    assert reserved_by_warehouse(in_berlin) == {"DE": 1}


def test_nearest_falls_back_to_a_farther_warehouse_that_can_fill_it(network, order_input):
    product = ProductFactory(sku="P")
    stock_put(product, network["NY"], 1)
    stock_put(product, network["DE"], 5)

    order = capture(Strategy.NEAREST, order_input, [("P", 3, "10.00")], region="NY")

    assert reserved_by_warehouse(order) == {"DE": 3}
    assert "no warehouse in the customer's country US" in allocation_message(order)


def test_split_ships_complete_when_one_warehouse_can(network, order_input):
    product = ProductFactory(sku="P")
    stock_put(product, network["TX"], 1)
    stock_put(product, network["NY"], 5)

    order = capture(Strategy.SPLIT, order_input, [("P", 3, "10.00")])

    assert reserved_by_warehouse(order) == {"NY": 3}


def test_split_across_warehouses_gives_one_shipment_per_warehouse(network, order_input, service_level):
    p, q = ProductFactory(sku="P"), ProductFactory(sku="Q")
    stock_put(p, network["TX"], 2)
    stock_put(p, network["NY"], 3)
    stock_put(q, network["DE"], 1)

    order = capture(Strategy.SPLIT, order_input, [("P", 5, "10.00"), ("Q", 1, "3.00")])

    assert order.status == Order.Status.ALLOCATED
    assert reserved_by_warehouse(order) == {"TX": 2, "NY": 3, "DE": 1}
    message = allocation_message(order)
    assert "no single warehouse" in message
    assert "one shipment each" in message
    shipments = order_start_fulfillment(order_id=order.pk)
    assert sorted(s.warehouse.code for s in shipments) == ["DE", "NY", "TX"]


def test_priority_backorders_what_only_a_split_could_fill(network, order_input):
    product = ProductFactory(sku="P")
    stock_put(product, network["TX"], 2)
    stock_put(product, network["NY"], 3)

    order = capture(Strategy.PRIORITY, order_input, [("P", 5, "10.00")])

    assert order.status == Order.Status.BACKORDERED
    assert not reserved_by_warehouse(order)
    note = order.events.filter(kind=OrderEvent.Kind.NOTE).last().message
    assert "P: at most 3 in one warehouse, 5 needed" in note


def test_split_backorders_when_even_all_warehouses_fall_short(network, order_input):
    product = ProductFactory(sku="P")
    stock_put(product, network["TX"], 2)
    stock_put(product, network["NY"], 3)

    order = capture(Strategy.SPLIT, order_input, [("P", 6, "10.00")])

    assert order.status == Order.Status.BACKORDERED
    assert not reserved_by_warehouse(order)
    note = order.events.filter(kind=OrderEvent.Kind.NOTE).last().message
    assert "P: 5 available in all warehouses, 6 needed" in note


def test_inactive_warehouses_are_never_chosen(network, order_input):
    product = ProductFactory(sku="P")
    stock_put(product, network["TX"], 5)
    network["TX"].is_active = False
    network["TX"].save()

    order = capture(Strategy.SPLIT, order_input, [("P", 1, "10.00")])

    assert order.status == Order.Status.BACKORDERED
