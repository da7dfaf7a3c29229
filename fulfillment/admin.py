from django import forms
from django.contrib import admin, messages
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from core.admin_actions import NotifyCustomerForm, ObjectAction, ObjectActionForm, fsm
from core.admin_extensions import ChangelistAction, ExtensibleAdminMixin
from core.admin_mixins import ViewerMixin, WritesMixin, viewer_may
from core.exceptions import DomainError
from orders.links import order_admin_url

from . import views
from .labels import shipment_label_void
from .models import (
    Box,
    Carrier,
    LateShipment,
    PackingStation,
    PickList,
    PickListLine,
    ServiceLevel,
    ShipFrom,
    Shipment,
    ShipmentLine,
    ShippingLabel,
    TrackingEvent,
)
from .packing import shipment_repack
from .selectors import shipment_list_late
from .services import (
    order_start_fulfillment,
    shipment_change_service_level,
    shipment_deliver,
    shipment_pack,
    shipment_ship,
    shipment_start_picking,
)

SS = Shipment.Status


class ShipForm(NotifyCustomerForm):
    tracking_number = forms.CharField(
        label="Tracking number",
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "blank: local courier number"}),
    )


class ServiceLevelField(forms.ModelChoiceField):
    def label_from_instance(self, level):
        return f"{level} ({level.get_speed_display()}, {level.transit_days} days)"


class ChangeServiceForm(ObjectActionForm):
    service_level = ServiceLevelField(
        label="Service",
        queryset=ServiceLevel.objects.filter(is_active=True, carrier__is_active=True).select_related(
            "carrier"
        ),
        empty_label=None,
        error_messages={"invalid_choice": "Choose a carrier service."},
    )
    reason = forms.CharField(
        label="Reason",
        max_length=255,
        widget=forms.TextInput(attrs={"placeholder": "why the rules' choice is wrong"}),
    )


class ReasonForm(ObjectActionForm):
    reason = forms.CharField(label="Reason", max_length=255)


# --- buttons on the order page (admin_extend in apps.py) ---------------------------------------
def _start(order, user, data):
    shipments = order_start_fulfillment(order_id=order.pk, actor=user)
    return f"{order.number}: {len(shipments)} shipment(s) created: " + ", ".join(s.number for s in shipments)


def _pack_and_ship(order, user, data):
    done = []
    for shipment in order.shipments.filter(status__in=[SS.PENDING, SS.PICKING, SS.PACKED]):
        if shipment.status != SS.PACKED:
            shipment_pack(shipment_id=shipment.pk, actor=user)
        shipped = shipment_ship(
            shipment_id=shipment.pk,
            tracking_number=data["tracking_number"],
            actor=user,
            notify=not data["silent"],
        )
        done.append(f"{shipped.number} ({shipped.tracking_number})")
    return "Shipped: " + ", ".join(done) if done else "Nothing left to ship."


def _deliver(order, user, data):
    done = []
    for shipment in order.shipments.filter(status__in=Shipment.ON_THE_WAY):
        shipment_deliver(shipment_id=shipment.pk, actor=user, notify=not data["silent"])
        done.append(shipment.number)
    return "Delivered: " + ", ".join(done)


START_PERMISSION = "fulfillment.add_shipment"


def start_fulfillment_selected(modeladmin, request, queryset):
    """The warehouse takes in every selected order it can; each commits or fails on its own."""
    started, failed = [], []
    # values_list: the list's queryset follows (select_related) relations .only() would defer.
    for pk, number in queryset.values_list("pk", "number"):
        try:
            shipments = order_start_fulfillment(order_id=pk, actor=request.user)
        except DomainError as exc:
            failed.append(f"{number}: {exc}")
        else:
            started.append(f"{number} ({len(shipments)})")
    if started:
        modeladmin.message_user(
            request, "Fulfilment started, shipments per order: " + ", ".join(started), messages.SUCCESS
        )
    for text in failed:
        modeladmin.message_user(request, text, messages.ERROR)


