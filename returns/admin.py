"""The returns desk: a queue of return requests, approve or reject, receive by scanning the
return number, inspect each line, and resolve by refund, exchange or store credit. Every button
calls a service; the admin holds no business rules."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.admin_actions import ObjectAction, ObjectActionForm
from core.admin_extensions import ChangelistLink, ExtensibleAdminMixin
from core.admin_mixins import ViewerMixin, WritesMixin, viewer_may
from core.exceptions import DomainError
from orders.links import order_admin_url

from .labels import return_label_buy, return_label_gateway
from .models import Refund, ReturnLabel, ReturnLine, ReturnRequest, StoreCredit, StoreCreditRedemption
from .selectors import order_get_return_state, return_get_by_number
from .services import (
    return_quote,
    return_request_approve,
    return_request_exchange,
    return_request_inspect,
    return_request_receive,
    return_request_refund,
    return_request_reject,
    return_request_store_credit,
)

RS = ReturnRequest.Status
Resolution = ReturnRequest.Resolution
# Who does which step (returns.models.ReturnRequest.Meta.permissions, given out in roles.py).
DECIDE = "returns.decide_returnrequest"
RECEIVE = "returns.receive_returnrequest"
RESOLVE = "returns.resolve_returnrequest"


class ApproveForm(ObjectActionForm):
    note = forms.CharField(label="Instructions for the customer (optional)", required=False)


class RejectForm(ObjectActionForm):
    note = forms.CharField(label="Reason (the customer reads it)")


def _approve(rr, user, data):
    return_request_approve(return_id=rr.pk, actor=user, note=data["note"])
    return f"Return {rr.number} approved; the customer has the instructions by e-mail."


def _reject(rr, user, data):
    return_request_reject(return_id=rr.pk, actor=user, note=data["note"])
    return f"Return {rr.number} rejected; the customer has been told why."


def _buy_label(rr, user, data):
    label = return_label_buy(return_id=rr.pk)
    return (
        f"Return label for {rr.number} bought (tracking {label.tracking_number}); e-mailed to the customer."
    )


def _may_buy_label(rr) -> bool:
    """Approved, no label yet, and the order's carrier buys labels: staff may (re)try."""
    return (
        rr.status == RS.APPROVED
        and not rr.labels.filter(status=ReturnLabel.Status.BOUGHT).exists()
        and return_label_gateway(rr) is not None
    )


def _receive(rr, user, data):
    return_request_receive(return_id=rr.pk, actor=user)
    return f"Return {rr.number} received; inspect each line next."


def _refund(rr, user, data):
    refund = return_request_refund(return_id=rr.pk, actor=user)
    if refund.method == Refund.Method.STORE_CREDIT:
        return (
            f"{rr.number}: the order was paid with store credit; "
            f"{refund.amount} {refund.currency} went back on {refund.reference}."
        )
    return f"Refunded {refund.amount} {refund.currency} for {rr.number}."


def _credit(rr, user, data):
    credit = return_request_store_credit(return_id=rr.pk, actor=user)
    return f"Store credit {credit.code} of {credit.balance} {credit.currency} issued for {rr.number}."


def _exchange(rr, user, data):
    replacement = return_request_exchange(return_id=rr.pk, actor=user)
    return (
        f"Replacement order {replacement.number} created for {rr.number} "
        f"({replacement.get_status_display().lower()})."
    )


RETURN_ACTIONS = (
    ObjectAction(
        "approve",
        "Approve",
        _approve,
        transition="approve",
        permission=DECIDE,
        style="primary",
        order=10,
        form_class=ApproveForm,
    ),
    ObjectAction(
        "reject",
        "Reject",
        _reject,
        transition="reject",
        permission=DECIDE,
        style="danger",
        order=20,
        form_class=RejectForm,
    ),
    ObjectAction(
        "buy_return_label",
        "Buy the prepaid return label",
        _buy_label,
        available=_may_buy_label,
        permission="returns.change_returnrequest",
        order=25,
    ),
    ObjectAction(
        "receive",
        "Parcel arrived: receive",
        _receive,
        transition="receive",
        permission=RECEIVE,
        style="primary",
        order=30,
    ),
    ObjectAction(
        "refund",
        "Refund (as it was paid: card or store credit)",
        _refund,
        transition="resolve",
        permission=RESOLVE,
        style="primary",
        order=40,
    ),
    ObjectAction(
        "store_credit",
        "Issue store credit",
        _credit,
        transition="resolve",
        permission=RESOLVE,
        order=45,
    ),
    ObjectAction(
        "exchange",
        "Send replacement (exchange)",
        _exchange,
        transition="resolve",
        permission=RESOLVE,
        order=50,
    ),
)


