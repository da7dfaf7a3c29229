"""Expire cached order pages on the writes that go around the services: staff correcting a
shipping address in the admin, and an order being deleted. (Every service that changes what the
page shows locks the order or records an event, which expires the page already.)"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core.cache_versions import cache_version_bump
from orders.models import Address, Order

from .pages import NAMESPACE


@receiver(post_save, sender=Address, dispatch_uid="portal.address_saved")
def address_saved(sender, instance, created, **kwargs):
    if created:  # a new address belongs to no order yet
        return
    numbers = list(Order.objects.filter(shipping_address=instance).values_list("number", flat=True))
    cache_version_bump(namespace=NAMESPACE, idents=numbers)


@receiver(post_delete, sender=Order, dispatch_uid="portal.order_deleted")
def order_deleted(sender, instance, **kwargs):
    cache_version_bump(namespace=NAMESPACE, idents=instance.number)
