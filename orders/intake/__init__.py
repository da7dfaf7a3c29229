"""Order intake: channel API keys, the inbound request store, channel adapters (Shopify,
WooCommerce, marketplace CSV) and the re-processing staff do after fixing a cause."""
