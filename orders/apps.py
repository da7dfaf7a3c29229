from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from inventory.signals import stock_arrived

        from .admin.intake import intake_admin_extend
        from .backorders import stock_arrived_receiver
        from .intake.keys import channel_saved_receiver, key_changed_receiver
        from .models import Channel, ChannelApiKey

        stock_arrived.connect(stock_arrived_receiver, dispatch_uid="orders.backorders.stock_arrived")
        # Cached API keys (orders.intake.keys) are forgotten whenever a key or its channel changes.
        post_save.connect(channel_saved_receiver, sender=Channel, dispatch_uid="orders.keys.channel")
        post_save.connect(key_changed_receiver, sender=ChannelApiKey, dispatch_uid="orders.keys.saved")
        post_delete.connect(key_changed_receiver, sender=ChannelApiKey, dispatch_uid="orders.keys.deleted")
        intake_admin_extend()
