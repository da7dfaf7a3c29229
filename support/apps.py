from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Customer messages"

    def ready(self):
        from core.admin_extensions import admin_extend
        from orders.models import Order

        from .admin import ThreadInline

        admin_extend(Order, inlines=[ThreadInline])
