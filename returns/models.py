"""Return requests (RMA), their lines, and refunds."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core.models import TimeStampedModel
from fulfillment.models import LabelRecord


def new_return_number() -> str:
    return "RMA-" + "".join(secrets.choice("ABCDEFGHJKMNPQRSTVWXYZ23456789") for _ in range(8))


class ReturnRequest(ConcurrentTransitionMixin, TimeStampedModel):
    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        IN_TRANSIT = "in_transit", "On its way back"
        DELIVERED = "delivered", "Delivered to us"
        REJECTED = "rejected", "Rejected"
        RECEIVED = "received", "Received"
        INSPECTED = "inspected", "Inspected"
        RESOLVED = "resolved", "Resolved"
        CANCELLED = "cancelled", "Cancelled"

    class Reason(models.TextChoices):
        DAMAGED = "damaged", "Arrived damaged"
        WRONG_ITEM = "wrong_item", "Wrong item sent"
        NOT_AS_DESCRIBED = "not_as_described", "Not as described"
        DOES_NOT_FIT = "does_not_fit", "Does not fit"
        CHANGED_MIND = "changed_mind", "No longer needed"
        OTHER = "other", "Other"

    class Resolution(models.TextChoices):
        REFUND = "refund", "Refund"
        EXCHANGE = "exchange", "Exchange"
        STORE_CREDIT = "store_credit", "Store credit"

    number = models.CharField(max_length=20, unique=True, default=new_return_number, editable=False)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="returns")
    status = FSMField(
        max_length=12,
        choices=Status.choices,
        default=Status.REQUESTED,
        protected=True,
        db_index=True,
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    comment = models.TextField(blank=True)
    resolution = models.CharField(max_length=16, choices=Resolution.choices, default=Resolution.REFUND)
    decision_note = models.CharField(max_length=500, blank=True)
    replacement_order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The order that ships the exchanged items.",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        # The desk's steps belong to different people (core.roles): customer service decide and
        # resolve, the warehouse receives the parcel and inspects what came back.
        permissions = [
            ("decide_returnrequest", "Can approve or reject return requests"),
            ("receive_returnrequest", "Can receive and inspect return parcels"),
            ("resolve_returnrequest", "Can resolve returns: refund, store credit or exchange"),
        ]

    def __str__(self):
        return self.number

    @transition(field=status, source=Status.REQUESTED, target=Status.APPROVED)
    def approve(self, *, at, note: str = ""):
        self.approved_at = at
        self.decision_note = note[:500]

    @transition(field=status, source=Status.REQUESTED, target=Status.REJECTED)
    def reject(self, *, note: str):
        self.decision_note = note[:500]

    @transition(field=status, source=Status.APPROVED, target=Status.IN_TRANSIT)
    def mark_in_transit(self):
        pass

    @transition(field=status, source=[Status.APPROVED, Status.IN_TRANSIT], target=Status.DELIVERED)
    def mark_delivered(self):
        pass

    @transition(
        field=status, source=[Status.APPROVED, Status.IN_TRANSIT, Status.DELIVERED], target=Status.RECEIVED
    )
    def receive(self, *, at):
        self.received_at = at

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @transition(field=status, source=Status.RECEIVED, target=Status.INSPECTED)
    def inspect(self):
        pass

    @transition(field=status, source=Status.INSPECTED, target=Status.RESOLVED)
    def resolve(self, *, at):
        self.resolved_at = at

    @transition(field=status, source=[Status.REQUESTED, Status.APPROVED], target=Status.CANCELLED)
    def cancel(self):
        pass


OPEN_STATUSES = [
    ReturnRequest.Status.REQUESTED,
    ReturnRequest.Status.APPROVED,
    ReturnRequest.Status.IN_TRANSIT,
    ReturnRequest.Status.DELIVERED,
    ReturnRequest.Status.RECEIVED,
    ReturnRequest.Status.INSPECTED,
]


class ReturnLine(models.Model):
    class Condition(models.TextChoices):
        RESELLABLE = "resellable", "Resellable"
        DAMAGED = "damaged", "Damaged"
        MISSING = "missing", "Missing"

    class Disposition(models.TextChoices):
        RESTOCK = "restock", "Restock"
        REFURBISH = "refurbish", "Refurbish"
        SCRAP = "scrap", "Scrap"

    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField()
    condition = models.CharField(max_length=12, choices=Condition.choices, blank=True)
    disposition = models.CharField(max_length=12, choices=Disposition.choices, blank=True)
    quantity_restocked = models.PositiveIntegerField(default=0)
    exchange_product = models.ForeignKey(
        "inventory.Product",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="What the customer wants instead, for an exchange (empty: the same item).",
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(quantity_restocked__lte=models.F("quantity")),
                name="return_line_restocked_lte_quantity",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.order_line.sku}"


class Refund(TimeStampedModel):
    class Method(models.TextChoices):
        ORIGINAL_PAYMENT = "original_payment", "Original payment method"
        STORE_CREDIT = "store_credit", "Store credit"

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="refunds")
    return_request = models.ForeignKey(
        ReturnRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=20, choices=Method.choices, default=Method.ORIGINAL_PAYMENT)
    reference = models.CharField(max_length=100, blank=True)
    note = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_gt_0")]

    def __str__(self):
        return f"{self.amount} {self.currency} for {self.order_id}"


def new_store_credit_code() -> str:
    return "SC-" + "".join(secrets.choice("ABCDEFGHJKMNPQRSTVWXYZ23456789") for _ in range(10))


class StoreCredit(TimeStampedModel):
    """A credit the customer spends on a later order, issued instead of a refund."""

    code = models.CharField(max_length=20, unique=True, default=new_store_credit_code, editable=False)
    email = models.EmailField(db_index=True)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="store_credits")
    return_request = models.OneToOneField(
        ReturnRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="store_credit"
    )
    currency = models.CharField(max_length=3)
    initial_amount = models.DecimalField(max_digits=12, decimal_places=2)
    balance = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="What is left to spend; never more than issued."
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(initial_amount__gt=0), name="store_credit_initial_gt_0"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="store_credit_balance_gte_0"),
            models.CheckConstraint(
                condition=Q(balance__lte=models.F("initial_amount")), name="store_credit_balance_lte_initial"
            ),
        ]

    def __str__(self):
        return self.code


class StoreCreditRedemption(models.Model):
    """One movement of a store credit: spent on an order (positive) or given back to it
    (negative: the order was cancelled or its return refunded). A credit's balance is always its
    initial amount less the sum of these."""

    credit = models.ForeignKey(StoreCredit, on_delete=models.PROTECT, related_name="redemptions")
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="store_credit_redemptions"
    )
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Spent on the order; negative when given back."
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="store_credit_redemption_amount_not_0")
        ]

    def __str__(self):
        return f"{self.amount} of {self.credit_id} on {self.order_id}"


class ReturnLabel(LabelRecord):
    """A prepaid return label (the carrier's `is_return` shipment) for an approved return: the
    customer prints it from the return's page or the e-mail. At most one active per return."""

    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="labels")
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["return_request"],
                condition=Q(status__in=["quoted", "buying", "bought"]),
                name="return_label_one_active_per_return",
            ),
            models.CheckConstraint(condition=Q(postage__gte=0), name="return_label_postage_gte_0"),
        ]

    def __str__(self):
        return (
            f"{self.return_request_id}: {self.tracking_number or self.reference or self.pk} ({self.status})"
        )