ORDER_LIST_ACTIONS = (
    ChangelistAction(
        name="start_fulfillment_selected",
        function=start_fulfillment_selected,
        description="Start fulfilment of selected orders",
        permission=START_PERMISSION,
    ),
)

ORDER_PAGE_ACTIONS = (
    ObjectAction(
        "start_fulfillment",
        "Start fulfilment",
        _start,
        transition="start_fulfillment",
        # It creates the order's shipments: the warehouse takes the order in.
        permission=START_PERMISSION,
        style="primary",
        order=30,
    ),
    ObjectAction(
        "pack_and_ship",
        "Pack and ship",
        _pack_and_ship,
        transition="ship",
        permission="fulfillment.change_shipment",
        style="primary",
        order=40,
        form_class=ShipForm,
    ),
    ObjectAction(
        "deliver",
        "Mark delivered",
        _deliver,
        transition="deliver",
        permission="fulfillment.change_shipment",
        style="primary",
        order=50,
        form_class=NotifyCustomerForm,
    ),
)


class ShipmentInline(WritesMixin, admin.TabularInline):
    allow_add = False
    allow_change = False
    model = Shipment
    extra = 0
    can_delete = False
    fields = [
        "link",
        "warehouse",
        "status",
        "service_level",
        "tracking",
        "estimated_delivery",
        "shipped_at",
    ]
    readonly_fields = fields
    verbose_name_plural = "Shipments"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("warehouse", "service_level__carrier")

    @admin.display(description="Shipment")
    def link(self, shipment):
        url = reverse("admin:fulfillment_shipment_change", args=[shipment.pk])
        return format_html('<a href="{}">{}</a>', url, shipment.number)

    @admin.display(description="Tracking")
    def tracking(self, shipment):
        if not shipment.tracking_number:
            return "—"
        if url := shipment.tracking_url:
            return format_html(
                '<a href="{}" target="_blank" rel="noopener">{}</a>', url, shipment.tracking_number
            )
        return shipment.tracking_number


# --- shipments --------------------------------------------------------------------------------
class ShipmentLineInline(WritesMixin, admin.TabularInline):
    allow_add = False
    model = ShipmentLine
    extra = 0
    can_delete = False
    fields = ["sku", "name", "quantity", "quantity_packed"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line")

    @admin.display(description="SKU")
    def sku(self, line):
        return line.order_line.sku

    @admin.display(description="Item")
    def name(self, line):
        return line.order_line.name


class ShippingLabelInline(WritesMixin, admin.TabularInline):
    allow_add = False
    model = ShippingLabel
    extra = 0
    can_delete = False
    fields = [
        "status",
        "carrier_name",
        "service_name",
        "tracking_number",
        "postage",
        "currency",
        "label_format",
        "refund_status",
        "override_reason",
        "message",
        "document_link",
        "created_at",
    ]
    readonly_fields = fields
    verbose_name_plural = "Labels"

    @admin.display(description="Label")
    def document_link(self, label):
        if label.status != ShippingLabel.Status.BOUGHT:
            return "—"
        url = reverse("admin:fulfillment_shippinglabel_document", args=[label.pk])
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>', url, label.label_format.upper()
        )


class TrackingEventInline(WritesMixin, admin.TabularInline):
    allow_add = False
    model = TrackingEvent
    extra = 0
    can_delete = False
    fields = ["occurred_at", "status", "carrier_status", "description", "location", "source"]
    readonly_fields = fields


def _start_picking(shipment, user, data):
    shipment_start_picking(shipment_id=shipment.pk, actor=user)
    return f"{shipment.number} is being picked."


def _pack(shipment, user, data):
    shipment_pack(shipment_id=shipment.pk, actor=user)
    return f"{shipment.number} packed."


def _ship(shipment, user, data):
    shipped = shipment_ship(
        shipment_id=shipment.pk,
        tracking_number=data["tracking_number"],
        actor=user,
        notify=not data["silent"],
    )
    return f"{shipped.number} shipped with tracking number {shipped.tracking_number}."


