from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Customer messages"

    def ready(self):
        from .queues import register_home_queues

        register_home_queues()
