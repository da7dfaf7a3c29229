"""The connections in the admin: credentials never shown again, blank keeps them, new ones
resume what was paused, a missing OMS_CREDENTIALS_KEY is a form error, and "Reconcile stock
now" lists the drift and fixes it in one click."""

import pytest
from django.urls import reverse

from connectors.models import ShopifyConnection, ShopifyLocation
from core.models import Delivery
from tests.factories import ProductFactory, UserFactory, stock_put

from .conftest import SHOPIFY_TOKEN, stand_in_url
from .shopify_stand_in import LOCATION, ShopifyInventory, ShopifyStandIn


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="boss", is_superuser=True))
    return client


@pytest.fixture
def shop(shopify, warehouse, httpserver, credentials_key):
    connection = ShopifyConnection.objects.create(
        channel=shopify,
        shop_domain="example.myshopify.com",
        access_token=SHOPIFY_TOKEN,
        base_url=stand_in_url(httpserver),
    )
    ShopifyLocation.objects.create(connection=connection, warehouse=warehouse, location_id="655441491")
    return connection


def form_data(shop, **changes) -> dict:
    data = {
        "channel": shop.channel_id,
        "shop_domain": shop.shop_domain,
        "access_token": "",
        "notify_customer": "on",
        "cancel_refund": "on",
        "cancel_restock": "on",
        "push_stock": "on",
        "safety_buffer": "0",
        "base_url": shop.base_url,
        "locations-TOTAL_FORMS": "1",
        "locations-INITIAL_FORMS": "1",
        "locations-0-id": str(shop.locations.get().pk),
        "locations-0-connection": str(shop.pk),
        "locations-0-warehouse": str(shop.locations.get().warehouse_id),
        "locations-0-location_id": "655441491",
    }
    data.update(changes)
    return data


def change_url(shop):
    return reverse("admin:connectors_shopifyconnection_change", args=[shop.pk])


def test_the_saved_token_is_never_shown_and_an_empty_field_keeps_it(admin_client, shop):
    page = admin_client.get(change_url(shop))
    assert page.status_code == 200
    assert SHOPIFY_TOKEN not in page.content.decode()
    assert 'type="password"' in page.content.decode()

    response = admin_client.post(change_url(shop), form_data(shop, safety_buffer="2"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    shop.refresh_from_db()
    assert shop.access_token == SHOPIFY_TOKEN and shop.safety_buffer == 2


def test_new_credentials_resume_the_paused_deliveries(admin_client, shop, django_capture_on_commit_callbacks):
    ShopifyConnection.objects.filter(pk=shop.pk).update(credentials_refused_at="2026-03-18T12:00:00Z")
    paused = Delivery.objects.create(
        target=shop.target, topic="shopify.cancel", payload={}, status=Delivery.Status.PAUSED
    )
    assert "credentials refused" in admin_client.get(change_url(shop)).content.decode()

    response = admin_client.post(change_url(shop), form_data(shop, access_token="shpat_new_token"))

    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.access_token == "shpat_new_token" and shop.credentials_refused_at is None
    assert Delivery.objects.get(pk=paused.pk).status == Delivery.Status.PENDING


def test_without_the_credentials_key_a_token_is_refused_with_a_clear_error(admin_client, shop, settings):
    settings.OMS_CREDENTIALS_KEY = ""
    response = admin_client.post(change_url(shop), form_data(shop, access_token="shpat_new_token"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "OMS_CREDENTIALS_KEY is not set" in errors["access_token"][0]


def test_a_channel_can_be_added_without_credentials_and_shows_not_connected(admin_client, woo, settings):
    settings.OMS_CREDENTIALS_KEY = ""
    response = admin_client.post(
        reverse("admin:connectors_woocommerceconnection_add"),
        {
            "channel": woo.pk,
            "store_url": "https://shop.example.com",
            "safety_buffer": "0",
            "push_stock": "on",
        },
    )
    assert response.status_code == 302
    listing = admin_client.get(reverse("admin:connectors_woocommerceconnection_changelist")).content.decode()
    assert "not connected" in listing


def test_reconcile_now_lists_the_drift_and_fixes_it(
    admin_client, shop, warehouse, httpserver, django_capture_on_commit_callbacks
):
    inventory = ShopifyInventory(ShopifyStandIn(httpserver), ["MUG-1"])
    with django_capture_on_commit_callbacks(execute=True):
        stock_put(ProductFactory(sku="MUG-1"), warehouse, 12)
    inventory.levels[(inventory.items["MUG-1"], LOCATION)] = 3
    url = reverse("admin:connectors_shopifyconnection_reconcile", args=[shop.pk])

    page = admin_client.get(url).content.decode()
    assert "MUG-1" in page and "<td>12</td><td>3</td>" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url)
    assert response.status_code == 302
    assert inventory.available("MUG-1") == 12
    assert "No drift" in admin_client.get(url).content.decode()


def test_reconcile_now_says_why_a_channel_cant_be_read(admin_client, shop):
    shop.access_token = ""
    shop.save()
    page = admin_client.get(reverse("admin:connectors_shopifyconnection_reconcile", args=[shop.pk]))
    assert "is not connected" in page.content.decode()


def test_stock_moved_while_paused_is_queued_when_new_credentials_are_saved(admin_client, shop, warehouse):
    mug = ProductFactory(sku="MUG-1")
    stock_put(mug, warehouse, 5)
    Delivery.objects.all().delete()
    shop.credentials_refused_at = "2026-03-18T12:00:00Z"
    shop.save()
    stock_put(mug, warehouse, 3)  # while paused: nothing piles up
    assert not Delivery.objects.exists()

    admin_client.post(change_url(shop), form_data(shop, access_token="shpat_new_token"))

    (push,) = Delivery.objects.filter(topic="shopify.stock")
    assert push.status == Delivery.Status.PENDING and push.payload["level"]["available"] == 8
