"""Shopify: order webhooks (orders/create, orders/updated, orders/cancelled) to captures."""
