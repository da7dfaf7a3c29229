"""Signed event webhooks for other systems (an ERP, a helpdesk, a data warehouse).

Staff add a subscription in the admin (URL, event types, owner); every change it asked for is
written to the delivery log (core.outbox) in the transaction of the change, one delivery per
subscription, and POSTed by the worker, signed the Standard Webhooks way:

- models.py     Subscription, and StockLowMark (stock.low is sent once per crossing)
- payloads.py   the versioned payload of each event type (pydantic), their JSON Schemas
- selectors.py  the active subscriptions, cached, so a change nobody subscribed to costs no query
- signing.py    secrets (`whsec_…`) and the webhook-id / -timestamp / -signature headers
- services.py   create, rotate the secret, switch off and on, send a test event, emit events
- receivers.py  the domain's signals (orders, fulfillment, returns, inventory) to events
- delivery.py   the delivery handler (sign, POST, classify the answer) and the target kind
- admin.py      subscriptions in the admin
"""
