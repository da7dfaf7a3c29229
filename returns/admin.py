from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from core.admin_actions import ActionField, ObjectAction, ObjectActionsMixin
from orders.admin.orders import register_order_inline

from .models import Refund, ReturnLine, ReturnRequest
from .services import (
    return_request_approve,
    return_request_receive,
    return_request_refund,
    return_request_reject,
)

RS = ReturnRequest.Status


def _approve(rr, user, data):
    return_request_approve(return_id=rr.pk, actor=user, note=data.get("note", ""))
    return f"Return {rr.number} approved."


def _reject(rr, user, data):
    return_request_reject(return_id=rr.pk, actor=user, note=data["note"])
    return f"Return {rr.number} rejected."


def _receive(rr, user, data):
    return_request_receive(return_id=rr.pk, actor=user)
    return f"Return {rr.number} received; resellable units are back in stock."


def _refund(rr, user, data):
    refund = return_request_refund(return_id=rr.pk, actor=user)
    return f"Refunded {refund.amount} {refund.currency} for {rr.number}."


RETURN_ACTIONS = (
    ObjectAction(
        "approve",
        "Approve",
        _approve,
        available=lambda r: r.status == RS.REQUESTED,
        permission="returns.change_returnrequest",
        style="primary",
        order=10,
        fields=(ActionField("note", "Instructions for the customer"),),
    ),
    ObjectAction(
        "reject",
        "Reject",
        _reject,
        available=lambda r: r.status == RS.REQUESTED,
        permission="returns.change_returnrequest",
        style="danger",
        order=20,
        fields=(ActionField("note", "Reason (the customer reads it)", required=True),),
    ),
    ObjectAction(
        "receive",
        "Receive and restock",
        _receive,
        available=lambda r: r.status == RS.APPROVED,
        permission="returns.change_returnrequest",
        style="primary",
        order=30,
    ),
    ObjectAction(
        "refund",
        "Refund",
        _refund,
        available=lambda r: r.status == RS.INSPECTED,
        permission="returns.add_refund",
        style="primary",
        order=40,
    ),
)


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    extra = 0
    can_delete = False
    fields = ["order_line", "quantity", "condition", "disposition", "quantity_restocked"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReturnRequest)
class ReturnRequestAdmin(ObjectActionsMixin, admin.ModelAdmin):
    object_actions = RETURN_ACTIONS
    list_display = ["number", "order_link", "status", "reason", "resolution", "created_at"]
    list_filter = ["status", "reason", "resolution"]
    search_fields = ["number", "order__number", "order__email"]
    list_select_related = ["order"]
    inlines = [ReturnLineInline]
    readonly_fields = [
        "number",
        "order_link",
        "status",
        "reason",
        "comment",
        "resolution",
        "decision_note",
        "approved_at",
        "received_at",
        "resolved_at",
        "created_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Order", ordering="order__number")
    def order_link(self, rr):
        url = reverse("admin:orders_order_change", args=[rr.order_id])
        return format_html('<a href="{}">{}</a>', url, rr.order.number)


class ReturnInline(admin.TabularInline):
    model = ReturnRequest
    extra = 0
    can_delete = False
    fields = ["link", "status", "reason", "resolution", "created_at"]
    readonly_fields = fields
    verbose_name_plural = "Returns"

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Return")
    def link(self, rr):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:returns_returnrequest_change", args=[rr.pk]), rr.number
        )


register_order_inline(ReturnInline)


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ["created_at", "order", "return_request", "amount", "currency", "method", "actor"]
    list_filter = ["method"]
    search_fields = ["order__number", "return_request__number", "reference"]
    list_select_related = ["order", "return_request", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
