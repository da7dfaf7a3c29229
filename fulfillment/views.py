"""Warehouse staff pages, served inside the admin (admin_site.admin_view adds login and CSRF):
building and printing pick lists, the scan-to-pack station and the packing slip.

Every page works without JavaScript and without a mouse: a keyboard-wedge scanner types into
the autofocused field and presses Enter, and each scan is one server round trip.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from core.exceptions import DomainError
from inventory.models import Warehouse

from .batch import pick_list_labels_buy, pick_list_labels_document
from .exceptions import PackScanRefused
from .gateway import carrier_gateway_for
from .gateway.types import LABEL_CONTENT_TYPES, LabelFormat
from .labels import label_rates, rate_options, shipment_active_label, shipment_label_buy, shipment_label_void
from .models import Box, Carrier, LabelRecord, PackingStation, PickList, ServiceLevel, Shipment, ShippingLabel
from .packing import (
    box_get_by_code,
    shipment_box_set,
    shipment_get_by_barcode,
    shipment_pack_reset,
    shipment_pack_scan,
    shipment_repack,
)
from .picking import pick_list_create
from .selectors import pick_list_get_for_print, shipment_get_for_packing

PACK_PERMISSION = "fulfillment.change_shipment"


class PickListForm(forms.Form):
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.filter(is_active=True))
    carrier = forms.ModelChoiceField(
        queryset=Carrier.objects.filter(is_active=True), required=False, empty_label="Any carrier"
    )
    service_level = forms.ModelChoiceField(
        queryset=ServiceLevel.objects.filter(is_active=True).select_related("carrier"),
        required=False,
        empty_label="Any service",
    )
    cutoff_by = forms.TimeField(
        required=False,
        label="Pickup cutoff by",
        help_text="Only services whose daily cutoff is at or before this time (HH:MM), e.g. 15:00.",
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    limit = forms.IntegerField(
        required=False, min_value=1, max_value=10_000, label="At most", help_text="shipments on this list"
    )


def pick_list_create_view(request, admin_site):
    if not request.user.has_perm("fulfillment.add_picklist"):
        raise PermissionDenied
    form = PickListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            pick_list = pick_list_create(
                warehouse_id=data["warehouse"].pk,
                carrier_id=data["carrier"].pk if data["carrier"] else None,
                service_level_id=data["service_level"].pk if data["service_level"] else None,
                cutoff_by=data["cutoff_by"],
                limit=data["limit"],
                actor=request.user,
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Pick list {pick_list.number}: {pick_list.shipment_count} shipments, "
                f"{pick_list.unit_count} units. They are now being picked.",
            )
            return HttpResponseRedirect(reverse("admin:fulfillment_picklist_print", args=[pick_list.pk]))
    context = {
        **admin_site.each_context(request),
        "title": "Build a pick list",
        "form": form,
        "opts": PickList._meta,
    }
    return render(request, "fulfillment/pick_list_form.html", context)


def pick_list_print_view(request, pk):
    if not request.user.has_perm("fulfillment.view_picklist"):
        raise PermissionDenied
    try:
        pick_list = pick_list_get_for_print(pick_list_id=pk)
    except PickList.DoesNotExist:
        raise Http404("No such pick list.") from None
    return render(
        request,
        "fulfillment/pick_list_print.html",
        {"pick_list": pick_list, "lines": pick_list.lines.all(), "shipments": pick_list.shipments.all()},
    )


def _packing_url(shipment_id: int) -> str:
    return reverse("admin:fulfillment_shipment_pack", args=[shipment_id])


STATION_SESSION_KEY = "fulfillment.pack_station"


def current_station(request) -> PackingStation | None:
    """The packing station this browser is at (chosen on the station page, kept in the session)."""
    if "station" in request.GET:
        chosen = PackingStation.objects.filter(pk=request.GET["station"] or None, is_active=True).first()
        request.session[STATION_SESSION_KEY] = chosen.pk if chosen else None
        return chosen
    pk = request.session.get(STATION_SESSION_KEY)
    return PackingStation.objects.filter(pk=pk, is_active=True).first() if pk else None


def _station_context(request) -> dict:
    return {"station": current_station(request), "stations": PackingStation.objects.filter(is_active=True)}


def pack_station_view(request):
    """Scan a shipment's barcode to start packing it."""
    if not request.user.has_perm(PACK_PERMISSION):
        raise PermissionDenied
    if request.method == "POST":
        try:
            shipment = shipment_get_by_barcode(code=request.POST.get("code", ""))
        except DomainError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(reverse("admin:fulfillment_shipment_pack_station"))
        return HttpResponseRedirect(_packing_url(shipment.pk))
    return render(
        request, "fulfillment/pack_station.html", {"shipment": None, "lines": [], **_station_context(request)}
    )


