"""The channel connections in the admin: credentials (a password input, never shown again, blank
keeps the saved one), where our warehouses are in the shop, "not connected" / "credentials
refused", and "Reconcile stock now": the drift between the shop's levels and ours, fixed in one
click. The delivery log itself is core's (admin › Deliveries)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.outbox.services import delivery_target_resume
from inventory.models import Product

from .channels import channel_plans_forget
from .credentials import credentials_key_ready
from .models import ShopifyConnection, ShopifyLocation, StockListing, WooCommerceConnection
from .reconcile import ReconcileError, stock_reconcile
from .stock import stock_drift_fix, stock_levels_queue

KEEP = "Stored encrypted; never shown again. Leave empty to keep the saved one."


class ConnectionForm(forms.ModelForm):
    """Secret fields as password inputs that are never filled in: empty keeps what is saved."""

    secret_fields: tuple[str, ...] = ()
    forget_credentials = forms.BooleanField(
        required=False, label="Disconnect", help_text="Forget the saved credentials: nothing more is sent."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.secret_fields:
            model_field = self._meta.model._meta.get_field(name)
            self.fields[name] = forms.CharField(
                label=model_field.verbose_name.capitalize(),
                required=False,
                strip=True,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                help_text=f"{model_field.help_text} {KEEP}",
            )
            self.initial[name] = ""

    def clean(self):
        cleaned = super().clean()
        self.credentials_given = False
        for name in self.secret_fields:
            value = cleaned.get(name) or ""
            if cleaned.get("forget_credentials"):
                cleaned[name] = ""
            elif value:
                self.credentials_given = True
                if not credentials_key_ready():
                    self.add_error(
                        name,
                        "This can't be stored: OMS_CREDENTIALS_KEY is not set on the server (or is not a "
                        "Fernet key), and credentials are only stored encrypted. Set it and restart.",
                    )
            else:
                cleaned[name] = getattr(self.instance, name, "")
        self.credentials_given = self.credentials_given or bool(cleaned.get("forget_credentials"))
        return cleaned


class ShopifyConnectionForm(ConnectionForm):
    secret_fields = ("access_token",)

    class Meta:
        model = ShopifyConnection
        fields = [
            "channel", "shop_domain", "access_token", "notify_customer", "cancel_refund", "cancel_restock",
            "push_stock", "safety_buffer", "base_url",
        ]  # fmt: skip


class WooCommerceConnectionForm(ConnectionForm):
    secret_fields = ("consumer_key", "consumer_secret")

    class Meta:
        model = WooCommerceConnection
        fields = [
            "channel", "store_url", "consumer_key", "consumer_secret", "push_stock", "safety_buffer",
            "warehouses", "base_url",
        ]  # fmt: skip


class ShopifyLocationInline(admin.TabularInline):
    model = ShopifyLocation
    extra = 1
    autocomplete_fields = ["warehouse"]
    verbose_name = "warehouse in the shop"
    verbose_name_plural = "Our warehouses as Shopify locations (fulfilments and stock go to these)"


class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["channel", "address", "connection_status", "push_stock", "safety_buffer"]
    list_select_related = ["channel"]
    readonly_fields = [
        "connection_status",
        "credentials_refused_at",
        "credentials_refused_reason",
        "reconcile_link",
    ]
    actions = ["reconcile_now"]
    autocomplete_fields = ["channel"]

    @admin.display(description="Status")
    def connection_status(self, connection):
        label = connection.status_label
        if label == "credentials refused":
            return format_html('<strong class="errornote">{}</strong>', label)
        return label

    @admin.display(description="Stock")
    def reconcile_link(self, connection):
        if not connection.pk:
            return "—"
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_reconcile", args=[connection.pk])
        return format_html('<a class="button" href="{}">Reconcile stock now</a>', url)

    def save_model(self, request, obj, form, change):
        resume = getattr(form, "credentials_given", False)
        if resume:
            obj.credentials_refused_at = None
            obj.credentials_refused_reason = ""
        super().save_model(request, obj, form, change)
        channel_plans_forget()
        if resume and obj.is_connected:
            resumed = delivery_target_resume(target=obj.target)
            # Levels that moved while it was paused (none were queued then) go out now.
            moved = stock_levels_queue(
                product_ids=Product.objects.values_list("pk", flat=True), channel_ids={obj.channel_id}
            )
            if resumed or moved:
                self.message_user(
                    request,
                    f"{resumed} paused deliveries are sent again; {moved} stock levels that moved "
                    "are queued.",
                    messages.SUCCESS,
                )

    # --- reconciliation --------------------------------------------------------------------------
    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_reconcile"
        return [
            path("<path:object_id>/reconcile/", self.admin_site.admin_view(self.reconcile_view), name=name),
            *super().get_urls(),
        ]

    @admin.action(description="Reconcile stock now", permissions=["change"])
    def reconcile_now(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose one connection to reconcile.", messages.WARNING)
            return None
        url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_reconcile", args=[queryset.get().pk]
        )
        return HttpResponseRedirect(url)

    def reconcile_view(self, request, object_id):
        connection = get_object_or_404(self.model, pk=object_id)
        if not self.has_change_permission(request, connection):
            raise PermissionDenied
        result, error = None, ""
        try:
            result = stock_reconcile(channel=connection.channel)
        except ReconcileError as exc:
            error = str(exc)
        if request.method == "POST" and result is not None:
            queued = stock_drift_fix(reconciliation=result) if result.drift else 0
            self.message_user(
                request,
                f"{queued} stock pushes queued for {connection.channel}; the worker sends them "
                "(admin › Deliveries shows each).",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": connection,
            "title": f"Stock drift: {connection.channel}",
            "result": result,
            "error": error,
            "deliveries_url": reverse("admin:core_delivery_changelist")
            + f"?q=channel:{connection.channel_id}",
        }
        return TemplateResponse(request, "admin/connectors/reconcile.html", context)


@admin.register(ShopifyConnection)
class ShopifyConnectionAdmin(ConnectionAdmin):
    form = ShopifyConnectionForm
    inlines = [ShopifyLocationInline]
    fieldsets = [
        (
            None,
            {"fields": ["channel", "shop_domain", "access_token", "forget_credentials", "connection_status"]},
        ),
        ("What Shopify hears", {"fields": ["notify_customer", "cancel_refund", "cancel_restock"]}),
        ("Stock", {"fields": ["push_stock", "safety_buffer", "reconcile_link"]}),
        (
            "Advanced",
            {
                "fields": ["base_url", "credentials_refused_at", "credentials_refused_reason"],
                "classes": ["collapse"],
            },
        ),
    ]

    @admin.display(description="Shop")
    def address(self, connection):
        return connection.shop_domain


@admin.register(WooCommerceConnection)
class WooCommerceConnectionAdmin(ConnectionAdmin):
    form = WooCommerceConnectionForm
    filter_horizontal = ["warehouses"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "channel",
                    "store_url",
                    "consumer_key",
                    "consumer_secret",
                    "forget_credentials",
                    "connection_status",
                ]
            },
        ),
        ("Stock", {"fields": ["push_stock", "safety_buffer", "warehouses", "reconcile_link"]}),
        (
            "Advanced",
            {
                "fields": ["base_url", "credentials_refused_at", "credentials_refused_reason"],
                "classes": ["collapse"],
            },
        ),
    ]

    @admin.display(description="Store")
    def address(self, connection):
        return connection.store_url


@admin.register(StockListing)
class StockListingAdmin(admin.ModelAdmin):
    """Our SKUs as each channel knows them: its id (found once; correct it here if the shop's
    product was replaced) and the levels last queued and accepted."""

    list_display = [
        "product",
        "channel",
        "remote_id",
        "remote_parent_id",
        "level_queued",
        "level_pushed",
        "pushed_at",
    ]
    list_filter = ["channel"]
    list_select_related = ["product", "channel"]
    search_fields = ["product__sku", "remote_id"]
    fields = [
        "channel",
        "product",
        "remote_id",
        "remote_parent_id",
        "level_queued",
        "level_pushed",
        "pushed_at",
    ]
    readonly_fields = ["channel", "product", "level_queued", "level_pushed", "pushed_at"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


from .subscribers import admin as subscribers_admin  # noqa: E402,F401  registers SubscriptionAdmin
