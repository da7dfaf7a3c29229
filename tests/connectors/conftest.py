# The EasyPost tests ship the same kind of shipment the fulfillment tests do.
from tests.fulfillment.conftest import catalog, ready_shipment  # noqa: F401
