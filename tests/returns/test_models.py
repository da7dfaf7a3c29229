"""The ReturnRequest state machine: every allowed and refused transition; the database refuses a
store credit balance above what was issued."""

from decimal import Decimal

import pytest
from django.utils import timezone
from django_fsm import can_proceed

from returns.models import ReturnRequest, StoreCredit

D = Decimal

RS = ReturnRequest.Status


RETURN_ALLOWED = {
    "approve": {RS.REQUESTED: RS.APPROVED},
    "reject": {RS.REQUESTED: RS.REJECTED},
    "mark_in_transit": {RS.APPROVED: RS.IN_TRANSIT},
    "mark_delivered": {RS.APPROVED: RS.DELIVERED, RS.IN_TRANSIT: RS.DELIVERED},
    "receive": {RS.APPROVED: RS.RECEIVED, RS.IN_TRANSIT: RS.RECEIVED, RS.DELIVERED: RS.RECEIVED},
    "inspect": {RS.RECEIVED: RS.INSPECTED},
    "resolve": {RS.INSPECTED: RS.RESOLVED},
    "cancel": {RS.REQUESTED: RS.CANCELLED, RS.APPROVED: RS.CANCELLED},
}


RETURN_KWARGS = {
    "approve": {"at": None},
    "reject": {"note": "no"},
    "receive": {"at": None},
    "resolve": {"at": None},
}


@pytest.mark.parametrize("name", list(RETURN_ALLOWED))
@pytest.mark.parametrize("state", list(RS))
def test_return_transition_table(name, state):
    rr = ReturnRequest()
    rr.__dict__["status"] = state
    method = getattr(rr, name)
    expected = RETURN_ALLOWED[name].get(state)
    assert can_proceed(method) is (expected is not None)
    if expected is not None:
        kwargs = {k: (timezone.now() if v is None else v) for k, v in RETURN_KWARGS.get(name, {}).items()}
        method(**kwargs)
        assert rr.status == expected


@pytest.mark.django_db
def test_database_refuses_a_balance_above_what_was_issued(credit):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        StoreCredit.objects.filter(pk=credit.pk).update(balance=D("50.01"))
