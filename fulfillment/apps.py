from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    verbose_name = "Fulfilment and shipping"

    def ready(self):
        from core.admin_extensions import admin_extend
        from core.outbox.registry import delivery_handler_register
        from orders.address_checks import address_verifier_register
        from orders.edit_hooks import edit_shipments_register
        from orders.models import Order
        from orders.notifications import email_context_provider_register

        from .admin import ORDER_LIST_ACTIONS, ORDER_PAGE_ACTIONS, ShipmentInline
        from .edits import ShipmentsEditHook
        from .gateway import carrier_gateway_register
        from .gateway.manual import ManualGateway
        from .gateway.verifier import GatewayAddressVerifier
        from .labels import LABEL_VOID, label_void_send
        from .next_steps import order_parcel_steps
        from .notifications import order_email_context
        from .queues import register_home_queues

        email_context_provider_register(order_email_context)
        # Order edits respect the shipments being worked on and rebuild the ones not picked yet.
        edit_shipments_register(ShipmentsEditHook())
        register_home_queues()
        admin_extend(
            Order,
            inlines=[ShipmentInline],
            object_actions=ORDER_PAGE_ACTIONS,
            changelist_actions=ORDER_LIST_ACTIONS,
            next_steps=[order_parcel_steps],
        )
        # The default gateway; connectors register the platforms' (connectors/easypost).
        carrier_gateway_register(ManualGateway())
        delivery_handler_register(topic=LABEL_VOID, handler=label_void_send)
        # Capture's address rule asks the carrier through this, when a gateway that verifies is set up.
        address_verifier_register(GatewayAddressVerifier())
