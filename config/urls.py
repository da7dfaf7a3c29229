from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Order management"
admin.site.site_title = "OMS"
admin.site.index_title = "Operations"


def healthz(request):
    """Liveness probe (and the benchmarks' trivial-view baseline): no database, no templates."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", RedirectView.as_view(pattern_name="portal:lookup", permanent=False)),
    path("admin/", admin.site.urls),
    path("track/", include("portal.urls")),
]
