"""EasyPost: tracker webhooks to carrier tracking events on our shipments."""