def _deliver_one(shipment, user, data):
    shipment_deliver(shipment_id=shipment.pk, actor=user, notify=not data["silent"])
    return f"{shipment.number} delivered."


def _void_label(shipment, user, data):
    label = shipment_label_void(shipment_id=shipment.pk, reason=data["reason"], actor=user)
    return f"Label {label.tracking_number} of {shipment.number} voided; postage refund requested."


def _repack(shipment, user, data):
    shipment_repack(shipment_id=shipment.pk, reason=data["reason"], actor=user)
    return f"{shipment.number} is open again: scan its items to pack it."


def _has_bought_label(shipment) -> bool:
    return shipment.labels.filter(status=ShippingLabel.Status.BOUGHT).exists()


def _change_service(shipment, user, data):
    changed = shipment_change_service_level(
        shipment_id=shipment.pk, service_level_id=data["service_level"].pk, reason=data["reason"], actor=user
    )
    estimate = f"{changed.estimated_delivery:%a %d %b}"
    return f"{changed.number} now goes by {changed.service_level}; estimate {estimate}."


SHIPMENT_ACTIONS = (
    ObjectAction(
        "void_label",
        "Void label",
        _void_label,
        # Until it is handed to the carrier, and only with a bought label.
        available=lambda s: s.status in (SS.PENDING, SS.PICKING, SS.PACKED) and _has_bought_label(s),
        permission="fulfillment.change_shipment",
        style="danger",
        order=70,
        form_class=ReasonForm,
        confirm="The label can't be used any more; its postage refund is asked from the carrier. Continue?",
    ),
    ObjectAction(
        "repack",
        "Open the box again (repack)",
        _repack,
        transition="unpack",
        permission="fulfillment.change_shipment",
        order=65,
        form_class=ReasonForm,
    ),
    ObjectAction(
        "change_service",
        "Change carrier service",
        _change_service,
        # Until it is handed to the carrier: while it can still be packed or shipped.
        available=fsm("pack", "ship"),
        permission="fulfillment.change_shipment",
        order=60,
        form_class=ChangeServiceForm,
    ),
    ObjectAction(
        "start_picking",
        "Start picking",
        _start_picking,
        transition="start_picking",
        permission="fulfillment.change_shipment",
        order=10,
    ),
    ObjectAction(
        "pack",
        "Mark packed",
        _pack,
        transition="pack",
        permission="fulfillment.change_shipment",
        style="primary",
        order=20,
    ),
    ObjectAction(
        "ship",
        "Ship",
        _ship,
        transition="ship",
        permission="fulfillment.change_shipment",
        style="primary",
        order=30,
        form_class=ShipForm,
    ),
    ObjectAction(
        "deliver",
        "Mark delivered",
        _deliver_one,
        transition="deliver",
        permission="fulfillment.change_shipment",
        style="primary",
        order=40,
        form_class=NotifyCustomerForm,
    ),
)


