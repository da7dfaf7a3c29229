"""WooCommerce: order webhooks (order.created, order.updated, order.deleted) to captures."""
