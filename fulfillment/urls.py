from django.urls import path

from . import webhooks

app_name = "fulfillment"

urlpatterns = [
    path("carriers/easypost", webhooks.easypost_webhook, name="easypost-webhook"),
]
