"""Mounted at /admin/reports/ (before the admin site, whose app index stays at that exact path)."""

from django.contrib import admin
from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("dashboard/", admin.site.admin_view(views.dashboard), name="dashboard"),
    path("export/<slug:kind>/", admin.site.admin_view(views.export_changelist), name="export"),
]
