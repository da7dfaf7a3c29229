"""What the outbox knows of the world: handlers by topic, connections by target prefix.

Connectors register both from their `AppConfig.ready()`; core imports no other app.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

# handler(delivery, http) -> dict | None: makes the calls, returns the remote ids to keep.
Handler = Callable

_handlers: dict[str, Handler] = {}


@dataclass(frozen=True)
class DeliveryTarget:
    """A kind of connection (“channel”, “subscription”): how to name one, whether it is paused
    (its credentials were refused), and what to do when they are. `alerts_managers`: whether
    the outbox e-mails MANAGER_EMAILS that the connection's credentials were refused; a kind
    whose `on_revoked` tells people itself, in its own words, says False."""

    name: Callable[[str], str] = lambda target: target
    is_paused: Callable[[str], bool] = lambda target: False
    on_revoked: Callable[[str, str], None] = lambda target, reason: None
    alerts_managers: bool = True


_targets: dict[str, DeliveryTarget] = {}


def delivery_handler_register(*, topic: str, handler: Handler) -> None:
    _handlers[topic] = handler


def delivery_handler_for(topic: str) -> Handler:
    try:
        return _handlers[topic]
    except KeyError:
        raise ImproperlyConfigured(f"No delivery handler is registered for “{topic}”.") from None


def delivery_target_register(*, prefix: str, target: DeliveryTarget) -> None:
    _targets[prefix] = target


def delivery_target_for(target: str) -> DeliveryTarget:
    """The registered kind for “prefix:id”; an unknown prefix gets the plain defaults."""
    return _targets.get(target.split(":", 1)[0], DeliveryTarget())
