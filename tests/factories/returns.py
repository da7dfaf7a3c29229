"""Return requests, their lines and refunds in any state, without running the flows (for tests
that only read them: reports, queues). Store credit for flows: tests/returns/helpers.py."""

from decimal import Decimal

import factory

from returns.models import Refund, ReturnLine, ReturnRequest

from .base import create_with_status
from .orders import OrderFactory, OrderLineFactory


class ReturnRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReturnRequest

    order = factory.SubFactory(OrderFactory)
    reason = ReturnRequest.Reason.DAMAGED

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return create_with_status(model_class, kwargs)


class ReturnLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReturnLine

    return_request = factory.SubFactory(ReturnRequestFactory)
    order_line = factory.SubFactory(OrderLineFactory, quantity_shipped=1)
    quantity = 1


class RefundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Refund

    order = factory.SubFactory(OrderFactory)
    amount = Decimal("10.00")
    currency = "USD"
