from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Order management"
admin.site.site_title = "OMS"
admin.site.index_title = "Operations"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="portal:lookup", permanent=False)),
    path("admin/reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
    path("track/", include("portal.urls")),
]