@admin.register(Shipment)
class ShipmentAdmin(ViewerMixin, WritesMixin, ExtensibleAdminMixin, admin.ModelAdmin):
    allow_add = False
    allow_delete = False
    object_actions = SHIPMENT_ACTIONS
    list_display = [
        "number",
        "order_link",
        "warehouse",
        "status",
        "service_level",
        "tracking_number",
        "estimated_delivery",
        "shipped_at",
    ]
    list_filter = ["status", "warehouse", "service_level__carrier", "service_level"]
    search_fields = ["number", "=tracking_number", "order__number", "order__email"]
    list_select_related = ["order", "warehouse", "service_level__carrier"]
    show_full_result_count = False
    inlines = [ShipmentLineInline, ShippingLabelInline, TrackingEventInline]
    readonly_fields = [
        "postage",
        "number",
        "order_link",
        "warehouse",
        "status",
        "tracking_number",
        "weight_grams",
        "packed_at",
        "shipped_at",
        "delivered_at",
        "tracking_link",
        "packing_links",
    ]
    fields = [
        "packing_links",
        "number",
        "order_link",
        "warehouse",
        "status",
        "service_level",
        "estimated_delivery",
        "tracking_number",
        "tracking_link",
        "postage",
        "weight_grams",
        "packed_at",
        "shipped_at",
        "delivered_at",
    ]

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/label/", wrap(views.label_view), name="fulfillment_shipment_label"),
            path(
                "label/<int:pk>/document/",
                wrap(views.label_document_view),
                name="fulfillment_shippinglabel_document",
            ),
            path("pack/", wrap(views.pack_station_view), name="fulfillment_shipment_pack_station"),
            path("pack/<int:pk>/", wrap(views.pack_shipment_view), name="fulfillment_shipment_pack"),
            path(
                "<int:pk>/packing-slip/",
                wrap(views.packing_slip_view),
                name="fulfillment_shipment_packing_slip",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Order", ordering="order__number")
    def order_link(self, shipment):
        return format_html(
            '<a href="{}">{}</a>', order_admin_url(order_id=shipment.order_id), shipment.order.number
        )

    @admin.display(description="Packing")
    def packing_links(self, shipment):
        slip = reverse("admin:fulfillment_shipment_packing_slip", args=[shipment.pk])
        if shipment.status in (SS.PENDING, SS.PICKING, SS.PACKED) and viewer_may(
            shipment, views.PACK_PERMISSION
        ):
            pack = reverse("admin:fulfillment_shipment_pack", args=[shipment.pk])
            return format_html(
                '<a href="{}">Packing station (scan, label)</a> · <a href="{}">Packing slip</a>', pack, slip
            )
        return format_html('<a href="{}">Packing slip</a>', slip)

    @admin.display(description="Postage paid")
    def postage(self, shipment):
        if shipment.postage_cost is None:
            return "—"
        return f"{shipment.postage_cost} {shipment.postage_currency}"

    @admin.display(description="Carrier tracking")
    def tracking_link(self, shipment):
        url = shipment.tracking_url
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url) if url else "—"


class ServiceLevelInline(admin.StackedInline):
    model = ServiceLevel
    extra = 0


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "gateway", "gateway_account_id", "is_active"]
    search_fields = ["name", "code"]
    inlines = [ServiceLevelInline]


@admin.register(ServiceLevel)
class ServiceLevelAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "speed",
        "transit_days",
        "cutoff_time",
        "countries",
        "max_weight_grams",
        "price_per_parcel",
        "price_per_kg",
        "gateway_service",
        "is_active",
    ]
    list_filter = ["carrier", "speed", "is_active"]


@admin.register(Box)
class BoxAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "length_mm", "width_mm", "height_mm", "weight_grams", "is_active"]
    search_fields = ["code", "name"]


@admin.register(PackingStation)
class PackingStationAdmin(admin.ModelAdmin):
    list_display = ["name", "warehouse", "label_format", "label_size", "default_box", "is_active"]


@admin.register(ShipFrom)
class ShipFromAdmin(admin.ModelAdmin):
    list_display = ["warehouse", "name", "line1", "city", "postal_code", "country"]


