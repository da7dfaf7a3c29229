from functools import partial

from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Connectors"

    def ready(self):
        from fulfillment.gateway import carrier_gateway_register
        from intake.inbound import register_reprocessor

        from .easypost.gateway import EasyPostGateway
        from .shopify.views import SHOPIFY
        from .webhooks import webhook_reprocess
        from .woocommerce.views import WOOCOMMERCE

        # Staff re-process a stored Shopify or WooCommerce delivery from the inbound request log.
        for platform in (SHOPIFY, WOOCOMMERCE):
            register_reprocessor(platform.source, partial(webhook_reprocess, platform=platform))

        # Labels, rates and address checks for carriers set to "easypost" (when EASYPOST_API_KEY is set).
        carrier_gateway_register(EasyPostGateway())
