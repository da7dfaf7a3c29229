from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Connectors"

    def ready(self):
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from core.outbox.registry import delivery_handler_register, delivery_target_register
        from fulfillment.gateway import carrier_gateway_register
        from fulfillment.signals import shipment_shipped, shipment_tracking_changed
        from intake.api import api as intake_api
        from intake.work import inbound_processor_register
        from inventory.models import Warehouse
        from inventory.signals import stock_levels_changed
        from orders.models import Channel
        from orders.signals import order_events_recorded

        from . import checks  # noqa: F401  registers the deploy check
        from .channels import CHANNEL_TARGET, channel_plans_forget
        from .easypost.gateway import EasyPostGateway
        from .models import ShopifyConnection, ShopifyLocation, WooCommerceConnection
        from .receivers import (
            order_events_recorded_receiver,
            shipment_shipped_receiver,
            shipment_tracking_changed_receiver,
        )
        from .shopify import outbound as shopify
        from .shopify.views import SHOPIFY
        from .stock import stock_levels_changed_receiver
        from .subscribers.delivery import SUBSCRIPTION_TARGET, subscription_delivery_send
        from .subscribers.models import DELIVERY_TOPIC, TARGET_PREFIX
        from .subscribers.openapi import openapi_webhooks
        from .subscribers.receivers import receivers_connect
        from .webhooks import WebhookProcessor, webhook_channels_forget
        from .woocommerce import outbound as woocommerce
        from .woocommerce.views import WOOCOMMERCE

        # The intake worker processes stored Shopify and WooCommerce deliveries (and staff
        # re-process them from the inbound request log) through the platform's processor.
        for platform in (SHOPIFY, WOOCOMMERCE):
            inbound_processor_register(platform.source, WebhookProcessor(platform))

        # What we tell the shops: each topic's handler, and the "channel:<pk>" connections.
        delivery_target_register(prefix="channel", target=CHANNEL_TARGET)
        for topic, handler in [
            (shopify.FULFILLMENT, shopify.shopify_fulfillment_send),
            (shopify.TRACKING, shopify.shopify_tracking_send),
            (shopify.CANCEL, shopify.shopify_cancel_send),
            (shopify.STOCK, shopify.shopify_stock_send),
            (woocommerce.SHIPMENT, woocommerce.woocommerce_shipment_send),
            (woocommerce.CANCEL, woocommerce.woocommerce_cancel_send),
            (woocommerce.STOCK, woocommerce.woocommerce_stock_send),
        ]:
            delivery_handler_register(topic=topic, handler=handler)

        # The domain's changes, in the writer's transaction.
        shipment_shipped.connect(shipment_shipped_receiver, dispatch_uid="connectors.shipment_shipped")
        shipment_tracking_changed.connect(
            shipment_tracking_changed_receiver, dispatch_uid="connectors.shipment_tracking_changed"
        )
        order_events_recorded.connect(order_events_recorded_receiver, dispatch_uid="connectors.order_events")
        stock_levels_changed.connect(stock_levels_changed_receiver, dispatch_uid="connectors.stock_levels")

        # Webhook signatures are checked against the channels as saved here at once.
        post_save.connect(webhook_channels_forget, sender=Channel, dispatch_uid="connectors.signing.save")
        post_delete.connect(webhook_channels_forget, sender=Channel, dispatch_uid="connectors.signing.del")
        # The cached channel plans (connectors.channels) are rebuilt after any of these change.
        for model in (ShopifyConnection, ShopifyLocation, WooCommerceConnection, Warehouse, Channel):
            post_save.connect(
                channel_plans_forget, sender=model, dispatch_uid=f"connectors.plans.save.{model}"
            )
            post_delete.connect(
                channel_plans_forget, sender=model, dispatch_uid=f"connectors.plans.del.{model}"
            )
        m2m_changed.connect(
            channel_plans_forget,
            sender=WooCommerceConnection.warehouses.through,
            dispatch_uid="connectors.plans.woo_warehouses",
        )

        # Event webhooks: the domain's signals write deliveries, the outbox sends them through
        # this handler, and the API's OpenAPI document describes them under `webhooks`.
        receivers_connect()
        delivery_handler_register(topic=DELIVERY_TOPIC, handler=subscription_delivery_send)
        delivery_target_register(prefix=TARGET_PREFIX, target=SUBSCRIPTION_TARGET)
        intake_api.openapi_extra["webhooks"] = openapi_webhooks()

        # Labels, rates and address checks for carriers set to "easypost" (when EASYPOST_API_KEY is set).
        carrier_gateway_register(EasyPostGateway())
