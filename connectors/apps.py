from functools import partial

from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Connectors"

    def ready(self):
        from orders.intake.inbound import register_reprocessor

        from .webhooks import PLATFORMS, webhook_reprocess

        # Staff re-process a stored Shopify or WooCommerce delivery from the inbound request log.
        for platform in PLATFORMS.values():
            register_reprocessor(platform.source, partial(webhook_reprocess, platform=platform))
