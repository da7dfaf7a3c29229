"""The order page's “Edit order” and “Cancel lines” steps: object actions with pages of their own
(core.admin_actions, `view=`), offered while the state machine allows an edit (`order.edit`).

Edit order: the lines as a formset (the phone-order page's product search), the shipping address,
speed and shipping price, the reason, and whether the customer paid the difference, gets it back
as store credit, or isn't e-mailed. Cancel lines: how many units of each line not to ship. Both
first show a preview of the difference and the money (orders.services.order_edit_preview: the edit
run and rolled back), and run only from the preview's own button, for exactly what was previewed.

Registered on the order admin from OrdersConfig.ready() (admin_extend), beside its own steps.
"""

import hashlib
from itertools import zip_longest

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

from core.admin_actions import REFUSALS, ObjectAction, refusal_text
from core.admin_extensions import admin_extend
from inventory.admin import ProductAutocomplete
from inventory.models import Product

from ..edits import MAX_LINE_QUANTITY, LineEdit, OrderEdit
from ..inputs import AddressInput
from ..models import Order, OrderLine
from ..services import order_edit, order_edit_preview, order_lines_cancel, order_lines_cancel_preview

S = Order.Status
WAITS = {S.ON_HOLD, S.BACKORDERED}


class EditMoneyForm(forms.Form):
    reason = forms.CharField(label="Why (kept on the timeline)", max_length=500)
    refund_to_store_credit = forms.BooleanField(
        label="Pay back as store credit (a code for the customer) instead of to the payment",
        required=False,
    )
    silent = forms.BooleanField(label="Don't e-mail the customer", required=False)


class EditOrderForm(EditMoneyForm):
    ship_name = forms.CharField(label="Ship to (name)", max_length=200, required=False)
    company = forms.CharField(max_length=200, required=False)
    line1 = forms.CharField(label="Street", max_length=255, required=False)
    line2 = forms.CharField(label="Street (2)", max_length=255, required=False)
    city = forms.CharField(max_length=100, required=False)
    region = forms.CharField(label="Region / state", max_length=100, required=False)
    postal_code = forms.CharField(max_length=20, required=False)
    country = forms.RegexField(
        regex=r"^[A-Za-z]{2}$", max_length=2, required=False, help_text="ISO code, e.g. US, GB, DE"
    )
    phone = forms.CharField(max_length=40, required=False)
    shipping_speed = forms.ChoiceField(choices=Order.ShippingSpeed.choices)
    shipping_total = forms.DecimalField(label="Shipping price", max_digits=10, decimal_places=2, min_value=0)
    payment_collected = forms.BooleanField(
        label="The customer has paid what the change adds (e.g. card taken on the phone)", required=False
    )
    field_order = [
        "ship_name",
        "company",
        "line1",
        "line2",
        "city",
        "region",
        "postal_code",
        "country",
        "phone",
        "shipping_speed",
        "shipping_total",
        "reason",
        "payment_collected",
        "refund_to_store_credit",
        "silent",
    ]

    ADDRESS = {"ship_name": "name", **{f: f for f in ["company", "line1", "line2", "city", "region"]}}
    ADDRESS |= {"postal_code": "postal_code", "country": "country", "phone": "phone"}

    @classmethod
    def initial_for(cls, order: Order) -> dict:
        address = order.shipping_address
        initial = {field: getattr(address, name) for field, name in cls.ADDRESS.items()} if address else {}
        return {**initial, "shipping_speed": order.shipping_speed, "shipping_total": order.shipping_total}

    def address_input(self) -> AddressInput | None:
        """The address as typed; None when every field is empty (the address doesn't change)."""
        values = {name: self.cleaned_data.get(field) or "" for field, name in self.ADDRESS.items()}
        return AddressInput(**values) if any(values.values()) else None


