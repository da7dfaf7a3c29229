"""What each staff group may do with the connections to outside systems (gathered by core.roles).
Managers keep the channels' connections (credentials, locations, stock listings), reconcile
stock and keep the event-webhook subscriptions; customer service see whether a channel is connected."""

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Customer service": [
        "connectors.view_shopifyconnection",
        "connectors.view_woocommerceconnection",
    ],
    "Managers": [
        "connectors.view_shopifyconnection",
        "connectors.add_shopifyconnection",
        "connectors.change_shopifyconnection",
        "connectors.view_shopifylocation",
        "connectors.add_shopifylocation",
        "connectors.change_shopifylocation",
        "connectors.delete_shopifylocation",
        "connectors.view_woocommerceconnection",
        "connectors.add_woocommerceconnection",
        "connectors.change_woocommerceconnection",
        "connectors.view_stocklisting",
        "connectors.change_stocklisting",
        "connectors.view_subscription",
        "connectors.add_subscription",
        "connectors.change_subscription",
        "connectors.delete_subscription",
    ],
}