def pack_shipment_view(request, pk):
    """Scan each unit into the box. Scanning another shipment's number switches to it."""
    if not request.user.has_perm(PACK_PERMISSION):
        raise PermissionDenied
    if not Shipment.objects.filter(pk=pk).exists():
        raise Http404("No such shipment.")
    if request.method == "POST":
        return _pack_post(request, pk)
    shipment = shipment_get_for_packing(shipment_id=pk)
    lines = list(shipment.lines.all())
    gateway = carrier_gateway_for(shipment.carrier)
    label = shipment_active_label(shipment)
    options = rate_options(rates=label_rates(label), gateway_code=gateway.code) if label else []
    context = {
        "shipment": shipment,
        "lines": lines,
        "units": sum(ln.quantity for ln in lines),
        "units_packed": sum(ln.quantity_packed for ln in lines),
        "packable": shipment.status in (Shipment.Status.PENDING, Shipment.Status.PICKING),
        "packed": shipment.status == Shipment.Status.PACKED,
        "buys_labels": gateway.buys_labels,
        "gateway": gateway,
        "label": label,
        "rate_options": [o for o in options if o.service_level is not None],
        "boxes": Box.objects.filter(is_active=True),
        **_station_context(request),
    }
    return render(request, "fulfillment/pack_station.html", context)


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _buy_label(request, pk, **kwargs):
    """Buy the shipment's label at this station; the label page on success, back here if not."""
    try:
        outcome = shipment_label_buy(
            shipment_id=pk, station=current_station(request), actor=request.user, **kwargs
        )
    except DomainError as exc:
        messages.error(request, f"No label: {exc}")
        return HttpResponseRedirect(_packing_url(pk))
    label = outcome.label
    messages.success(
        request,
        f"Label bought: {label.carrier_name} {label.service_name}, tracking {label.tracking_number}, "
        f"postage {label.postage} {label.currency}.",
    )
    return HttpResponseRedirect(reverse("admin:fulfillment_shipment_label", args=[pk]) + "?autoprint=1")


def _label_post(request, pk):
    """The label panel's buttons: buy (with a box, dimensions or another rate), void, repack."""
    here = _packing_url(pk)
    post = request.POST
    if post.get("void_label"):
        try:
            shipment_label_void(shipment_id=pk, reason=post.get("reason", ""), actor=request.user)
            messages.warning(request, "Label voided; the postage refund is requested from the carrier.")
        except DomainError as exc:
            messages.error(request, str(exc))
        return HttpResponseRedirect(here)
    if post.get("repack"):
        try:
            shipment_repack(shipment_id=pk, reason=post.get("reason", ""), actor=request.user)
            messages.warning(request, "Box opened: scan every item again.")
        except DomainError as exc:
            messages.error(request, str(exc))
        return HttpResponseRedirect(here)
    dims = [_int(post.get(f)) for f in ("length_mm", "width_mm", "height_mm")]
    return _buy_label(
        request,
        pk,
        box_id=_int(post.get("box")),
        dimensions=tuple(dims) if all(dims) else None,
        rate_id=post.get("rate_id", ""),
        reason=post.get("reason", ""),
    )


def _pack_post(request, pk):
    here = _packing_url(pk)
    if request.POST.get("buy_label") or request.POST.get("void_label") or request.POST.get("repack"):
        return _label_post(request, pk)
    if request.POST.get("reset"):
        try:
            shipment_pack_reset(shipment_id=pk, actor=request.user)
            messages.warning(request, "Box emptied: scan every item again.")
        except DomainError as exc:
            messages.error(request, str(exc))
        return HttpResponseRedirect(here)
    code = request.POST.get("code", "").strip()
    if not code:
        return HttpResponseRedirect(here)
    other = Shipment.objects.filter(number__iexact=code).exclude(pk=pk).values_list("pk", flat=True).first()
    if other:
        messages.info(request, f"Switched to shipment {code.upper()}.")
        return HttpResponseRedirect(_packing_url(other))
    box = box_get_by_code(code)
    if box is not None:
        try:
            shipment_box_set(shipment_id=pk, box_id=box.pk, actor=request.user)
            messages.success(request, f"Box: {box}.")
        except DomainError as exc:
            messages.error(request, str(exc))
        return HttpResponseRedirect(here)
    try:
        scan = shipment_pack_scan(shipment_id=pk, code=code, actor=request.user)
    except PackScanRefused as exc:
        messages.error(request, str(exc), extra_tags="scan-refused")
        return HttpResponseRedirect(here)
    except DomainError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(here)
    line = scan.line
    if scan.complete and carrier_gateway_for(scan.shipment.carrier).buys_labels:
        messages.success(request, f"Shipment {scan.shipment.number} is packed.")
        return _buy_label(request, pk)
    if scan.complete:
        messages.success(request, f"Shipment {scan.shipment.number} is packed. Printing its packing slip.")
        return HttpResponseRedirect(
            reverse("admin:fulfillment_shipment_packing_slip", args=[pk]) + "?autoprint=1"
        )
    messages.success(
        request,
        f"OK: {line.order_line.sku} ({line.quantity_packed} of {line.quantity}) — {line.order_line.name}",
    )
    return HttpResponseRedirect(here)


