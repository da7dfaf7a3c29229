from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self):
        from .admin import reports_admin_extend
        from .queues import register_home_queues

        reports_admin_extend()
        register_home_queues()
