from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    verbose_name = "Fulfilment and shipping"

    def ready(self):
        from core.admin_extensions import admin_extend
        from orders.models import Order
        from orders.notifications import email_context_provider_register

        from .admin import ORDER_LIST_ACTIONS, ORDER_PAGE_ACTIONS, ShipmentInline
        from .next_steps import order_parcel_steps
        from .notifications import order_email_context
        from .queues import register_home_queues

        email_context_provider_register(order_email_context)
        register_home_queues()
        admin_extend(
            Order,
            inlines=[ShipmentInline],
            object_actions=ORDER_PAGE_ACTIONS,
            changelist_actions=ORDER_LIST_ACTIONS,
            next_steps=[order_parcel_steps],
        )
