from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = "Order intake"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from orders.models import Channel
        from orders.signals import order_status_changed

        from . import api_edit  # noqa: F401  PATCH /api/v1/orders/{number} joins the API's router
        from .admin import intake_admin_extend
        from .api import ApiOrderProcessor
        from .csv_import import csv_request_reprocess
        from .inbound import inbound_outcome_follow_order, register_reprocessor
        from .keys import channel_saved_receiver, key_changed_receiver
        from .models import ChannelApiKey, InboundRequest
        from .queues import register_home_queues
        from .work import inbound_processor_register

        # The intake worker processes API creates sent with Prefer: respond-async; staff
        # re-process stored API requests through the same path, and CSV orders from the log.
        inbound_processor_register(InboundRequest.Source.API, ApiOrderProcessor())
        register_reprocessor(InboundRequest.Source.CSV, csv_request_reprocess)
        # Cached API keys (intake.keys) are forgotten whenever a key or its channel changes.
        post_save.connect(channel_saved_receiver, sender=Channel, dispatch_uid="intake.keys.channel")
        post_save.connect(key_changed_receiver, sender=ChannelApiKey, dispatch_uid="intake.keys.saved")
        post_delete.connect(key_changed_receiver, sender=ChannelApiKey, dispatch_uid="intake.keys.deleted")
        # A request's outcome follows its order on and off hold (released, then captured).
        order_status_changed.connect(inbound_outcome_follow_order, dispatch_uid="intake.inbound.outcome")
        register_home_queues()
        intake_admin_extend()
