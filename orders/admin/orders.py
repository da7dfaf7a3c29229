from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from core.admin_actions import NotifyCustomerForm, ObjectAction, ObjectActionForm, fsm
from core.admin_extensions import ExtensibleAdminMixin
from core.admin_mixins import ReturnToMixin, WritesMixin
from core.paginator import LargeTablePaginator

from ..forms import PAYMENT_METHODS
from ..links import order_admin_url
from ..models import Address, Channel, Order, OrderEvent, OrderHold, OrderLine
from ..services import (
    order_allocate_now,
    order_cancel,
    order_hold,
    order_note_add,
    order_payment_correct,
    order_release_hold,
)
from .summary import order_next_steps, order_summary

S = Order.Status


class HoldForm(ObjectActionForm):
    detail = forms.CharField(label="Reason", max_length=500)


class CancelForm(NotifyCustomerForm):
    reason = forms.CharField(label="Reason", max_length=255)


class PaymentForm(ObjectActionForm):
    method = forms.ChoiceField(label="Method", choices=PAYMENT_METHODS)
    reference = forms.CharField(label="Reference (store credit: the code)", max_length=100, required=False)
    status = forms.ChoiceField(
        label="Status (store credit: set when redeemed)", choices=Order.PaymentStatus.choices[:3]
    )


class NoteForm(ObjectActionForm):
    message = forms.CharField(label="Note")


def _release(order, user, data):
    order = order_release_hold(order_id=order.pk, actor=user, notify=not data["silent"])
    return f"Holds on {order.number} released; it is now {order.get_status_display().lower()}."


def _hold(order, user, data):
    order_hold(order_id=order.pk, reason=OrderHold.Reason.MANUAL, detail=data["detail"], actor=user)
    return f"{order.number} is on hold."


def _allocate(order, user, data):
    order = order_allocate_now(order_id=order.pk, actor=user, notify=not data["silent"])
    if order.status == S.ALLOCATED:
        return f"{order.number} allocated."
    return f"{order.number}: still not enough stock; it stays backordered."


def _cancel(order, user, data):
    order_cancel(order_id=order.pk, actor=user, reason=data["reason"], notify=not data["silent"])
    return f"{order.number} cancelled; its reserved stock is released."


def _payment(order, user, data):
    order = order_payment_correct(
        order_id=order.pk,
        method=data["method"],
        reference=data["reference"],
        status=data["status"],
        actor=user,
    )
    return f"Payment of {order.number} corrected; release the hold to check it again."


def _note(order, user, data):
    order_note_add(order_id=order.pk, message=data["message"], actor=user)
    return "Note added."


# Before verification: a pending order can be held, a held one released. Holding an order that is
# already on hold adds a reason without a transition, and the payment can be corrected in both.
BEFORE_VERIFICATION = fsm("hold", "release")

ORDER_ACTIONS = (
    ObjectAction(
        "release",
        "Release holds and re-check",
        _release,
        transition="release",
        permission="orders.change_order",
        style="primary",
        order=10,
        form_class=NotifyCustomerForm,
    ),
    ObjectAction(
        "allocate",
        "Try to allocate now",
        _allocate,
        transition="allocate",
        permission="orders.change_order",
        style="primary",
        order=20,
        form_class=NotifyCustomerForm,
    ),
    ObjectAction(
        "payment",
        "Correct the payment",
        _payment,
        available=BEFORE_VERIFICATION,
        permission="orders.change_order",
        order=30,
        form_class=PaymentForm,
    ),
    ObjectAction(
        "hold",
        "Put on hold",
        _hold,
        available=BEFORE_VERIFICATION,
        permission="orders.change_order",
        order=80,
        form_class=HoldForm,
    ),
    ObjectAction(
        "cancel",
        "Cancel order",
        _cancel,
        transition="cancel",
        permission="orders.change_order",
        style="danger",
        order=90,
        form_class=CancelForm,
    ),
    ObjectAction(
        "note",
        "Add note",
        _note,
        permission="orders.change_order",
        order=95,
        form_class=NoteForm,
    ),
)


class OrderLineInline(WritesMixin, admin.TabularInline):
    allow_add = False
    allow_change = False
    model = OrderLine
    extra = 0
    can_delete = False
    fields = ["sku", "name", "unit_price", "quantity", "quantity_shipped", "quantity_returned", "line_total"]
    readonly_fields = fields

    @admin.display(description="Line total")
    def line_total(self, line):
        return line.line_total


