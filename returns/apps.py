from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = "Returns"

    def ready(self):
        from core.admin_extensions import admin_extend
        from core.outbox.registry import delivery_handler_register
        from fulfillment.tracking import tracking_claimer_register
        from orders.edit_hooks import edit_refunder_register
        from orders.models import Order
        from orders.payments import payment_redeemer_register

        from .admin import ReturnInline
        from .credit import METHOD, StoreCreditRedeemer
        from .edits import EditRefunder
        from .labels import RETURN_LABEL, return_label_send, return_tracking_claim
        from .next_steps import order_return_steps
        from .queues import register_home_queues

        # Return labels: bought after approval (delivery log); their tracking moves the return.
        delivery_handler_register(topic=RETURN_LABEL, handler=return_label_send)
        tracking_claimer_register(return_tracking_claim)

        # Orders collect store-credit payments through this (orders may not import returns).
        payment_redeemer_register(method=METHOD, redeemer=StoreCreditRedeemer())
        # What an order edit takes off a paid order is paid back as a refund (or store credit).
        edit_refunder_register(EditRefunder())
        register_home_queues()
        admin_extend(Order, inlines=[ReturnInline], next_steps=[order_return_steps])
