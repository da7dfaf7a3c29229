"""Store credit for tests: issued as the returns desk would, without walking a whole return."""

from decimal import Decimal

from returns.models import StoreCredit


def credit_issue(*, order, amount="50.00", currency="USD", email="ada@example.com") -> StoreCredit:
    return StoreCredit.objects.create(
        email=email,
        order=order,
        currency=currency,
        initial_amount=Decimal(amount),
        balance=Decimal(amount),
    )


def balance_of(credit: StoreCredit) -> Decimal:
    credit.refresh_from_db()
    return credit.balance