class OrderHoldInline(WritesMixin, admin.TabularInline):
    allow_add = False
    allow_change = False
    model = OrderHold
    extra = 0
    can_delete = False
    fields = ["reason", "detail", "created_at", "released_at", "released_by"]
    readonly_fields = fields
    verbose_name_plural = "Holds"


class HoldReasonFilter(admin.SimpleListFilter):
    title = "active hold reason"
    parameter_name = "hold"

    def lookups(self, request, model_admin):
        return OrderHold.Reason.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(holds__reason=self.value(), holds__released_at__isnull=True).distinct()
        return queryset


@admin.register(Order)
class OrderAdmin(WritesMixin, ExtensibleAdminMixin, admin.ModelAdmin):
    allow_add = False  # orders come in through the capture service (channels, phone-order form)
    allow_delete = False
    object_actions = ORDER_ACTIONS
    # The order in plain words and what it waits for on top (summary.py), then lines, holds,
    # shipments, returns and messages, then the timeline; the raw fields folded under "Details".
    change_form_template = "admin/orders/order/change_form.html"
    next_steps = [order_next_steps]
    list_display = [
        "number",
        "placed_at",
        "channel",
        "customer_name",
        "email",
        "status_badge",
        "total_display",
        "payment_status",
    ]
    list_filter = [
        "status",
        "channel",
        ("placed_at", admin.DateFieldListFilter),
        HoldReasonFilter,
        "shipping_speed",
        "payment_status",
    ]
    search_fields = ["number", "=external_id", "email", "customer_name"]
    list_select_related = ["channel"]
    # No date_hierarchy: its links run a DISTINCT over every matching order on each page
    # (0.3 s at a million orders, docs/benchmarks.md); the "placed at" filter covers dates.
    list_per_page = 50
    show_full_result_count = False
    view_on_site = False  # the customer's view is the signed tracking link on the page
    paginator = LargeTablePaginator  # no full-table COUNT on every page
    show_facets = admin.ShowFacets.NEVER  # "Show counts" counts every filter choice over all orders
    actions = ["cancel_selected"]  # reports adds the CSV export actions (admin_extend)
    inlines = [OrderLineInline, OrderHoldInline]
    readonly_fields = [
        "number",
        "status_badge",
        "channel_name",
        "external_id",
        "placed_at",
        "currency",
        "subtotal",
        "shipping_total",
        "tax_total",
        "discount_total",
        "total",
        "payment_method",
        "payment_status",
        "payment_reference",
        "payment_amount",
        "verified_at",
        "allocated_at",
        "shipped_at",
        "delivered_at",
        "cancelled_at",
        "cancel_reason",
        "address_block",
        "timeline",
        "tracking_link",
    ]
    fieldsets = [
        ("Timeline", {"fields": ["timeline"]}),
        ("Internal notes", {"fields": ["notes"]}),
        (
            "Details",
            {
                "classes": ["collapse"],
                "fields": [
                    "number",
                    "status_badge",
                    "channel_name",
                    "external_id",
                    "placed_at",
                    "tracking_link",
                    "customer_name",
                    "email",
                    "phone",
                    "address_block",
                    "shipping_speed",
                    "currency",
                    "subtotal",
                    "shipping_total",
                    "tax_total",
                    "discount_total",
                    "total",
                    "payment_method",
                    "payment_status",
                    "payment_reference",
                    "payment_amount",
                    "verified_at",
                    "allocated_at",
                    "shipped_at",
                    "delivered_at",
                    "cancelled_at",
                    "cancel_reason",
                ],
            },
        ),
    ]

    def get_inlines(self, request, obj):
        # Fulfilment, returns and support add theirs with admin_extend(Order, inlines=...).
        return super().get_inlines(request, obj) if obj else []

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("channel", "shipping_address")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(title=f"Order {obj.number}", subtitle=None, summary=order_summary(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="Channel")
    def channel_name(self, order):
        # Text, not a link: the channel's page is for those who keep channels.
        return str(order.channel)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, order):
        return format_html('<span class="oms-status">{}</span>', order.get_status_display())

    @admin.display(description="Total", ordering="total")
    def total_display(self, order):
        return f"{order.total} {order.currency}"

    @admin.display(description="Shipping address")
    def address_block(self, order):
        if not order.shipping_address:
            return "—"
        # Correcting it is offered at the top of the page, to those who may.
        return format_html_join(mark_safe("<br>"), "{}", ((ln,) for ln in order.shipping_address.as_lines()))

    @admin.display(description="Customer's tracking page")
    def tracking_link(self, order):
        from ..links import order_tracking_url

        url = order_tracking_url(order_number=order.number, absolute=False)
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">Open as the customer sees it</a>', url
        )

    @admin.display(description="Events")
    def timeline(self, order):
        events = order.events.select_related("actor").order_by("created_at", "pk")
        rows = (
            (
                timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M"),
                e.get_kind_display(),
                mark_safe(' <span class="oms-badge oms-badge-public">customer sees</span>')
                if e.visible_to_customer
                else "",
                f" ({e.from_status} → {e.to_status})" if e.from_status and e.to_status else "",
                f" — {e.message}" if e.message else "",
                f" · {e.actor}" if e.actor else "",
            )
            for e in events
        )
        return format_html(
            '<ul class="oms-timeline">{}</ul>',
            format_html_join(
                "", '<li><span class="oms-when">{}</span><strong>{}</strong>{}{}{}{}</li>', rows
            ),
        )

    @admin.action(description="Cancel selected orders", permissions=["change"])
    def cancel_selected(self, request, queryset):
        done, failed = 0, []
        # values_list: the list's queryset follows (select_related) relations .only() would defer.
        for pk, number in queryset.values_list("pk", "number"):
            try:
                order_cancel(order_id=pk, actor=request.user, reason="Cancelled by staff")
                done += 1
            except Exception as exc:  # each order commits or fails on its own
                failed.append(f"{number}: {exc}")
        if done:
            self.message_user(request, f"{done} orders cancelled.", messages.SUCCESS)
        for text in failed:
            self.message_user(request, text, messages.ERROR)


