"""Signals inventory sends to apps further down the chain (it imports none of them).

`stock_arrived` is sent after commit whenever units became available: a receipt, a positive
adjustment or count, a transfer in, a return restock, or reservations released. Keyword
argument: `product_ids` (a frozenset). Orders listens to allocate its backorders.

`stock_levels_changed` is sent inside the writer's transaction whenever on-hand or reserved of
some stock items changed (ledger lines, reservations made, released or consumed). Keyword
argument: `product_ids` (a frozenset). Connectors listen to push the levels channels sell from,
writing their deliveries in the same transaction.
"""

from collections.abc import Iterable

from django.dispatch import Signal

stock_arrived = Signal()
stock_levels_changed = Signal()


def stock_levels_changed_send(*, product_ids: Iterable[int]) -> None:
    """Tell the receivers, in the current transaction, that these products' levels moved."""
    ids = frozenset(product_ids)
    if ids:
        stock_levels_changed.send(sender=None, product_ids=ids)
