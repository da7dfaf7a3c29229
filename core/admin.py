"""The delivery log in the admin: every message owed to the outside world, what went over the
wire for each attempt (credentials redacted), and “Send again” for dead or paused ones."""

import json

from django.contrib import admin, messages
from django.utils.html import format_html

from .models import Delivery, DeliveryAttempt
from .outbox.services import delivery_resend


class DeliveryAttemptInline(admin.StackedInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ["attempt", "started_at", "duration_ms", "exchange", "error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Request and response")
    def exchange(self, attempt):
        request_headers = "\n".join(f"{k}: {v}" for k, v in attempt.request_headers.items())
        response_headers = "\n".join(f"{k}: {v}" for k, v in attempt.response_headers.items())
        return format_html(
            '<pre class="oms-exchange">{} {}\n{}\n\n{}</pre><pre class="oms-exchange">{}\n{}\n\n{}</pre>',
            attempt.method,
            attempt.url,
            request_headers,
            attempt.request_body,
            attempt.response_status or "(no answer)",
            response_headers,
            attempt.response_body,
        )


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "topic",
        "target_name",
        "reference",
        "status",
        "attempts",
        "next_attempt_at",
        "short_error",
    ]
    list_filter = ["status", "topic"]
    search_fields = ["reference", "target", "target_name", "topic"]
    readonly_fields = [
        "target",
        "target_name",
        "topic",
        "reference",
        "ordering_key",
        "coalesce_key",
        "idempotency_key",
        "status",
        "attempts",
        "next_attempt_at",
        "lease_until",
        "created_at",
        "delivered_at",
        "last_error",
        "payload_pretty",
        "result",
    ]
    fields = readonly_fields
    inlines = [DeliveryAttemptInline]
    actions = ["send_again"]
    list_select_related = False
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Last error")
    def short_error(self, delivery):
        return delivery.last_error[:120]

    @admin.display(description="Payload")
    def payload_pretty(self, delivery):
        return format_html("<pre>{}</pre>", json.dumps(delivery.payload, indent=2, ensure_ascii=False))

    @admin.action(description="Send again", permissions=["change"])
    def send_again(self, request, queryset):
        sent = 0
        for delivery in queryset.filter(status__in=[Delivery.Status.DEAD, Delivery.Status.PAUSED]):
            delivery_resend(delivery_id=delivery.pk)
            sent += 1
        skipped = queryset.count() - sent
        self.message_user(request, f"{sent} deliveries queued to be sent again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} were not dead or paused, so they were left as they were.",
                messages.WARNING,
            )
