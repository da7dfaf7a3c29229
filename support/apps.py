from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Customer messages"

    def ready(self):
        from core.admin_extensions import admin_extend
        from orders.models import Order

        from .admin import ThreadInline
        from .queues import register_home_queues

        admin_extend(Order, inlines=[ThreadInline])
        register_home_queues()
