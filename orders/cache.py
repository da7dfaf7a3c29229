"""The cache namespace of an order's version stamp (core.cache_versions).

Whatever is cached from an order's rows (the customer's order page) is stored under the stamp of
(ORDER_CACHE_NAMESPACE, order number), and the receivers of `orders.signals.order_changed`
replace that stamp, so the cached copy is never served after the order changed.
"""

ORDER_CACHE_NAMESPACE = "order"
