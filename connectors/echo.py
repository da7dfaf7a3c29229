"""Which change came from a channel itself, so it isn't sent back to it.

The order webhooks cancel an order through `orders.services.order_cancel`, whose `cancelled`
event reaches our receivers in the same call. `channel_echo(channel_id)` marks that call: the
receivers leave that channel out (the shop cancelled the order: it needn't hear it from us).
"""

from contextlib import contextmanager
from contextvars import ContextVar

_from_channel: ContextVar[int | None] = ContextVar("connectors_change_from_channel", default=None)


@contextmanager
def channel_echo(channel_id: int):
    """Within this block, changes came from this channel (its webhook)."""
    token = _from_channel.set(channel_id)
    try:
        yield
    finally:
        _from_channel.reset(token)


def is_channel_echo(channel_id: int) -> bool:
    return _from_channel.get() == channel_id
