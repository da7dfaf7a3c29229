"""Expire cached order pages (portal.pages) when an order changes.

`order_changed_receiver` hears orders.signals.order_changed, which every service sends when it
locks an order for a write or records an order event (and a pick list run for its orders). The
other two cover the writes that go around the services: staff correcting a shipping address in
the admin, and an order being deleted. All are connected in PortalConfig.ready. The stamps are
replaced after commit (core.cache_versions), so a rolled-back write expires nothing.
"""

from core.cache_versions import cache_version_bump
from orders.cache import ORDER_CACHE_NAMESPACE
from orders.models import Order


def order_changed_receiver(sender, *, numbers, **kwargs):
    cache_version_bump(namespace=ORDER_CACHE_NAMESPACE, idents=numbers)


def address_saved_receiver(sender, instance, created, **kwargs):
    if created:  # a new address belongs to no order yet
        return
    numbers = list(Order.objects.filter(shipping_address=instance).values_list("number", flat=True))
    cache_version_bump(namespace=ORDER_CACHE_NAMESPACE, idents=numbers)


def order_deleted_receiver(sender, instance, **kwargs):
    cache_version_bump(namespace=ORDER_CACHE_NAMESPACE, idents=instance.number)
