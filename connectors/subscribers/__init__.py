"""Signed event webhooks for other systems (an ERP, a helpdesk, a data warehouse).

Staff add a subscription in the admin (URL, event types, owner); every change it asked for is
written to the delivery log (core.outbox) in the transaction of the change, one delivery per
subscription, and POSTed by the worker, signed the Standard Webhooks way:

- models.py         Subscription, and StockLowMark (stock.low is sent once per crossing)
- payloads.py       the versioned payload of each event type (pydantic) and their JSON Schemas
- events.py         our rows as those payloads
- selectors.py      the active subscriptions, cached: a change nobody subscribed to costs no query
- signing.py        secrets (`whsec_…`) and the webhook-id / -timestamp / -signature headers
- services.py       create, edit, rotate the secret, switch off and on, test; owe events
- receivers.py      the domain's signals (orders, fulfillment, returns, inventory) to events
- delivery.py       the delivery handler (sign, POST, what each answer means), the target kind
- notifications.py  the e-mail to the owner when a subscription is switched off
- admin.py          subscriptions in the admin
- openapi.py, docs.py  the events in the OpenAPI document and in docs/webhooks.md
"""
