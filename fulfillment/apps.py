from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    verbose_name = "Fulfilment and shipping"

    def ready(self):
        from orders.notifications import email_context_provider_register

        from .notifications import order_email_context
        from .queues import register_home_queues

        email_context_provider_register(order_email_context)
        register_home_queues()
