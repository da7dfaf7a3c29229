"""`POST /webhooks/shopify/orders`: Shopify's order webhooks (orders/create, orders/updated,
orders/cancelled), answered by the shared flow in connectors/webhooks.py."""

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from intake.models import InboundRequest
from orders.models import Channel

from ..webhooks import Platform, order_webhook
from .edits import UPDATE_TOPICS, shopify_current, shopify_skipped
from .inbound import shopify_is_cancellation, shopify_order_input, shopify_unwrap
from .signature import SIGNATURE_HEADER, shopify_signature

SHOPIFY = Platform(
    source=InboundRequest.Source.SHOPIFY,
    kind=Channel.Kind.SHOPIFY,
    name="Shopify",
    signature_header=SIGNATURE_HEADER,
    delivery_header="X-Shopify-Webhook-Id",
    topic_header="X-Shopify-Topic",
    signature=shopify_signature,
    unwrap=shopify_unwrap,
    order_input=shopify_order_input,
    is_cancellation=shopify_is_cancellation,
    update_topics=UPDATE_TOPICS,
    current=shopify_current,
    skipped=shopify_skipped,
)


@csrf_exempt
@require_POST
def shopify_orders(request):
    return order_webhook(request, platform=SHOPIFY)
