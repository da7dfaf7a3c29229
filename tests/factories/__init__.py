"""factory-boy factories, one module per app; everything is re-exported here, so
`from tests.factories import X` works for every factory and helper."""

from .fulfillment import CarrierFactory, ServiceLevelFactory, ShipmentFactory, TrackingEventFactory
from .inventory import ProductFactory, WarehouseFactory, stock_item, stock_put
from .orders import AddressFactory, ChannelFactory, OrderFactory, OrderLineFactory, backorder_event
from .returns import RefundFactory, ReturnLineFactory, ReturnRequestFactory
from .support import MessageFactory, ThreadFactory
from .users import UserFactory, staff_in, user_in_group

__all__ = [
    "AddressFactory",
    "CarrierFactory",
    "ChannelFactory",
    "MessageFactory",
    "OrderFactory",
    "OrderLineFactory",
    "ProductFactory",
    "RefundFactory",
    "ReturnLineFactory",
    "ReturnRequestFactory",
    "ServiceLevelFactory",
    "ShipmentFactory",
    "ThreadFactory",
    "TrackingEventFactory",
    "UserFactory",
    "WarehouseFactory",
    "backorder_event",
    "staff_in",
    "stock_item",
    "stock_put",
    "user_in_group",
]
