"""Manager pages: the filtered-list CSV export and the KPI dashboard. Thin: parse, call, render."""

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from core.csv_stream import csv_response

from . import selectors
from .charts import horizontal_bars, stacked_bars
from .exports import EXPORTS, ExportKind, column_kinds, export_rows
from .models import ExportLog
from .services import export_log_finish, export_log_start, export_user_can, kpi_dashboard_refresh

BOM_PARAM = "bom"


def export_response(*, request, export: ExportKind, queryset, query: str, bom: bool = False):
    """Log the export (raises ExportNotAllowed) and stream it; the log gets its row count at the end."""
    log = export_log_start(user=request.user, export=export, source=ExportLog.Source.ADMIN, query=query)
    return csv_response(
        export.filename,
        export.headers,
        export_rows(export, queryset),
        bom=bom,
        kinds=column_kinds(export, queryset),
        on_row_count=lambda n: export_log_finish(log_id=log.pk, row_count=n),
    )


def export_changelist(request, kind: str):
    """Export every row of an admin list as it is filtered and searched now (the query string)."""
    export = EXPORTS.get(kind)
    if export is None:
        raise Http404("No such export.")
    model_admin = admin.site._registry.get(export.admin_model)
    if model_admin is None:
        raise Http404("No such export.")
    if not (export_user_can(user=request.user, export=export) and model_admin.has_view_permission(request)):
        raise PermissionDenied
    opts = export.admin_model._meta
    changelist_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    bom = request.GET.get(BOM_PARAM) == "1"
    params = request.GET.copy()
    for name in (BOM_PARAM, PAGE_VAR):
        params.pop(name, None)
    request.GET = params  # the changelist reads its filters from here; ours must not reach it
    try:
        changelist = model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters:
        messages.error(request, "Those list filters are not valid; nothing was exported.")
        return HttpResponseRedirect(changelist_url)
    queryset = export.from_admin(changelist.get_queryset(request))
    return export_response(
        request=request, export=export, queryset=queryset, query=params.urlencode(), bom=bom
    )


class DateRangeForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    DEFAULT_DAYS = 30
    MAX_DAYS = 366 * 3

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - dt.timedelta(days=self.DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError("The start date must not be after the end date.")
        if (end - start).days > self.MAX_DAYS:
            raise forms.ValidationError(f"Choose at most {self.MAX_DAYS} days.")
        data["start"], data["end"] = start, end
        return data


def dashboard(request):
    """The KPI dashboard: orders, backlog, lead time, on-time shipping, backorders, returns, stock.

    Brings the daily rollups up to date first (what changed since the last view, within a bounded
    time: reports.services.kpi_dashboard_refresh), then reads them.
    """
    if not request.user.has_perm("reports.view_dashboard"):
        raise PermissionDenied
    form = DateRangeForm(request.GET or None)
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    else:
        default = DateRangeForm({})
        default.is_valid()
        start, end = default.cleaned_data["start"], default.cleaned_data["end"]
        if not form.is_bound:
            form = DateRangeForm(initial={"start": start, "end": end})
    freshness = kpi_dashboard_refresh()
    now = timezone.now()

    daily = selectors.order_list_daily_counts_by_channel(start=start, end=end)
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    channels = sorted({r["channel__name"] for r in daily})
    counts = {(r["day"], r["channel__name"]): r["orders"] for r in daily}
    daily_chart = stacked_bars(
        [d.strftime("%m-%d") for d in days],
        [(c, [counts.get((d, c), 0) for d in days]) for c in channels],
        title="Orders per day by channel",
    )

    backlog = selectors.order_get_backlog(now=now)
    bucket_keys = [*[(k, label) for k, label, _, _ in selectors.AGE_BUCKETS], selectors.OLDEST_BUCKET[:2]]
    backlog_chart = stacked_bars(
        [row["label"] for row in backlog],
        [(label, [row[key] for row in backlog]) for key, label in bucket_keys],
        title="Open orders by state and age",
        height=220,
    )

    returns = selectors.return_get_summary(start=start, end=end)
    reasons_chart = horizontal_bars(
        [(r["label"], r["units"], f"{r['units']} ({r['rate']}%)") for r in returns["reasons"]],
        title="Units returned by reason",
    )
    product_chart = horizontal_bars(
        [(r["sku"], float(r["rate"] or 0), f"{r['rate']}%") for r in returns["products"]],
        title="Return rate by product",
    )
    low_stock, low_stock_total = selectors.stock_list_low()

    context = {
        **admin.site.each_context(request),
        "title": "KPI dashboard",
        "form": form,
        "start": start,
        "end": end,
        "orders_total": sum(r["orders"] for r in daily),
        "daily_chart": daily_chart,
        "backlog": backlog,
        "backlog_keys": bucket_keys,
        "backlog_rows": [
            (row["label"], [row[key] for key, _ in bucket_keys], row["total"]) for row in backlog
        ],
        "backlog_total": sum(r["total"] for r in backlog),
        "backlog_chart": backlog_chart,
        "lead_time": selectors.order_get_lead_time(start=start, end=end),
        "on_time": selectors.shipment_get_on_time(start=start, end=end, today=timezone.localdate()),
        "backorders": selectors.order_get_backorder_rate(start=start, end=end),
        "postage": selectors.shipment_list_postage(start=start, end=end),
        "returns": returns,
        "reasons_chart": reasons_chart,
        "by_product": returns["products"],
        "product_chart": product_chart,
        "low_stock": low_stock,
        "low_stock_total": low_stock_total,
        "freshness": freshness,
    }
    return TemplateResponse(request, "reports/dashboard.html", context)
