from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Customer pages"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from orders.models import Address, Order
        from orders.signals import order_changed
        from returns.models import StoreCreditRedemption

        from .signals import (
            address_saved_receiver,
            credit_moved_receiver,
            order_changed_receiver,
            order_deleted_receiver,
        )

        # Cached order pages (portal.pages) expire whenever their order changes, and are rendered
        # again after the commit (portal.tasks).
        order_changed.connect(order_changed_receiver, dispatch_uid="portal.order_changed")
        post_save.connect(address_saved_receiver, sender=Address, dispatch_uid="portal.address_saved")
        post_save.connect(
            credit_moved_receiver, sender=StoreCreditRedemption, dispatch_uid="portal.credit_moved"
        )
        post_delete.connect(order_deleted_receiver, sender=Order, dispatch_uid="portal.order_deleted")
