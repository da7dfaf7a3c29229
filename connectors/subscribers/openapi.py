"""The event webhooks in the API's OpenAPI 3.1 document (its top-level `webhooks`): one entry
per event type, with the three signature headers and the payload's JSON Schema."""

from .payloads import EVENTS, event_schema, event_type_of, event_version_of

SIGNATURE_HEADERS = [
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "description": "The message's id: the same on every retry of it. Drop a message whose id you "
        "already processed.",
        "schema": {"type": "string", "pattern": "^msg_[0-9a-f]{32}$"},
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "description": "When this attempt was signed, in seconds since 1970 (UTC). Refuse one more "
        "than five minutes away from your clock.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "description": "`v1,` + base64(HMAC-SHA256(key, `{webhook-id}.{webhook-timestamp}.{body}`)), "
        "the key being the base64-decoded part of your `whsec_` secret. Two of them, "
        "space-separated, while a rotated secret still overlaps: accept the message if any matches.",
        "schema": {"type": "string"},
    },
]

RESPONSES = {
    "2XX": {"description": "Received. Answer quickly (within the time-out) and process later."},
    "410": {"description": "Gone: the OMS switches the subscription off and tells its owner."},
    "default": {
        "description": "429, 5xx, 401/403 and no answer are retried with exponential backoff for "
        "up to a day; any other 4xx gives this message up."
    },
}


def openapi_webhooks() -> dict:
    """The `webhooks` object of an OpenAPI 3.1 document, keyed by event type."""
    webhooks = {}
    for model in EVENTS:
        event_type = event_type_of(model)
        webhooks[event_type] = {
            "post": {
                "operationId": "webhook_" + event_type.replace(".", "_"),
                "summary": f"{event_type} (version {event_version_of(model)})",
                "description": (model.__doc__ or "").strip(),
                "tags": ["Event webhooks"],
                "parameters": SIGNATURE_HEADERS,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": event_schema(model)}},
                },
                "responses": RESPONSES,
            }
        }
    return webhooks
