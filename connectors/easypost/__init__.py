"""EasyPost: the carrier gateway (rates, labels, voids, return labels, address checks) through
EasyPost's official client, and tracker webhooks to carrier tracking events on our shipments."""
