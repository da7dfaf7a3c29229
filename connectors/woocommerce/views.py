"""`POST /webhooks/woocommerce/orders`: WooCommerce's order webhooks (order.created,
order.updated, order.deleted), answered by the shared flow in connectors/webhooks.py."""

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from intake.models import InboundRequest
from orders.models import Channel

from ..webhooks import Platform, order_webhook
from .inbound import woocommerce_is_cancellation, woocommerce_order_input, woocommerce_unwrap
from .signature import SIGNATURE_HEADER, woocommerce_signature


def woocommerce_is_ping(request) -> bool:
    """WooCommerce tests a new webhook with an unsigned form body `webhook_id=<id>`."""
    return (
        not request.headers.get(SIGNATURE_HEADER)
        and request.body.startswith(b"webhook_id=")
        and len(request.body) < 100
    )


WOOCOMMERCE = Platform(
    source=InboundRequest.Source.WOOCOMMERCE,
    kind=Channel.Kind.WOOCOMMERCE,
    name="WooCommerce",
    signature_header=SIGNATURE_HEADER,
    delivery_header="X-WC-Webhook-Delivery-ID",
    topic_header="X-WC-Webhook-Topic",
    signature=woocommerce_signature,
    unwrap=woocommerce_unwrap,
    order_input=woocommerce_order_input,
    is_cancellation=woocommerce_is_cancellation,
    is_ping=woocommerce_is_ping,
    update_topics=("order.updated",),  # the body is the whole order as it stands
)


@csrf_exempt
@require_POST
def woocommerce_orders(request):
    return order_webhook(request, platform=WOOCOMMERCE)
