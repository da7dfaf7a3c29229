"""Customer messages: one thread per order, written from the order page and answered by
customer service in the admin."""

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel


class Thread(TimeStampedModel):
    class Status(models.TextChoices):
        AWAITING_STAFF = "awaiting_staff", "Waiting for an answer"
        ANSWERED = "answered", "Answered"
        CLOSED = "closed", "Closed"

    class Topic(models.TextChoices):
        DELIVERY = "delivery", "Delivery or tracking"
        DAMAGED = "damaged", "Damaged or wrong item"
        MISSING = "missing", "Something is missing"
        ADDRESS = "address", "Change my address or details"
        RETURN = "return", "Returns and refunds"
        OTHER = "other", "Something else"

    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="support_thread")
    topic = models.CharField(max_length=16, choices=Topic.choices, default=Topic.OTHER)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.AWAITING_STAFF, db_index=True
    )
    waiting_since = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When the oldest unanswered customer message came in."
    )

    class Meta:
        ordering = ["waiting_since", "-updated_at"]

    def __str__(self):
        return f"{self.order} · {self.get_topic_display()}"


class Message(models.Model):
    class Author(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        STAFF = "staff", "Customer service"

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(max_length=10, choices=Author.choices)
    body = models.TextField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.get_author_display()}: {self.body[:60]}"