class EditLineForm(forms.Form):
    line = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # The admin's product search: SKU, name or barcode; each match shows its price and stock.
    product = forms.ModelChoiceField(
        queryset=Product.objects.all(),
        required=False,
        widget=ProductAutocomplete(
            OrderLine._meta.get_field("product"), admin.site, attrs={"style": "width: 26em"}
        ),
    )
    quantity = forms.IntegerField(min_value=0, max_value=MAX_LINE_QUANTITY, help_text="0 removes it")
    unit_price = forms.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, required=False, help_text="Empty: list price"
    )


EditLineFormSet = forms.formset_factory(EditLineForm, extra=2)


def _digest(*parts) -> str:
    """What the preview showed, so the confirmation runs exactly that."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _lines_changes(formset) -> list[LineEdit]:
    edits = []
    for data in (f.cleaned_data for f in formset.forms):
        if not data or (data.get("line") is None and data.get("product") is None):
            continue  # an empty row for a new line
        product = data.get("product")
        edits.append(
            LineEdit(
                line_id=data.get("line"),
                sku=product.sku if product is not None else "",
                quantity=data["quantity"],
                unit_price=data.get("unit_price"),
            )
        )
    return edits


def _done(result) -> str:
    order = result.order
    if not result.changed:
        return f"{order.number}: nothing to change."
    text = f"{order.number} changed: {result.money.text} {result.refund_text}".strip()
    return text + f" It is now {order.get_status_display().lower()}."


def _edit(order, user, data) -> str:
    """Run the edit previewed on the page: `data` holds the OrderEdit, the reason and notify."""
    return _done(
        order_edit(
            order_id=order.pk,
            changes=data["changes"],
            actor=user,
            reason=data["reason"],
            notify=data["notify"],
        )
    )


def _cancel_lines(order, user, data) -> str:
    """Cancel the units previewed on the page: `data` holds the quantities and the money fields."""
    return _done(
        order_lines_cancel(
            order_id=order.pk,
            quantities=data["quantities"],
            actor=user,
            reason=data["reason"],
            notify=data["notify"],
            refund_to_store_credit=data["refund_to_store_credit"],
        )
    )


def _render(model_admin, request, order, template: str, context: dict):
    preview = context.get("preview")
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": order,
        "subtitle": str(order),
        "change_url": model_admin.object_change_url(order),
        "status_before": S(preview.status_before).label if preview else "",
        **context,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, template, context)


def _run(model_admin, request, order, *, form, digest, action, data, preview):
    """Preview, or, when the preview's own button sent exactly what was previewed, run the
    action's handler. Returns (response, preview result)."""
    try:
        if request.POST.get("confirm") == digest:
            text = action.handler(order, request.user, data)
            status = Order.objects.values_list("status", flat=True).get(pk=order.pk)
            model_admin.message_user(request, text, messages.WARNING if status in WAITS else messages.SUCCESS)
            return HttpResponseRedirect(model_admin.object_change_url(order)), None
        return None, preview()
    except REFUSALS as exc:
        form.add_error(None, refusal_text(exc, order))
        return None, None


def order_edit_view(model_admin, request, order):
    """Edit order: lines, address, speed and shipping price; preview, then confirm."""
    lines = list(order.lines.select_related("product").order_by("pk"))
    initial = [
        {"line": ln.pk, "product": ln.product_id, "quantity": ln.quantity, "unit_price": ln.unit_price}
        for ln in lines
    ]
    data = request.POST if request.method == "POST" else None
    form = EditOrderForm(data, initial=EditOrderForm.initial_for(order))
    formset = EditLineFormSet(data, prefix="lines", initial=initial)
    preview = digest = None
    if data is not None and form.is_valid() and formset.is_valid():
        d = form.cleaned_data
        changes = OrderEdit(
            lines=_lines_changes(formset),
            shipping_address=form.address_input(),
            shipping_speed=d["shipping_speed"],
            shipping_total=d["shipping_total"],
            payment_collected=d["payment_collected"],
            refund_to_store_credit=d["refund_to_store_credit"],
        )
        digest = _digest(changes, d["reason"], d["silent"])
        response, preview = _run(
            model_admin,
            request,
            order,
            form=form,
            digest=digest,
            action=EDIT,
            data={"changes": changes, "reason": d["reason"], "notify": not d["silent"]},
            preview=lambda: order_edit_preview(
                order_id=order.pk, changes=changes, actor=request.user, reason=d["reason"]
            ),
        )
        if response is not None:
            return response
    rows = [(f, line) for f, line in zip_longest(formset.forms, lines)]
    return _render(
        model_admin,
        request,
        order,
        "admin/orders/order_edit.html",
        {
            "title": "Edit order",
            "form": form,
            "formset": formset,
            "rows": rows,
            "preview": preview,
            "digest": digest,
            "media": model_admin.media + form.media + formset.media,
        },
    )


