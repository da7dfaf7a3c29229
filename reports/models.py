"""The export audit log. The app's permissions (export, dashboard) hang off this model."""

from django.conf import settings
from django.db import models


class ExportLog(models.Model):
    class Source(models.TextChoices):
        ADMIN = "admin", "Admin"
        COMMAND = "command", "Command line"

    kind = models.CharField(max_length=32, db_index=True, help_text="Which export, e.g. orders.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    query = models.TextField(blank=True, help_text="The filters, search and selection exported.")
    row_count = models.PositiveIntegerField(
        null=True, blank=True, help_text="Rows written; empty if the download did not finish."
    )
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        permissions = [
            ("export_data", "Can export CSV data"),
            ("view_dashboard", "Can view the KPI dashboard"),
        ]

    def __str__(self):
        return f"{self.kind} by {self.user or self.get_source_display()} at {self.started_at:%Y-%m-%d %H:%M}"
