"""Matching a channel's line keys to our products (intake/rematch.py): SKU mappings first, then
our SKUs, the first key that names a product wins."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from intake.models import SkuMapping
from intake.rematch import sku_resolve, sku_resolve_batch, sku_resolve_prefetch
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

    # Products and mappings per round of keys, however many lines: the first keys, then the
    # second keys of the lines whose first named nothing.
    with django_assert_num_queries(4):
        resolved = sku_resolve(channel=channel, keys_per_line=lines)

    assert resolved == [by_variant, by_product, None]


def test_a_shops_ids_are_not_looked_up_when_the_skus_name_our_products(django_assert_num_queries):
    channel = ChannelFactory(code="shopify")
    mug = ProductFactory(sku="MUG-1")
    cap = ProductFactory(sku="CAP-1")
    # A mapping of a variant id would win only if the SKU named nothing.
    SkuMapping.objects.create(channel=channel, external_key="shopify-11", product=cap)

    with django_assert_num_queries(2):  # one round: the SKUs
        resolved = sku_resolve(
            channel=channel, keys_per_line=[["MUG-1", "shopify-11", "shopify-1"], ["CAP-1", "shopify-22"]]
        )

    assert resolved == [mug, cap]


def test_prefetching_a_batchs_skus_answers_its_orders_without_asking_again():
    channel = ChannelFactory()
    mug = ProductFactory(sku="MUG-1")
    ProductFactory(sku="CAP-1")

    with sku_resolve_batch(), CaptureQueriesContext(connection) as ctx:
        sku_resolve_prefetch(channel=channel, keys=["MUG-1", "CAP-1", "NOPE", ""])
        answers = [sku_resolve(channel=channel, keys_per_line=[["MUG-1"], ["NOPE"]]) for _ in range(5)]

    assert answers == [[mug, None]] * 5
    assert len(ctx.captured_queries) == 2  # the prefetch's products and mappings, nothing after


def test_prefetching_outside_a_batch_asks_nothing(django_assert_num_queries):
    channel = ChannelFactory()
    with django_assert_num_queries(0):
        sku_resolve_prefetch(channel=channel, keys=["MUG-1"])


def test_a_batch_looks_each_key_up_once_and_still_answers_each_line():
    channel = ChannelFactory()
    mug = ProductFactory(sku="MUG-1")
    cap = ProductFactory(sku="CAP-1")
    SkuMapping.objects.create(channel=channel, external_key="shop-cap", product=cap)

    with sku_resolve_batch(), CaptureQueriesContext(connection) as ctx:
        answers = [
            sku_resolve(channel=channel, keys_per_line=[["MUG-1"], ["shop-cap"], ["NOPE"]]) for _ in range(20)
        ]
        later = sku_resolve(channel=channel, keys_per_line=[["", "MUG-1"], ["CAP-1"]])

    assert answers == [[mug, cap, None]] * 20
    assert later == [mug, cap]
    assert len(ctx.captured_queries) == 4  # products and mappings for the first keys, then for CAP-1


def test_outside_a_batch_nothing_is_remembered():
    channel = ChannelFactory()
    with sku_resolve_batch():
        assert sku_resolve(channel=channel, keys_per_line=[["LATE-1"]]) == [None]
    late = ProductFactory(sku="LATE-1")
    assert sku_resolve(channel=channel, keys_per_line=[["LATE-1"]]) == [late]
