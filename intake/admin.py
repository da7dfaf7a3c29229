"""Admin for intake: channel keys (shown once), SKU mappings, the inbound request log with
re-processing, CSV import uploads and the phone/store order page."""

from functools import partial
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core.admin_actions import ObjectAction, ObjectActionForm, ObjectActionsMixin
from core.admin_extensions import ChangelistLink, NextStep, PageLink, admin_extend, object_action_link
from core.admin_mixins import ReturnToMixin, WritesMixin, return_to_url
from core.exceptions import DomainError
from orders.admin.summary import hold_remedy_register, hold_text, order_change_url
from orders.exceptions import CaptureError
from orders.forms import PhoneOrderForm, PhoneOrderLineFormSet, phone_order_input
from orders.models import Channel, Order, OrderHold
from orders.selectors import order_line_list_unmatched
from orders.services import order_capture

from .csv_import import (
    LAYOUT_CHOICES,
    ImportFileError,
    import_batch_create,
    import_batch_run_task,
    marketplace_channel,
)
from .inbound import inbound_request_reprocess
from .keys import channel_api_key_create, channel_api_key_revoke, channel_api_key_rotate
from .models import ChannelApiKey, ImportBatch, InboundRequest, SkuMapping
from .rematch import order_rematch_and_recheck


# --- channels: keys shown once ------------------------------------------------------------------
class ApiKeyForm(ObjectActionForm):
    name = forms.CharField(
        label="Used by",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "e.g. shop backend"}),
    )


def _create_key(channel, user, data):
    _, plain = channel_api_key_create(channel=channel, name=data["name"])
    return f"New API key for {channel.code} — copy it now, it is shown only this once: {plain}"


def _rotate_key(channel, user, data):
    _, plain = channel_api_key_rotate(channel=channel, name=data["name"])
    return f"Keys rotated: the old keys of {channel.code} no longer work. New key, shown only once: {plain}"


def _has_working_key(channel) -> bool:
    return channel.api_keys.filter(revoked_at__isnull=True).exists()


class ChannelApiKeyInline(WritesMixin, admin.TabularInline):
    allow_add = False
    model = ChannelApiKey
    extra = 0
    can_delete = False
    fields = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    verbose_name_plural = "API keys (create or rotate them with the buttons above)"


class SkuMappingInline(admin.TabularInline):
    model = SkuMapping
    extra = 1
    autocomplete_fields = ["product"]


CHANNEL_ACTIONS = (
    ObjectAction(
        "create_key",
        "Create API key",
        _create_key,
        permission="intake.add_channelapikey",
        style="primary",
        form_class=ApiKeyForm,
    ),
    ObjectAction(
        "rotate_key",
        "Rotate API key (revokes the others)",
        _rotate_key,
        # Keys have no state machine; without a working key there is nothing to rotate.
        available=_has_working_key,
        permission="intake.change_channelapikey",
        style="danger",
        confirm="Every existing key of this channel stops working now. Continue?",
        form_class=ApiKeyForm,
    ),
)


