"""Expire and re-render cached order pages (portal.pages) when orders change.

`order_changed_receiver` hears orders.signals.order_changed, which every service sends when it
locks an order for a write or records an order event (and a pick list run for its orders). Two
more cover writes that go around the services: staff correcting a shipping address in the admin,
and store credit issued for a return being spent or given back on another order (the return's
page shows its balance). All are connected in PortalConfig.ready.

They gather the order numbers of the transaction; once it commits, one callback replaces the
orders' version stamps (core.cache_versions), so no page rendered before is served again, and
then queues ONE task with every number (portal.tasks.warm_order_pages) that renders the pages
into the cache: however many orders a commit changed (a batch capture, a pick list run), the
transaction itself does no more than note their numbers. A rolled-back write expires and warms
nothing. A deleted order's page is only expired.
"""

import logging
from collections.abc import Iterable

from django.db import transaction

from core.cache_versions import cache_version_bump, cache_versions_replace
from orders.cache import ORDER_CACHE_NAMESPACE
from orders.models import Order

from .tasks import warm_order_pages

logger = logging.getLogger(__name__)


class ChangedOrders:
    """The orders changed in one transaction, registered with transaction.on_commit: run once it
    commits, it expires their pages and queues the task that renders them again."""

    def __init__(self):
        self.numbers: dict[str, None] = {}  # an ordered set
        self.done = False

    def __call__(self) -> None:
        if self.done:
            return
        self.done = True
        numbers = list(self.numbers)
        cache_versions_replace(namespace=ORDER_CACHE_NAMESPACE, idents=numbers)
        try:
            warm_order_pages.enqueue(numbers=numbers)
        except Exception:  # a page not warmed is rendered by its first view: never fail the write
            logger.exception("Could not queue the warming of %d order pages", len(numbers))


def _pending(connection) -> ChangedOrders | None:
    """This transaction's ChangedOrders, if it has one still to run (registered early in the
    transaction, so the search is short)."""
    for _, callback, _ in connection.run_on_commit:
        if isinstance(callback, ChangedOrders) and not callback.done:
            return callback
    return None


def order_pages_refresh(*, numbers: Iterable[str], using=None) -> None:
    """Expire these orders' pages and render them again, once the current transaction commits
    (at once when there is none): one ChangedOrders per transaction gathers the numbers.

    It is registered with on_commit at every call and runs once, at the first of its
    registrations still standing (the others find it done): each registration is dropped with a
    savepoint rolled back around it, like any commit callback, so the numbers noted outside that
    savepoint are still refreshed. Numbers noted inside one may be refreshed too: one rendering
    more, never a stale page."""
    numbers = dict.fromkeys(numbers)
    if not numbers:
        return
    connection = transaction.get_connection(using)
    pending = _pending(connection) if connection.in_atomic_block else None
    if pending is None:
        pending = ChangedOrders()
    pending.numbers.update(numbers)
    transaction.on_commit(pending, using=using)


def order_changed_receiver(sender, *, numbers, **kwargs):
    order_pages_refresh(numbers=numbers)


def address_saved_receiver(sender, instance, created, **kwargs):
    if created:  # a new address belongs to no order yet
        return
    order_pages_refresh(
        numbers=Order.objects.filter(shipping_address=instance).values_list("number", flat=True)
    )


def credit_moved_receiver(sender, instance, created, **kwargs):
    """A movement of store credit (spent on or given back to some order): the page of the order
    whose return issued the credit shows its balance."""
    if created:
        order_pages_refresh(
            numbers=Order.objects.filter(store_credits__pk=instance.credit_id).values_list(
                "number", flat=True
            )
        )


def order_deleted_receiver(sender, instance, **kwargs):
    cache_version_bump(namespace=ORDER_CACHE_NAMESPACE, idents=instance.number)