def packing_slip_view(request, pk):
    if not request.user.has_perm("fulfillment.view_shipment"):
        raise PermissionDenied
    try:
        shipment = shipment_get_for_packing(shipment_id=pk)
    except Shipment.DoesNotExist:
        raise Http404("No such shipment.") from None
    return render(
        request,
        "fulfillment/packing_slip.html",
        {
            "shipment": shipment,
            "order": shipment.order,
            "lines": shipment.lines.all(),
            "autoprint": request.GET.get("autoprint") == "1",
        },
    )


def label_view(request, pk):
    """The shipment's label, ready to print in the station's format, with its packing slip."""
    if not request.user.has_perm("fulfillment.view_shipment"):
        raise PermissionDenied
    try:
        shipment = shipment_get_for_packing(shipment_id=pk)
    except Shipment.DoesNotExist:
        raise Http404("No such shipment.") from None
    label = shipment.labels.filter(status=LabelRecord.Status.BOUGHT).first()
    if label is None:
        messages.error(request, f"{shipment.number} has no label yet.")
        return HttpResponseRedirect(_packing_url(pk))
    document_url = reverse("admin:fulfillment_shippinglabel_document", args=[label.pk])
    zpl = bytes(label.document).decode("ascii", "replace") if label.label_format == LabelFormat.ZPL else ""
    return render(
        request,
        "fulfillment/label.html",
        {
            "shipment": shipment,
            "order": shipment.order,
            "label": label,
            "document_url": document_url,
            "zpl": zpl,
            "autoprint": request.GET.get("autoprint") == "1" and label.label_format == LabelFormat.PNG,
        },
    )


def label_response(label: LabelRecord, filename: str) -> HttpResponse:
    """A label's file as stored (inline, so a PDF opens to print), or the carrier's URL when the
    file could not be fetched at purchase."""
    document = bytes(label.document)
    if not document:
        if label.label_url:
            return HttpResponseRedirect(label.label_url)
        raise Http404("This label has no file.")
    response = HttpResponse(
        document, content_type=LABEL_CONTENT_TYPES.get(label.label_format, "application/octet-stream")
    )
    disposition = "attachment" if label.label_format == LabelFormat.ZPL else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}.{label.label_format}"'
    return response


def label_document_view(request, pk):
    if not request.user.has_perm("fulfillment.view_shipment"):
        raise PermissionDenied
    label = ShippingLabel.objects.select_related("shipment").filter(pk=pk).first()
    if label is None:
        raise Http404("No such label.")
    return label_response(label, f"label-{label.shipment.number}")


def pick_list_labels_view(request, pk):
    """Buy the labels of a pick list's packed shipments (one by one, see fulfillment.batch) and
    print them as one document."""
    if not request.user.has_perm(PACK_PERMISSION):
        raise PermissionDenied
    pick_list = PickList.objects.filter(pk=pk).first()
    if pick_list is None:
        raise Http404("No such pick list.")
    station = current_station(request)
    result = None
    if request.method == "POST":
        result = pick_list_labels_buy(pick_list_id=pk, station=station, actor=request.user)
    shipments = list(
        pick_list.shipments.select_related("service_level__carrier", "order").prefetch_related("labels")
    )
    for shipment in shipments:
        shipment.bought = next(
            (lb for lb in shipment.labels.all() if lb.status == LabelRecord.Status.BOUGHT), None
        )
    return render(
        request,
        "fulfillment/pick_list_labels.html",
        {
            "pick_list": pick_list,
            "shipments": shipments,
            "result": result,
            "station": station,
            "formats": [
                f for f in LabelFormat if any(s.bought and s.bought.label_format == f for s in shipments)
            ],
        },
    )


def pick_list_labels_document_view(request, pk, label_format):
    if not request.user.has_perm("fulfillment.view_shipment"):
        raise PermissionDenied
    if label_format not in LabelFormat.values:
        raise Http404("No such format.")
    pick_list = PickList.objects.filter(pk=pk).first()
    if pick_list is None:
        raise Http404("No such pick list.")
    document = pick_list_labels_document(pick_list=pick_list, label_format=label_format)
    if document is None:
        raise Http404("No label of that format on this pick list.")
    if label_format == LabelFormat.PNG:
        return render(request, "fulfillment/labels_sheet.html", {"pick_list": pick_list, "labels": document})
    response = HttpResponse(document, content_type=LABEL_CONTENT_TYPES[label_format])
    disposition = "attachment" if label_format == LabelFormat.ZPL else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="labels-{pick_list.number}.{label_format}"'
    return response