@admin.register(ChannelApiKey)
class ChannelApiKeyAdmin(WritesMixin, admin.ModelAdmin):
    allow_add = False  # keys are created from the channel page, where the key is shown once
    list_display = ["channel", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["channel", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["channel"]
    readonly_fields = ["channel", "prefix", "created_at", "last_used_at", "revoked_at"]
    fields = ["channel", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_selected"]

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke_selected(self, request, queryset):
        for key in queryset:
            channel_api_key_revoke(key_id=key.pk)
        self.message_user(request, f"{queryset.count()} keys revoked.", messages.SUCCESS)


@admin.register(SkuMapping)
class SkuMappingAdmin(ReturnToMixin, admin.ModelAdmin):
    """Opened from a held order ("Map …", prefilled), it goes back to the order after saving."""

    list_display = ["channel", "external_key", "product"]
    list_filter = ["channel"]
    search_fields = ["external_key", "product__sku", "product__name"]
    list_select_related = ["channel", "product"]
    autocomplete_fields = ["product"]


# --- inbound requests: the "nothing lost" log -------------------------------------------------------
NEEDS_STAFF = [InboundRequest.Outcome.FAILED, InboundRequest.Outcome.INVALID, InboundRequest.Outcome.HELD]


def _reprocess(inbound, user, data):
    return inbound_request_reprocess(inbound_id=inbound.pk, actor=user)


@admin.register(InboundRequest)
class InboundRequestAdmin(WritesMixin, ObjectActionsMixin, admin.ModelAdmin):
    allow_add = False
    allow_delete = False
    object_actions = (
        ObjectAction(
            "reprocess",
            "Re-process",
            _reprocess,
            available=lambda r: r.outcome in NEEDS_STAFF,  # an outcome, not a state machine
            permission="intake.change_inboundrequest",
            style="primary",
        ),
    )
    list_display = ["created_at", "source", "channel", "outcome", "delivery_id", "order_link", "short_error"]
    list_filter = ["outcome", "source", "channel"]
    search_fields = ["=delivery_id", "order__number", "error"]
    list_select_related = ["channel", "order"]
    show_full_result_count = False
    actions = ["reprocess_selected"]
    readonly_fields = [
        "source",
        "channel",
        "delivery_id",
        "topic",
        "outcome",
        "response_status",
        "order",
        "import_batch",
        "attempts",
        "processed_at",
        "created_at",
        "error",
        "headers",
        "body",
    ]
    fields = readonly_fields

    @admin.display(description="Order", ordering="order__number")
    def order_link(self, inbound):
        if not inbound.order_id:
            return "—"
        url = reverse("admin:orders_order_change", args=[inbound.order_id])
        return format_html('<a href="{}">{}</a>', url, inbound.order.number)

    @admin.display(description="Error")
    def short_error(self, inbound):
        return (inbound.error[:120] + "…") if len(inbound.error) > 120 else inbound.error

    @admin.action(description="Re-process selected requests", permissions=["change"])
    def reprocess_selected(self, request, queryset):
        # values_list: the list's queryset follows (select_related) relations .only() would defer.
        for pk in queryset.values_list("pk", flat=True):
            try:
                text = inbound_request_reprocess(inbound_id=pk, actor=request.user)
                self.message_user(request, f"#{pk}: {text}", messages.SUCCESS)
            except DomainError as exc:  # each request commits or fails on its own
                self.message_user(request, f"#{pk}: {exc}", messages.ERROR)


def _rematch(order, user, data):
    order = order_rematch_and_recheck(order_id=order.pk, actor=user)
    return f"{order.number} re-matched and re-checked: it is now {order.get_status_display().lower()}."


REMATCH = ObjectAction(
    "rematch",
    "Match SKUs again and re-check",
    _rematch,
    transition="release",
    # Only orders held for an unknown SKU: a hold reason, not a state.
    available=lambda o: o.holds.filter(reason="unknown_sku", released_at__isnull=True).exists(),
    permission="orders.change_order",
    order=15,
)


def unknown_sku_remedy(request, order, holds) -> NextStep:
    """The order page's line for an unknown-SKU hold: which SKUs, a link to map each (prefilled,
    back to the order after saving), then the button that matches the lines again."""
    lines = order_line_list_unmatched(order_id=order.pk)
    unknown = [line.sku for line in lines if line.product is None]
    inactive = [line.sku for line in lines if line.product is not None]
    parts = []
    if unknown:
        parts.append(
            f"Unknown SKU {', '.join(unknown)}: map it to one of our products, then match SKUs again"
        )
    if inactive:
        parts.append(
            f"Inactive product {', '.join(inactive)}: a manager reactivates it, then release the hold"
        )
    text = "On hold: " + (". ".join(parts) if parts else hold_text(holds)) + "."
    links = []
    if request.user.has_perm("intake.add_skumapping"):
        add = reverse("admin:intake_skumapping_add")
        for sku in unknown:
            url = f"{add}?{urlencode({'channel': order.channel_id, 'external_key': sku})}"
            links.append(PageLink(f"Map {sku}", return_to_url(url, order_change_url(order))))
    if rematch := object_action_link(request, order, REMATCH.name):
        links.append(rematch)
    if request.user.has_perm("intake.view_inboundrequest"):
        inbound = InboundRequest.objects.filter(order_id=order.pk).values_list("pk", flat=True).first()
        if inbound:
            url = reverse("admin:intake_inboundrequest_change", args=[inbound])
            links.append(PageLink(f"What the channel sent (inbound request #{inbound})", url))
    return NextStep(text, tuple(links), "act", 10)


# --- CSV imports -------------------------------------------------------------------------------------
class ImportUploadForm(forms.Form):
    file = forms.FileField(help_text="CSV or tab-separated; one row per order line.")
    channel = forms.CharField(initial="marketplace", help_text="Channel code (created if missing).")
    layout = forms.ChoiceField(choices=LAYOUT_CHOICES, initial="auto")


@admin.register(ImportBatch)
class ImportBatchAdmin(WritesMixin, admin.ModelAdmin):
    allow_change = False
    list_display = [
        "created_at",
        "file_name",
        "channel",
        "status",
        "progress",
        "orders_created",
        "orders_held",
        "orders_duplicate",
        "orders_invalid",
        "orders_skipped",
    ]
    list_filter = ["status", "channel"]
    list_select_related = ["channel"]
    readonly_fields = [
        "file_name",
        "channel",
        "layout",
        "status",
        "progress",
        "rows_total",
        "orders_created",
        "orders_held",
        "orders_duplicate",
        "orders_invalid",
        "orders_skipped",
        "error",
        "report_table",
        "created_by",
        "created_at",
        "finished_at",
    ]
    fields = readonly_fields

    REFRESH_SECONDS = 2

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """While the import runs the page shows a progress bar and reloads itself, so staff watch
        the counts move without pressing reload."""
        batch = self.get_object(request, object_id)
        running = batch is not None and batch.status in (
            ImportBatch.Status.PENDING,
            ImportBatch.Status.RUNNING,
        )
        extra_context = {
            **(extra_context or {}),
            "import_running": running,
            "import_refresh_seconds": self.REFRESH_SECONDS,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Progress")
    def progress(self, batch):
        return f"{batch.orders_processed} of {batch.orders_total} orders"

    @admin.display(description="Rows not imported")
    def report_table(self, batch):
        if not batch.report:
            return "—"
        rows = ((p.get("row"), p.get("order") or "—", p.get("reason")) for p in batch.report)
        return format_html(
            "<table><tr><th>Row</th><th>Order</th><th>Reason</th></tr>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = import_batch_create(
                    channel=marketplace_channel(form.cleaned_data["channel"].strip()),
                    file_name=upload.name,
                    raw=upload.read(),
                    layout=form.cleaned_data["layout"],
                    actor=request.user,
                )
            except ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                import_batch_run_task.enqueue(batch_id=batch.pk, actor_id=request.user.pk)
                self.message_user(
                    request,
                    f"{batch.file_name}: {batch.orders_total} orders in {batch.rows_total} rows queued; "
                    "the counts below update as it runs.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:intake_importbatch_change", args=[batch.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Import marketplace orders",
            "form": form,
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/orders/import_upload.html", context)


# --- phone and store orders ---------------------------------------------------------------------------
def phone_order_urls(model_admin):
    """The "New phone order" page beside the order list."""
    view = partial(phone_order_view, model_admin=model_admin)
    return [path("new-phone-order/", model_admin.admin_site.admin_view(view), name="orders_order_phone")]


# Taking an order on the phone adds one (the capture service does).
PHONE_ORDER_PERMISSION = "orders.add_order"


def phone_order_link(request, changelist):
    if request.user.has_perm(PHONE_ORDER_PERMISSION):
        yield ChangelistLink("New phone order", reverse("admin:orders_order_phone"), css_class="addlink")


def phone_order_view(request, *, model_admin):
    """Capture an order taken on the phone or in a store. With no phone or store channel yet, the
    first order creates the “Phone” channel (on POST: opening the page changes nothing)."""
    if not request.user.has_perm(PHONE_ORDER_PERMISSION):
        raise PermissionDenied
    first_channel = not Channel.objects.filter(kind__in=[Channel.Kind.PHONE, Channel.Kind.STORE]).exists()
    form = PhoneOrderForm(request.POST or None, first_channel=first_channel)
    lines = PhoneOrderLineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        channel = form.cleaned_data["channel"]
        if channel is None:
            channel, _ = Channel.objects.get_or_create(
                code="phone", defaults={"name": "Phone", "kind": Channel.Kind.PHONE}
            )
        try:
            order = order_capture(channel=channel, data=phone_order_input(form, lines), actor=request.user)
        except CaptureError as exc:
            form.add_error(None, str(exc))
        else:
            level = messages.SUCCESS if order.status != Order.Status.ON_HOLD else messages.WARNING
            model_admin.message_user(
                request, f"Order {order.number} captured: {order.get_status_display().lower()}.", level
            )
            return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "New phone or store order",
        "form": form,
        "lines": lines,
        "media": form.media + lines.media,
        "opts": model_admin.opts,
    }
    return TemplateResponse(request, "admin/orders/phone_order.html", context)


def intake_admin_extend() -> None:
    """Intake's pieces on the channel and order pages: API keys and SKU mappings, re-matching
    SKUs (and how the order page says to fix an unknown-SKU hold), the phone order page. Called
    from the app's ready()."""
    admin_extend(Channel, inlines=[ChannelApiKeyInline, SkuMappingInline], object_actions=CHANNEL_ACTIONS)
    admin_extend(Order, object_actions=[REMATCH], urls=phone_order_urls, changelist_links=[phone_order_link])
    hold_remedy_register(OrderHold.Reason.UNKNOWN_SKU, unknown_sku_remedy)
