from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from inventory.signals import stock_arrived

        from .admin.edit import order_edit_admin_extend
        from .backorders import stock_arrived_receiver
        from .queues import register_home_queues

        stock_arrived.connect(stock_arrived_receiver, dispatch_uid="orders.backorders.stock_arrived")
        register_home_queues()
        order_edit_admin_extend()
