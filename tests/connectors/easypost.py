"""What the EasyPost tests share: the published signed event and its test vector, posting to
the webhook signed with the test secret (set for every test that imports webhook_secret), and a
shipped shipment to track."""

from pathlib import Path

import pytest

from connectors.easypost.signature import easypost_signature
from fulfillment.services import shipment_pack, shipment_ship

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shared" / "carriers"
SIGNED = FIXTURES / "easypost_examples__fixtures_event-body_2022_batch-created_signed.json"
VECTOR = "hmac-sha256-hex=e93977c8ccb20363d51a62b3fe1fc402b7829be1152da9e88cf9e8d07115a46b"
SECRET = "sécret"
URL = "/webhooks/carriers/easypost"


def post(client, body: bytes, secret=SECRET, signature=None):
    signature = signature if signature is not None else easypost_signature(body=body, secret=secret)
    return client.post(URL, body, content_type="application/json", headers={"X-Hmac-Signature": signature})


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.EASYPOST_WEBHOOK_SECRET = SECRET


def shipped(ready_shipment, tracking_number, lines=(("MUG-1", 1),)):
    shipment = ready_shipment(list(lines))
    shipment_pack(shipment_id=shipment.pk)
    return shipment_ship(shipment_id=shipment.pk, tracking_number=tracking_number)
