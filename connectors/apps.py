from functools import partial

from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Connectors"

    def ready(self):
        from core.outbox.registry import delivery_handler_register, delivery_target_register
        from intake.api import api as intake_api
        from intake.inbound import register_reprocessor

        from .shopify.views import SHOPIFY
        from .subscribers.delivery import SUBSCRIPTION_TARGET, subscription_delivery_send
        from .subscribers.models import DELIVERY_TOPIC, TARGET_PREFIX
        from .subscribers.openapi import openapi_webhooks
        from .subscribers.receivers import receivers_connect
        from .webhooks import webhook_reprocess
        from .woocommerce.views import WOOCOMMERCE

        # Staff re-process a stored Shopify or WooCommerce delivery from the inbound request log.
        for platform in (SHOPIFY, WOOCOMMERCE):
            register_reprocessor(platform.source, partial(webhook_reprocess, platform=platform))

        # Event webhooks: the domain's signals write deliveries, the outbox sends them through
        # this handler, and the API's OpenAPI document describes them under `webhooks`.
        receivers_connect()
        delivery_handler_register(topic=DELIVERY_TOPIC, handler=subscription_delivery_send)
        delivery_target_register(prefix=TARGET_PREFIX, target=SUBSCRIPTION_TARGET)
        intake_api.openapi_extra["webhooks"] = openapi_webhooks()
