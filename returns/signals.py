"""Signals returns sends to apps further down the chain (it imports none of them), inside the
writer's transaction, so a receiver's writes commit or roll back with the change.

- `return_changed`: a return request was created or moved. Keyword arguments: `return_request`,
  `order`, `from_status` ("" when it was just requested), `to_status`.
- `refund_issued`: money went back to the customer. Keyword arguments: `refund`, `order`.
"""

from django.dispatch import Signal

return_changed = Signal()
refund_issued = Signal()