class ReturnLineInline(WritesMixin, admin.TabularInline):
    allow_add = False
    model = ReturnLine
    extra = 0
    can_delete = False
    fields = ["order_line", "quantity", "exchange_product", "condition", "disposition", "quantity_restocked"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line", "exchange_product")


class ReturnLabelInline(WritesMixin, admin.TabularInline):
    allow_add = False
    model = ReturnLabel
    extra = 0
    can_delete = False
    fields = [
        "status",
        "carrier_name",
        "service_name",
        "tracking_number",
        "postage",
        "currency",
        "emailed_at",
        "message",
        "created_at",
    ]
    readonly_fields = fields
    verbose_name_plural = "Return labels"


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("decide", "To approve or reject"),
            ("awaiting", "Waiting for the parcel"),
            ("inspect", "To inspect"),
            ("resolve", "To resolve"),
        ]

    def queryset(self, request, queryset):
        status = {
            "decide": RS.REQUESTED,
            "awaiting": [RS.APPROVED, RS.IN_TRANSIT, RS.DELIVERED],
            "inspect": RS.RECEIVED,
            "resolve": RS.INSPECTED,
        }
        if self.value() in status:
            wanted = status[self.value()]
            return queryset.filter(status__in=wanted if isinstance(wanted, list) else [wanted])
        return queryset


def _scan_link(request, changelist):
    if request.user.has_perm(RECEIVE):
        url = reverse("admin:returns_returnrequest_scan")
        yield ChangelistLink("Scan a return parcel", url, css_class="addlink")