class UnmatchedFilter(admin.EmptyFieldListFilter):
    """“Unmatched” = events whose tracking number no shipment has: flagged for review."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = "matched to a shipment"

    def choices(self, changelist):
        for choice in super().choices(changelist):
            choice["display"] = {"Empty": "Unmatched (review)", "Not empty": "Matched"}.get(
                str(choice["display"]), choice["display"]
            )
            yield choice


@admin.register(TrackingEvent)
class TrackingEventAdmin(ExtensibleAdminMixin, admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "tracking_number",
        "shipment",
        "status",
        "carrier_status",
        "location",
        "source",
    ]
    list_filter = [("shipment", UnmatchedFilter), "status", "source", "carrier_code"]
    search_fields = ["tracking_number", "shipment__number"]
    list_select_related = ["shipment"]
    show_full_result_count = False


# --- pick lists -------------------------------------------------------------------------------
class PickListLineInline(WritesMixin, admin.TabularInline):
    allow_add = False
    model = PickListLine
    extra = 0
    can_delete = False
    fields = ["position", "bin_location", "sku", "name", "quantity"]
    readonly_fields = fields


@admin.register(PickList)
class PickListAdmin(WritesMixin, admin.ModelAdmin):
    allow_delete = False
    allow_change = False
    list_display = [
        "number",
        "warehouse",
        "created_at",
        "created_by",
        "shipment_count",
        "unit_count",
        "print_link",
    ]
    list_filter = ["warehouse"]
    search_fields = ["number", "shipments__number"]
    list_select_related = ["warehouse", "created_by"]
    readonly_fields = [
        "number",
        "warehouse",
        "created_by",
        "created_at",
        "criteria",
        "shipment_count",
        "unit_count",
        "print_link",
    ]
    fields = readonly_fields
    inlines = [PickListLineInline]

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/print/", wrap(views.pick_list_print_view), name="fulfillment_picklist_print"),
            path("<int:pk>/labels/", wrap(views.pick_list_labels_view), name="fulfillment_picklist_labels"),
            path(
                "<int:pk>/labels/<str:label_format>/",
                wrap(views.pick_list_labels_document_view),
                name="fulfillment_picklist_labels_document",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        """Adding a pick list means building one from ready shipments (the service does it)."""
        return views.pick_list_create_view(request, self.admin_site)

    @staticmethod
    def _print_links(request):
        """The "Print" column and field: the labels are offered only to those who may buy them."""
        may_label = request.user.has_perm(views.PACK_PERMISSION)

        @admin.display(description="Print")
        def print_link(pick_list):
            url = reverse("admin:fulfillment_picklist_print", args=[pick_list.pk])
            if not may_label:
                return format_html('<a href="{}">Print pick list</a>', url)
            labels = reverse("admin:fulfillment_picklist_labels", args=[pick_list.pk])
            return format_html('<a href="{}">Print pick list</a> · <a href="{}">Labels</a>', url, labels)

        return print_link

    @admin.display(description="Print")
    def print_link(self, pick_list):
        """What the checks see; each request gets `_print_links`, which knows who is asking."""
        return format_html(
            '<a href="{}">Print pick list</a>',
            reverse("admin:fulfillment_picklist_print", args=[pick_list.pk]),
        )

    def _with_print_links(self, request, names):
        links = self._print_links(request)
        return [links if name == "print_link" else name for name in names]

    def get_list_display(self, request):
        return self._with_print_links(request, super().get_list_display(request))

    def get_readonly_fields(self, request, obj=None):
        return self._with_print_links(request, super().get_readonly_fields(request, obj))

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)


# --- customer-service queue: late shipments ---------------------------------------------------
@admin.register(LateShipment)
class LateShipmentAdmin(WritesMixin, admin.ModelAdmin):
    """Shipments past their estimated delivery day and not delivered, most overdue first."""

    allow_add = False
    allow_change = False
    allow_delete = False
    list_display = [
        "number",
        "order_link",
        "customer",
        "status",
        "service_level",
        "tracking_number",
        "estimated_delivery",
        "days_late",
    ]
    list_filter = ["status", "service_level__carrier", "warehouse"]
    search_fields = ["number", "=tracking_number", "order__number", "order__email"]
    list_select_related = ["order", "service_level__carrier"]
    ordering = ["estimated_delivery", "pk"]
    show_full_result_count = False

    def get_queryset(self, request):
        return shipment_list_late(queryset=super().get_queryset(request))

    @admin.display(description="Order", ordering="order__number")
    def order_link(self, shipment):
        return format_html(
            '<a href="{}">{}</a>', order_admin_url(order_id=shipment.order_id), shipment.order.number
        )

    @admin.display(description="Customer")
    def customer(self, shipment):
        return shipment.order.email

    @admin.display(description="Days late", ordering="estimated_delivery")
    def days_late(self, shipment):
        return (timezone.localdate() - shipment.estimated_delivery).days
