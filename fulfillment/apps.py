from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    verbose_name = "Fulfilment and shipping"

    def ready(self):
        from core.admin_extensions import admin_extend
        from orders.edit_hooks import edit_shipments_register
        from orders.models import Order
        from orders.notifications import email_context_provider_register

        from .admin import ORDER_PAGE_ACTIONS, ShipmentInline
        from .edits import ShipmentsEditHook
        from .notifications import order_email_context
        from .queues import register_home_queues

        email_context_provider_register(order_email_context)
        # Order edits respect the shipments being worked on and rebuild the ones not picked yet.
        edit_shipments_register(ShipmentsEditHook())
        register_home_queues()
        admin_extend(Order, inlines=[ShipmentInline], object_actions=ORDER_PAGE_ACTIONS)
