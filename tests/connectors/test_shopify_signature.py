"""connectors.shopify.signature: base64 HMAC-SHA256 of the raw body, as openssl computes it."""

import pytest

from connectors.shopify.signature import shopify_signature

pytestmark = pytest.mark.django_db


def test_signature_is_the_base64_hmac_sha256_of_the_raw_body():
    # From openssl, not from our code:
    # printf '{"id": 820982911946154508}' | openssl dgst -sha256 -hmac hush-secret -binary | base64
    body = b'{"id": 820982911946154508}'
    expected = "qqREMi53da5eY731cURzhV+RiWID0c62YaHp+aXPqMw="
    assert shopify_signature(secret="hush-secret", body=body) == expected
