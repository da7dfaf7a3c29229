"""Warehouse staff pages, served inside the admin (admin_site.admin_view adds login and CSRF):
building and printing pick lists, the scan-to-pack station and the packing slip.

Every page works without JavaScript and without a mouse: a keyboard-wedge scanner types into
the autofocused field and presses Enter, and each scan is one server round trip.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from core.exceptions import DomainError
from inventory.models import Warehouse

from .exceptions import PackScanRefused
from .models import Carrier, PickList, ServiceLevel, Shipment
from .packing import shipment_get_by_barcode, shipment_pack_reset, shipment_pack_scan
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
    return render(request, "fulfillment/pack_station.html", {"shipment": None, "lines": []})


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
    context = {
        "shipment": shipment,
        "lines": lines,
        "units": sum(ln.quantity for ln in lines),
        "units_packed": sum(ln.quantity_packed for ln in lines),
        "packable": shipment.status in (Shipment.Status.PENDING, Shipment.Status.PICKING),
    }
    return render(request, "fulfillment/pack_station.html", context)


def _pack_post(request, pk):
    here = _packing_url(pk)
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
    try:
        scan = shipment_pack_scan(shipment_id=pk, code=code, actor=request.user)
    except PackScanRefused as exc:
        messages.error(request, str(exc), extra_tags="scan-refused")
        return HttpResponseRedirect(here)
    except DomainError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(here)
    line = scan.line
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
