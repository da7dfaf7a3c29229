"""Matching a channel's line keys to our products (intake/rematch.py): SKU mappings first, then
our SKUs, the first key that names a product wins."""

import pytest

from intake.models import SkuMapping
from intake.rematch import sku_resolve
from tests.factories import ChannelFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_a_mapping_wins_over_our_product_with_the_same_sku():
    channel = ChannelFactory(code="woo")
    ours = ProductFactory(sku="MUG")
    meant = ProductFactory(sku="MUG-BLUE")
    SkuMapping.objects.create(channel=channel, external_key="MUG", product=meant)

    assert sku_resolve(channel=channel, keys_per_line=[["MUG"]]) == [meant]
    assert sku_resolve(channel=ChannelFactory(code="shop"), keys_per_line=[["MUG"]]) == [ours]


def test_the_first_key_that_names_a_product_wins_and_unknown_keys_give_none(django_assert_num_queries):
    channel = ChannelFactory(code="shopify")
    by_variant = ProductFactory(sku="TEA-GREEN")
    by_product = ProductFactory(sku="TEA")
    SkuMapping.objects.create(channel=channel, external_key="shopify-11", product=by_variant)
    SkuMapping.objects.create(channel=channel, external_key="shopify-22", product=by_product)

    lines = [["", "shopify-11", "shopify-22"], ["NOPE", "shopify-22"], ["NOPE", ""]]

    with django_assert_num_queries(2):  # products and mappings, however many lines
        resolved = sku_resolve(channel=channel, keys_per_line=lines)

    assert resolved == [by_variant, by_product, None]