class CancelLinesForm(EditMoneyForm):
    """Units to cancel per line (only lines with units not yet shipped), then the money fields."""

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        reason, credit, silent = (self.fields.pop(n) for n in ["reason", "refund_to_store_credit", "silent"])
        self.lines = [ln for ln in lines if ln.quantity > ln.quantity_shipped]
        for line in self.lines:
            left = line.quantity - line.quantity_shipped
            self.fields[f"cancel_{line.pk}"] = forms.IntegerField(
                label=f"{line.sku} · {line.name}",
                min_value=0,
                max_value=left,
                initial=0,
                help_text=f"{left} of {line.quantity} not yet shipped, at {line.unit_price}",
            )
        self.fields.update({"reason": reason, "refund_to_store_credit": credit, "silent": silent})

    def quantities(self) -> dict[int, int]:
        return {
            ln.pk: self.cleaned_data[f"cancel_{ln.pk}"]
            for ln in self.lines
            if self.cleaned_data[f"cancel_{ln.pk}"]
        }


def order_lines_cancel_view(model_admin, request, order):
    """Cancel lines: units per line that won't ship (short-ship); preview, then confirm."""
    lines = list(order.lines.order_by("pk"))
    data = request.POST if request.method == "POST" else None
    form = CancelLinesForm(data, lines=lines)
    preview = digest = None
    if data is not None and form.is_valid():
        d = form.cleaned_data
        quantities = form.quantities()
        digest = _digest(sorted(quantities.items()), d["reason"], d["silent"], d["refund_to_store_credit"])
        response, preview = _run(
            model_admin,
            request,
            order,
            form=form,
            digest=digest,
            action=CANCEL_LINES,
            data={
                "quantities": quantities,
                "reason": d["reason"],
                "notify": not d["silent"],
                "refund_to_store_credit": d["refund_to_store_credit"],
            },
            preview=lambda: order_lines_cancel_preview(
                order_id=order.pk,
                quantities=quantities,
                actor=request.user,
                reason=d["reason"],
                refund_to_store_credit=d["refund_to_store_credit"],
            ),
        )
        if response is not None:
            return response
    adminform = admin.helpers.AdminForm(form, [(None, {"fields": list(form.fields)})], {})
    return _render(
        model_admin,
        request,
        order,
        "admin/orders/order_lines_cancel.html",
        {
            "title": "Cancel lines",
            "form": form,
            "adminform": adminform,
            "preview": preview,
            "digest": digest,
            "media": model_admin.media + form.media,
        },
    )


EDIT = ObjectAction(
    "edit",
    "Edit order",
    _edit,
    transition="edit",
    permission="orders.change_order",
    order=60,
    view=order_edit_view,
)
CANCEL_LINES = ObjectAction(
    "cancel_lines",
    "Cancel lines",
    _cancel_lines,
    transition="edit",
    permission="orders.change_order",
    style="danger",
    order=85,
    view=order_lines_cancel_view,
)
ORDER_EDIT_ACTIONS = (EDIT, CANCEL_LINES)


def order_edit_admin_extend() -> None:
    """The edit steps on the order page (called from OrdersConfig.ready())."""
    admin_extend(Order, object_actions=ORDER_EDIT_ACTIONS)
