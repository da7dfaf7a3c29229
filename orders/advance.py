"""The step after capture and after a released hold: check the order, then hold or go on.

Verification rules and payment collection run; an order with findings is held with every reason,
a clean one is verified and allocated (orders.allocation). Capture and hold release both end here.
"""

from django.utils import timezone

from inventory.services import StockBatch

from .allocation import order_allocate
from .events import OrderWrites, order_transition
from .models import Order, OrderEvent, OrderHold
from .payments import order_payment_collect
from .verification import DuplicateIndex, order_run_verification

Kind = OrderEvent.Kind


def order_check_and_advance(
    *,
    order: Order,
    actor,
    extra_holds=(),
    lines=None,
    new: bool = False,
    notify: bool = True,
    writes: OrderWrites | None = None,
    duplicates: DuplicateIndex | None = None,
    stock: StockBatch | None = None,
) -> None:
    """Run verification; hold with every reason, or verify and allocate. Caller holds the lock.

    `lines` (with their products) and `new` (no holds yet) spare the reads when the caller has
    just created the order; `writes` gathers the order's writes for the caller to flush.
    `notify=False` (staff's choice) sends no backorder e-mail. A batch capture passes what it read
    and locked once for the whole batch: `duplicates` (verification.duplicate_index_build) and
    `stock` (inventory's StockBatch), and holds wait in `writes` too.
    """
    payment_problems = order_payment_collect(order=order, actor=actor, writes=writes)
    found = order_run_verification(order, lines=lines, new=new, duplicates=duplicates)
    findings = [(f.reason, f.detail) for f in found]
    suggestions = {(f.reason, f.detail): f.suggestion for f in found if f.suggestion}
    if payment_problems:
        # The collector's reason says more than "payment is pending" would.
        findings = [f for f in findings if f[0] != OrderHold.Reason.PAYMENT] + payment_problems
    findings.extend(extra_holds)
    if findings:
        holds = [
            OrderHold(
                order=order, reason=reason, detail=detail[:500], suggestion=suggestions.get((reason, detail))
            )
            for reason, detail in findings
        ]
        if writes is not None:
            writes.holds.extend(holds)
        else:
            OrderHold.objects.bulk_create(holds)
        order_transition(
            order=order,
            name="hold",
            kind=Kind.HELD,
            actor=actor,
            message="; ".join(f"{OrderHold.Reason(reason).label}: {detail}" for reason, detail in findings),
            writes=writes,
        )
        return
    order_transition(
        order=order,
        name="verify",
        kind=Kind.VERIFIED,
        actor=actor,
        at=timezone.now(),
        update_fields=("verified_at",),
        message="Every verification rule passed.",
        writes=writes,
    )
    order_allocate(order=order, actor=actor, lines=lines, notify=notify, writes=writes, stock=stock)
