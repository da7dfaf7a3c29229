from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from core.admin_extensions import admin_extend
        from inventory.signals import stock_arrived

        from .admin.address_checks import ADDRESS_ACTIONS
        from .admin.edit import order_edit_admin_extend
        from .backorders import stock_arrived_receiver
        from .models import Order
        from .queues import register_home_queues

        admin_extend(Order, object_actions=ADDRESS_ACTIONS)
        stock_arrived.connect(stock_arrived_receiver, dispatch_uid="orders.backorders.stock_arrived")
        register_home_queues()
        order_edit_admin_extend()
