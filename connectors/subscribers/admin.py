"""Subscriptions in the admin: add one (its secret is shown once), edit its URL and event types,
rotate its secret, send it a test event, switch it on again after it was switched off.

A new secret is shown on a page of its own, in the response to the request that made it: never
stored in a message, a session or a cookie, and never shown again (only its last four
characters). Writes go through services.py; admin actions are not wrapped in a transaction, so
each subscription succeeds or fails on its own.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from .models import Subscription
from .services import (
    SubscriptionSwitchedOff,
    subscription_create,
    subscription_secret_rotate,
    subscription_switch_on,
    subscription_test_send,
    subscription_update,
)
from .signing import secret_hint

SECRET_TEMPLATE = "admin/connectors/subscription/secret.html"


class SubscriptionForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        choices=Subscription.EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Each is documented, with its JSON Schema, in docs/webhooks.md and the API's "
        "OpenAPI document (/api/v1/openapi.json, “webhooks”).",
    )

    class Meta:
        model = Subscription
        fields = ["name", "url", "owner_email", "is_active", "event_types"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    view_on_site = False
    list_display = ["name", "url", "is_active", "event_count", "owner_email", "last_delivered_at", "health"]
    list_filter = ["is_active"]
    search_fields = ["name", "url", "owner_email"]
    actions = ["rotate_secret", "send_test_event", "switch_on"]
    readonly_fields = [
        "secret_shown",
        "previous_secret_until",
        "health",
        "last_delivered_at",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "deliveries",
    ]

    def get_fieldsets(self, request, obj=None):
        main = (None, {"fields": ["name", "url", "owner_email", "is_active", "event_types"]})
        if obj is None:
            return [main]
        return [
            main,
            (
                "Signing",
                {
                    "fields": ["secret_shown", "previous_secret_until"],
                    "description": "Deliveries are signed the Standard Webhooks way. The secret was "
                    "shown once; “Rotate secret” (list of subscriptions) makes a new one, and the "
                    "old one keeps signing beside it for "
                    f"{settings.OMS['SUBSCRIPTION_SECRET_OVERLAP_HOURS']:g} hours.",
                },
            ),
            (
                "Health",
                {
                    "fields": [
                        "health",
                        "last_delivered_at",
                        "failing_since",
                        "disabled_at",
                        "disabled_reason",
                        "deliveries",
                    ]
                },
            ),
        ]

    @admin.display(description="Events")
    def event_count(self, subscription):
        return len(subscription.event_types)

    @admin.display(description="Secret")
    def secret_shown(self, subscription):
        return secret_hint(subscription.secret)

    @admin.display(description="Previous secret signs until")
    def previous_secret_until(self, subscription):
        return subscription.previous_secret_expires_at or "—"

    @admin.display(description="Health")
    def health(self, subscription):
        if not subscription.is_active:
            return f"Switched off: {subscription.disabled_reason}" if subscription.disabled_reason else "Off"
        if subscription.failing_since:
            return f"Failing since {subscription.failing_since:%Y-%m-%d %H:%M}"
        return "OK"

    @admin.display(description="Deliveries")
    def deliveries(self, subscription):
        url = reverse("admin:core_delivery_changelist") + f"?target={subscription.target}"
        return format_html('<a href="{}">Its deliveries (admin › Deliveries)</a>', url)

    # --- saving through the services ---------------------------------------------------------
    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {
            "name": data["name"],
            "url": data["url"],
            "event_types": data["event_types"],
            "owner_email": data["owner_email"],
            "is_active": data["is_active"],
        }
        if change:
            subscription_update(subscription_id=obj.pk, actor=request.user, **fields)
            return
        created, secret = subscription_create(**fields)
        obj.pk, obj.secret, obj.created_at = created.pk, created.secret, created.created_at
        obj._state.adding = False
        request.subscription_secrets = [(created, secret)]

    def response_add(self, request, obj, post_url_continue=None):
        shown = getattr(request, "subscription_secrets", None)
        if shown:
            return self._secrets_page(request, shown, title="Subscription added", rotated=False)
        return super().response_add(request, obj, post_url_continue)

    def _secrets_page(self, request, shown, *, title: str, rotated: bool):
        """The page that shows new secrets, once: rendered in the response to the request that
        made them."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "shown": [(s, secret, s.get_absolute_url()) for s, secret in shown],
            "overlap_hours": settings.OMS["SUBSCRIPTION_SECRET_OVERLAP_HOURS"],
            "rotated": rotated,
        }
        response = TemplateResponse(request, SECRET_TEMPLATE, context)
        response["Cache-Control"] = "no-store"
        return response

    # --- actions ----------------------------------------------------------------------------
    @admin.action(
        permissions=["change"], description="Rotate secret (the old one signs beside the new one for a while)"
    )
    def rotate_secret(self, request, queryset):
        shown = [
            subscription_secret_rotate(subscription_id=pk) for pk in queryset.values_list("pk", flat=True)
        ]
        return self._secrets_page(request, shown, title="New secrets", rotated=True)

    @admin.action(permissions=["change"], description="Send a test event")
    def send_test_event(self, request, queryset):
        for subscription in queryset:
            try:
                delivery = subscription_test_send(subscription_id=subscription.pk)
            except SubscriptionSwitchedOff as exc:
                self.message_user(request, str(exc), messages.WARNING)
                continue
            url = reverse("admin:core_delivery_change", args=[delivery.pk])
            self.message_user(
                request,
                format_html(
                    'Test event to “{}” queued: <a href="{}">delivery {}</a> shows what it answered.',
                    subscription,
                    url,
                    delivery.pk,
                ),
                messages.SUCCESS,
            )

    @admin.action(permissions=["change"], description="Switch on again (sends what waits)")
    def switch_on(self, request, queryset):
        for subscription in queryset:
            if subscription.is_active:
                self.message_user(request, f"“{subscription}” was on already.", messages.INFO)
                continue
            queued = subscription_switch_on(subscription_id=subscription.pk)
            self.message_user(
                request,
                f"“{subscription}” is on again; {queued} waiting deliveries queued.",
                messages.SUCCESS,
            )