@admin.register(ReturnRequest)
class ReturnRequestAdmin(ViewerMixin, WritesMixin, ExtensibleAdminMixin, admin.ModelAdmin):
    allow_add = False
    allow_delete = False
    object_actions = RETURN_ACTIONS
    changelist_links = [_scan_link]
    list_display = ["number", "order_link", "status", "reason", "resolution", "created_at"]
    list_filter = [QueueFilter, "status", "reason", "resolution"]
    search_fields = ["number", "order__number", "order__email"]
    list_select_related = ["order"]
    inlines = [ReturnLineInline, ReturnLabelInline]
    readonly_fields = [
        "number",
        "order_link",
        "status",
        "next_step",
        "reason",
        "comment",
        "resolution",
        "quote",
        "decision_note",
        "replacement_link",
        "approved_at",
        "received_at",
        "resolved_at",
        "created_at",
    ]
    fields = readonly_fields

    def get_ordering(self, request):
        # The queue: work to do first (open returns by stage), then the rest; oldest first.
        stage = Case(
            *[
                When(status=s, then=Value(i))
                for i, s in enumerate([RS.RECEIVED, RS.REQUESTED, RS.INSPECTED, RS.APPROVED])
            ],
            default=Value(9),
            output_field=IntegerField(),
        )
        return [stage.asc(), "created_at", "pk"]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("scan/", view(self.scan_view), name="returns_returnrequest_scan"),
            path("<int:object_id>/inspect/", view(self.inspect_view), name="returns_returnrequest_inspect"),
            *super().get_urls(),
        ]

    @admin.display(description="Order", ordering="order__number")
    def order_link(self, rr):
        return format_html('<a href="{}">{}</a>', order_admin_url(order_id=rr.order_id), rr.order.number)

    @admin.display(description="Next step")
    def next_step(self, rr):
        if rr.status == RS.RECEIVED:
            if not viewer_may(rr, RECEIVE):
                return "The warehouse inspects the items."
            url = reverse("admin:returns_returnrequest_inspect", args=[rr.pk])
            return format_html('<a class="button" href="{}">Inspect the items</a>', url)
        if rr.status == RS.INSPECTED:
            return f"Resolve it: the customer asked for {rr.get_resolution_display().lower()}."
        return "—"

    @admin.display(description="Refund quote")
    def quote(self, rr):
        if rr.status in (RS.REJECTED, RS.CANCELLED):
            return "—"
        refund = return_quote(return_request=rr)
        credit = return_quote(return_request=rr, store_credit=True)
        text = f"Refund {refund.describe(rr.order.currency)}"
        if credit.amount != refund.amount:
            text += f"; as store credit {credit.amount} {rr.order.currency} (no restocking fee)"
        return text

    @admin.display(description="Replacement order")
    def replacement_link(self, rr):
        if not rr.replacement_order_id:
            return "—"
        url = order_admin_url(order_id=rr.replacement_order_id)
        return format_html('<a href="{}">{}</a>', url, rr.replacement_order.number)

    # --- the desk: scan a parcel, inspect its lines ------------------------------------------
    def scan_view(self, request):
        """Scan or type the return number on the parcel: an approved return is received and
        opens for inspection; any other return opens as it is."""
        if not request.user.has_perm(RECEIVE):
            raise PermissionDenied
        if request.method == "POST":
            code = request.POST.get("number", "")
            rr = return_get_by_number(number=code)
            if rr is None:
                messages.error(request, f"No return with the number “{code.strip()[:40]}”.")
                return HttpResponseRedirect(reverse("admin:returns_returnrequest_scan"))
            if rr.status in (RS.APPROVED, RS.IN_TRANSIT, RS.DELIVERED):
                try:
                    return_request_receive(return_id=rr.pk, actor=request.user)
                except DomainError as exc:
                    messages.error(request, str(exc))
                    return HttpResponseRedirect(reverse("admin:returns_returnrequest_change", args=[rr.pk]))
                messages.success(request, f"{rr.number} received. Inspect each line.")
                return HttpResponseRedirect(reverse("admin:returns_returnrequest_inspect", args=[rr.pk]))
            if rr.status == RS.RECEIVED:
                return HttpResponseRedirect(reverse("admin:returns_returnrequest_inspect", args=[rr.pk]))
            messages.warning(
                request, f"{rr.number} is {rr.get_status_display().lower()}: nothing to receive."
            )
            return HttpResponseRedirect(reverse("admin:returns_returnrequest_change", args=[rr.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Receive a return",
            "awaiting": ReturnRequest.objects.filter(
                status__in=[RS.APPROVED, RS.IN_TRANSIT, RS.DELIVERED]
            ).count(),
        }
        return TemplateResponse(request, "admin/returns/returnrequest/scan.html", context)

    def inspect_view(self, request, object_id):
        """One row per line: condition and disposition. Saving restocks the restock lines."""
        if not request.user.has_perm(RECEIVE):
            raise PermissionDenied
        rr = get_object_or_404(ReturnRequest.objects.select_related("order"), pk=object_id)
        change_url = reverse("admin:returns_returnrequest_change", args=[rr.pk])
        if rr.status != RS.RECEIVED:
            messages.warning(
                request, f"{rr.number} is {rr.get_status_display().lower()}: nothing to inspect."
            )
            return HttpResponseRedirect(change_url)
        lines = list(rr.lines.select_related("order_line", "exchange_product"))
        if request.method == "POST":
            results = {
                line.pk: (
                    request.POST.get(f"condition-{line.pk}", ""),
                    request.POST.get(f"disposition-{line.pk}", ""),
                )
                for line in lines
            }
            try:
                return_request_inspect(return_id=rr.pk, actor=request.user, results=results)
            except DomainError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request,
                    f"{rr.number} inspected. Now resolve it: {rr.get_resolution_display()} was asked for.",
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Inspect {rr.number}",
            "rr": rr,
            "lines": lines,
            "conditions": ReturnLine.Condition.choices,
            "dispositions": ReturnLine.Disposition.choices,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/returns/returnrequest/inspect.html", context)


class ReturnInline(WritesMixin, admin.TabularInline):
    allow_add = False
    model = ReturnRequest
    fk_name = "order"
    extra = 0
    can_delete = False
    fields = ["link", "status", "reason", "resolution", "created_at"]
    readonly_fields = fields
    verbose_name_plural = "Returns"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if obj is not None:
            lines = list(obj.lines.all())
            state = order_get_return_state(lines=lines)
            returned = sum(line.quantity_returned for line in lines)
            shipped = sum(line.quantity_shipped for line in lines)
            if state:
                label = "fully returned" if state == "returned" else "partially returned"
                self.verbose_name_plural = f"Returns — order {label} ({returned} of {shipped} units)"
            else:
                self.verbose_name_plural = "Returns"
        return formset

    @admin.display(description="Return")
    def link(self, rr):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:returns_returnrequest_change", args=[rr.pk]), rr.number
        )


@admin.register(Refund)
class RefundAdmin(WritesMixin, ExtensibleAdminMixin, admin.ModelAdmin):
    allow_add = False
    allow_change = False
    allow_delete = False
    list_display = [
        "created_at",
        "order",
        "return_request",
        "amount",
        "currency",
        "method",
        "reference",
        "actor",
    ]
    list_filter = ["method"]
    search_fields = ["order__number", "return_request__number", "reference"]
    list_select_related = ["order", "return_request", "actor"]


class StoreCreditRedemptionInline(WritesMixin, admin.TabularInline):
    """Where the credit went: spent on orders, and given back (negative) on cancel or refund."""

    allow_add = False
    allow_change = False
    allow_delete = False
    model = StoreCreditRedemption
    extra = 0
    can_delete = False
    fields = ["created_at", "order", "amount", "note", "actor"]
    readonly_fields = fields
    verbose_name = "movement"
    verbose_name_plural = "Spent on orders (negative: given back)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order", "actor")


@admin.register(StoreCredit)
class StoreCreditAdmin(WritesMixin, admin.ModelAdmin):
    allow_add = False
    allow_change = False
    allow_delete = False
    list_display = [
        "code",
        "email",
        "order",
        "return_request",
        "initial_amount",
        "balance",
        "currency",
        "created_at",
    ]
    search_fields = ["code", "email", "order__number", "return_request__number"]
    list_select_related = ["order", "return_request"]
    readonly_fields = [
        "code",
        "email",
        "order",
        "return_request",
        "currency",
        "initial_amount",
        "balance",
        "actor",
    ]
    inlines = [StoreCreditRedemptionInline]
