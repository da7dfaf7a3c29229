from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Customer messages"

    def ready(self):
        from core.admin_extensions import admin_extend
        from orders.models import Order

        from .admin import ThreadInline
        from .next_steps import order_message_steps
        from .queues import register_home_queues

        admin_extend(Order, inlines=[ThreadInline], next_steps=[order_message_steps])
        register_home_queues()
