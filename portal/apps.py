from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Customer pages"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
