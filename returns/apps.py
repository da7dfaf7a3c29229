from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = "Returns"

    def ready(self):
        from core.admin_extensions import admin_extend
        from orders.edit_hooks import edit_refunder_register
        from orders.models import Order
        from orders.payments import payment_redeemer_register

        from .admin import ReturnInline
        from .credit import METHOD, StoreCreditRedeemer
        from .edits import EditRefunder
        from .queues import register_home_queues

        # Orders collect store-credit payments through this (orders may not import returns).
        payment_redeemer_register(method=METHOD, redeemer=StoreCreditRedeemer())
        # What an order edit takes off a paid order is paid back as a refund (or store credit).
        edit_refunder_register(EditRefunder())
        register_home_queues()
        admin_extend(Order, inlines=[ReturnInline])
