"""connectors.woocommerce.views: WooCommerce's ping when a webhook is saved gets a 200 and is kept."""

import pytest

from intake.models import InboundRequest

from .conftest import WOO_URL

pytestmark = pytest.mark.django_db


def test_woocommerce_ping_gets_200(client, woo):
    response = client.post(WOO_URL, data="webhook_id=15", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200
    assert InboundRequest.objects.get().outcome == "ignored"
