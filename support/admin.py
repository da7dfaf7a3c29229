"""The customer-service queue: threads waiting for an answer first, oldest first. Staff answer
by writing in the empty message row; saving hands it to the reply service (e-mailed)."""

from django.contrib import admin, messages
from django.db.models import Case, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Left
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.admin_actions import ObjectAction, ObjectActionsMixin
from core.admin_mixins import WritesMixin
from core.exceptions import DomainError
from orders.links import order_admin_url

from .models import Message, Thread
from .services import support_reply, support_thread_close


def _close(thread, user, data):
    support_thread_close(thread_id=thread.pk, actor=user)
    return f"Conversation about {thread.order} closed."


class MessageInline(WritesMixin, admin.StackedInline):
    allow_change = False
    model = Message
    extra = 1
    max_num = None
    can_delete = False
    fields = ["body"]
    verbose_name = "message"
    verbose_name_plural = "Conversation (write your answer in the empty box; it is e-mailed)"

    def get_queryset(self, request):
        # Earlier messages are shown read-only above (history); the inline only takes the answer.
        return super().get_queryset(request).none()


class WaitingFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("waiting", "Waiting for an answer"), ("all", "All")]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(status=Thread.Status.AWAITING_STAFF)
        return queryset


@admin.register(Thread)
class ThreadAdmin(WritesMixin, ObjectActionsMixin, admin.ModelAdmin):
    allow_add = False
    allow_delete = False
    object_actions = (
        ObjectAction(
            "close",
            "Close without answering",
            _close,
            available=lambda t: t.status != Thread.Status.CLOSED,  # threads have no state machine
            permission="support.change_thread",
            order=90,
        ),
    )
    list_display = ["order", "topic", "status", "waiting_since", "customer", "last_message"]
    list_filter = [WaitingFilter, "status", "topic"]
    search_fields = ["order__number", "order__email", "messages__body"]
    list_select_related = ["order"]
    readonly_fields = ["order_link", "customer", "topic", "status", "waiting_since", "history"]
    fields = readonly_fields
    inlines = [MessageInline]

    def get_queryset(self, request):
        # The list's "Last message" column, read in the same query as the threads (not one query
        # per row): the newest message's author and the start of its body.
        newest = Message.objects.filter(thread=OuterRef("pk")).order_by("-created_at", "-pk")
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_author=Subquery(newest.values("author")[:1]),
                last_body=Subquery(newest.annotate(start=Left("body", 80)).values("start")[:1]),
            )
        )

    def get_ordering(self, request):
        waiting_first = Case(
            When(status=Thread.Status.AWAITING_STAFF, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        return [waiting_first.asc(), "waiting_since", "-updated_at"]

    @admin.display(description="Order", ordering="order__number")
    def order_link(self, thread):
        return format_html(
            '<a href="{}">{}</a>', order_admin_url(order_id=thread.order_id), thread.order.number
        )

    @admin.display(description="Customer")
    def customer(self, thread):
        return f"{thread.order.customer_name} <{thread.order.email}>"

    @admin.display(description="Last message")
    def last_message(self, thread):
        if not thread.last_author:
            return ""
        return f"{Message.Author(thread.last_author).label}: {thread.last_body}"

    @admin.display(description="Messages")
    def history(self, thread):
        rows = [
            (
                m.author,
                (m.actor.get_full_name() or m.actor.username) if m.actor else m.get_author_display(),
                f"{m.created_at:%d %b %Y %H:%M}",
                m.body,
            )
            for m in thread.messages.select_related("actor")
        ]
        template = '<p class="oms-message oms-message-{}"><strong>{}</strong> · {}<br>{}</p>'
        return format_html_join("", template, rows) if rows else "—"

    def save_formset(self, request, form, formset, change):
        if formset.model is not Message:
            return super().save_formset(request, form, formset, change)
        for inline_form in formset.forms:
            body = (inline_form.cleaned_data or {}).get("body", "") if inline_form.has_changed() else ""
            if inline_form.instance.pk or not body.strip():
                continue
            try:
                support_reply(thread_id=form.instance.pk, body=body, actor=request.user)
            except DomainError as exc:
                messages.error(request, f"Answer not sent: {exc}")
            else:
                messages.success(request, f"Answer sent to {form.instance.order.email}.")
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        return None


class ThreadInline(WritesMixin, admin.TabularInline):
    allow_add = False
    model = Thread
    extra = 0
    can_delete = False
    fields = ["link", "topic", "status", "waiting_since"]
    readonly_fields = fields
    verbose_name = verbose_name_plural = "Customer messages"  # one thread per order

    @admin.display(description="Conversation")
    def link(self, thread):
        return format_html('<a href="{}">Open</a>', reverse("admin:support_thread_change", args=[thread.pk]))
