from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from connectors.easypost.views import easypost_webhook
from connectors.shopify.views import shopify_orders
from connectors.woocommerce.views import woocommerce_orders
from intake.api import api as intake_api

from .views import healthz

admin.site.site_header = "Order management"
admin.site.site_title = "OMS"
admin.site.index_title = "Operations"


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", RedirectView.as_view(pattern_name="portal:lookup", permanent=False)),
    path("admin/reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
    path("track/", include("portal.urls")),
    path("api/v1/", intake_api.urls),
    path("webhooks/shopify/orders", shopify_orders, name="webhook-shopify-orders"),
    path("webhooks/woocommerce/orders", woocommerce_orders, name="webhook-woocommerce-orders"),
    # The EasyPost route keeps the name it had in fulfillment's URLconf: fulfillment:easypost-webhook.
    path(
        "webhooks/",
        include(([path("carriers/easypost", easypost_webhook, name="easypost-webhook")], "fulfillment")),
    ),
]