@admin.register(Channel)
class ChannelAdmin(ExtensibleAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code", "kind", "return_window_days", "is_active", "order_count"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}

    def get_exclude(self, request, obj=None):
        # The webhook secret signs what the platform sends: only those who keep channels see it.
        if obj is not None and not self.has_change_permission(request, obj):
            return [*(super().get_exclude(request, obj) or []), "webhook_secret"]
        return super().get_exclude(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_orders=Count("orders"))

    @admin.display(description="Orders", ordering="_orders")
    def order_count(self, channel):
        url = reverse("admin:orders_order_changelist") + f"?channel__id__exact={channel.pk}"
        return format_html('<a href="{}">{}</a>', url, channel._orders)


@admin.register(OrderHold)
class OrderHoldAdmin(WritesMixin, admin.ModelAdmin):
    """The customer-service queue: active holds by reason."""

    allow_add = False
    list_display = ["order_link", "reason", "detail", "created_at", "released_at"]
    list_filter = ["reason", ("released_at", admin.EmptyFieldListFilter)]
    search_fields = ["order__number", "order__email", "detail"]
    list_select_related = ["order"]
    readonly_fields = ["order", "reason", "detail", "created_at", "released_at", "released_by"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if "released_at__isempty" not in request.GET:
            qs = qs.filter(Q(released_at__isnull=True))
        return qs

    @admin.display(description="Order", ordering="order__number")
    def order_link(self, hold):
        return format_html('<a href="{}">{}</a>', order_admin_url(order_id=hold.order_id), hold.order.number)


@admin.register(OrderEvent)
class OrderEventAdmin(WritesMixin, admin.ModelAdmin):
    allow_add = False
    allow_change = False
    allow_delete = False
    list_display = ["created_at", "order", "kind", "from_status", "to_status", "visible_to_customer", "actor"]
    list_filter = ["kind", "visible_to_customer"]
    search_fields = ["order__number", "message"]
    list_select_related = ["order", "actor"]
    show_full_result_count = False


@admin.register(Address)
class AddressAdmin(ReturnToMixin, admin.ModelAdmin):
    """Corrected from an order's page, and back to it after saving."""

    search_fields = ["name", "line1", "postal_code"]
