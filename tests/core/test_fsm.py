"""core.fsm.fsm_transition: refuses what the state machine refuses, changing nothing, and saves
exactly the state, the timestamp and the fields the caller names."""

import pytest
from django.utils import timezone

from core.exceptions import DomainError
from core.fsm import fsm_transition
from orders.models import Order
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db
S = Order.Status


class Refused(DomainError):
    """Refused for the test."""


def test_refusal_raises_the_callers_error_and_changes_nothing():
    order = OrderFactory(status=S.DELIVERED)
    before = Order.objects.values_list("status", "updated_at").get(pk=order.pk)

    with pytest.raises(Refused, match="no cancelling a delivered order"):
        fsm_transition(
            obj=order,
            name="cancel",
            refused=lambda: Refused("no cancelling a delivered order"),
            at=timezone.now(),
            update_fields=("cancelled_at",),
        )

    assert order.status == S.DELIVERED and order.cancelled_at is None
    assert Order.objects.values_list("status", "updated_at").get(pk=order.pk) == before


def test_saves_status_updated_at_and_the_named_fields_only():
    order = OrderFactory(status=S.PENDING, notes="as captured")
    order.notes = "changed in memory, not to be saved"
    moment = timezone.now()

    before, after = fsm_transition(
        obj=order,
        name="cancel",
        refused=lambda: Refused(),
        at=moment,
        reason="customer asked",
        update_fields=("cancelled_at", "cancel_reason"),
    )

    assert (before, after) == (S.PENDING, S.CANCELLED)
    saved = Order.objects.get(pk=order.pk)
    assert (saved.status, saved.cancelled_at, saved.cancel_reason) == (S.CANCELLED, moment, "customer asked")
    assert saved.updated_at >= moment  # auto_now: written with the transition
    assert saved.notes == "as captured"


def test_a_caller_that_saves_later_gets_the_fields_and_nothing_is_written():
    order = OrderFactory(status=S.PENDING)
    gathered = []

    fsm_transition(obj=order, name="hold", refused=lambda: Refused(), save=gathered.extend)

    assert order.status == S.ON_HOLD
    assert gathered == ["status", "updated_at"]
    assert Order.objects.get(pk=order.pk).status == S.PENDING
