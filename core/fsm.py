"""Running a state-machine transition the one way every app does (design.md, "State machines").

Models declare their transitions (django-fsm-2, `protected=True`, the state in a `status` field)
and change only their own fields there. A service runs one with `fsm_transition`: check
`can_proceed`, call the transition, save. Each app wraps it once, adding the exception that
names its refusal and the event it records: orders.events.order_transition,
fulfillment.shipments.shipment_transition, returns' return transition.
"""

from collections.abc import Callable, Iterable

from django.db import models
from django_fsm import can_proceed

from .exceptions import DomainError


def fsm_transition(
    *,
    obj: models.Model,
    name: str,
    refused: Callable[[], DomainError],
    update_fields: Iterable[str] = (),
    save: Callable[[list[str]], None] | None = None,
    **kwargs,
) -> tuple[str, str]:
    """Run the transition `name` of `obj` with `kwargs` and save the fields it changed.

    The caller holds `obj`'s row lock. Raises `refused()` when the current state doesn't allow
    the transition (nothing has changed then). Saves `status`, `updated_at` and `update_fields`,
    or hands that list to `save` (a caller that gathers its writes and saves them later).
    Returns the state before and after.
    """
    method = getattr(obj, name)
    if not can_proceed(method):
        raise refused()
    before = obj.status
    method(**kwargs)
    fields = ["status", "updated_at", *update_fields]
    if save is None:
        obj.save(update_fields=fields)
    else:
        save(fields)
    return before, obj.status
