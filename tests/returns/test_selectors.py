"""returns.selectors: a store credit whose balance drifted from what was issued less what was spent,
as check_store_credit reports it (exiting non-zero)."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from returns.models import StoreCredit

from .helpers import pay_with

pytestmark = pytest.mark.django_db

D = Decimal


def test_check_store_credit_reports_a_balance_that_drifted(channel, order_input, credit, capsys):
    pay_with(channel, order_input, credit.code)
    StoreCredit.objects.filter(pk=credit.pk).update(balance=D("40.00"))
    with pytest.raises(CommandError, match="1 store credit discrepanc"):
        call_command("check_store_credit")
    assert (
        f"store credit {credit.code}: balance 40.00 but issued 50.00 less redemptions 25.00 is 25.00"
        in capsys.readouterr().err
    )
