"""Signing the Standard Webhooks way: the published test vector (the same in every official
library), secrets in `whsec_` format, and two signatures while a rotated secret overlaps."""

import base64
import datetime as dt
import re
import time
from pathlib import Path

import pytest
from standardwebhooks import Webhook
from standardwebhooks import webhooks as standardwebhooks_module
from standardwebhooks.webhooks import WebhookVerificationError

from connectors.subscribers.signing import (
    payload_body,
    secret_generate,
    secret_hint,
    signature_header,
    signed_headers,
)

# tests/fixtures/shared/SOURCES.md, "webhooks/standard-webhooks/": the published vector.
VECTOR = (
    Path(__file__).parents[1]
    / "fixtures/shared/webhooks/standard-webhooks"
    / "standard-webhooks__libraries_python_tests_DEFAULT_PAYLOAD.json"
)
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.fixture
def vector_body() -> str:
    body = VECTOR.read_bytes()
    assert body == b'{"test": 2432232314}'  # 20 bytes, the space kept, no newline: sign it as is
    return body.decode()


@pytest.fixture
def library_clock_at_vector_time(monkeypatch):
    """The vector is from 2021; the library refuses timestamps 5 minutes off its clock."""

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime.fromtimestamp(VECTOR_TIMESTAMP, tz=tz)

    monkeypatch.setattr(standardwebhooks_module, "datetime", Frozen)


def test_we_sign_the_published_test_vector_exactly(vector_body):
    assert (
        signature_header(
            secrets=[VECTOR_SECRET], msg_id=VECTOR_ID, timestamp=VECTOR_TIMESTAMP, body=vector_body
        )
        == VECTOR_SIGNATURE
    )


def test_the_librarys_verify_accepts_our_headers_for_the_vector_and_refuses_a_changed_body(
    vector_body, library_clock_at_vector_time
):
    headers = signed_headers(
        secrets=[VECTOR_SECRET], msg_id=VECTOR_ID, timestamp=VECTOR_TIMESTAMP, body=vector_body
    )
    assert headers == {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": "1614265330",
        "webhook-signature": VECTOR_SIGNATURE,
    }
    assert Webhook(VECTOR_SECRET).verify(vector_body, headers) == {"test": 2432232314}
    with pytest.raises(WebhookVerificationError):
        Webhook(VECTOR_SECRET).verify(vector_body.replace("2432232314", "2432232315"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(VECTOR_SECRET).verify(vector_body, {**headers, "webhook-id": "msg_other"})


def test_a_new_secret_is_whsec_and_base64_of_32_random_bytes():
    first, second = secret_generate(), secret_generate()
    assert first != second
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", first)
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32
    assert secret_hint(first) == f"whsec_…{first[-4:]}"


def test_while_a_rotated_secret_overlaps_both_sign_and_either_verifies_alone():
    old, new, stranger = secret_generate(), secret_generate(), secret_generate()
    body = payload_body({"type": "webhook.test", "data": {"message": "héllo"}})
    headers = signed_headers(secrets=[new, old], msg_id="msg_1", timestamp=int(time.time()), body=body)

    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    assert Webhook(new).verify(body, headers)["data"]["message"] == "héllo"
    assert Webhook(old).verify(body.encode(), headers)["type"] == "webhook.test"
    with pytest.raises(WebhookVerificationError):
        Webhook(stranger).verify(body, headers)


def test_the_body_is_the_same_bytes_whatever_order_the_keys_come_back_in():
    assert payload_body({"b": 1, "a": {"y": "é", "x": None}}) == payload_body(
        {"a": {"x": None, "y": "é"}, "b": 1}
    )
    assert payload_body({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
