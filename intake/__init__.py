"""Order intake: how orders arrive. The channel JSON API, channel API keys, idempotency, the
inbound request store and the re-processing staff do after fixing a cause, marketplace CSV
imports, SKU mappings and the helpers channel adapters (connectors) map payloads with.

It calls orders' capture service; orders never imports it."""
