"""Connectors: one package per outside system (shopify, woocommerce, easypost), each with its
webhook signature check and payload mapping. They import the domain apps and intake; nothing in
the domain imports them. They plug in through registrations made in ConnectorsConfig.ready()."""
