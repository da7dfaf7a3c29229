"""Staff screens for intake: keys, the inbound log, imports, phone orders and the hold queue."""

import json
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse

from intake.models import ChannelApiKey, ImportBatch, InboundRequest, SkuMapping
from intake.work import intake_work
from orders.models import Channel, Order
from tests.factories import ChannelFactory, ProductFactory, UserFactory, stock_put

from .conftest import FIXTURES, order_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="boss", is_superuser=True))
    return client


def test_channel_page_creates_a_key_shown_once_that_works(staff_client, widgets):
    channel = ChannelFactory(code="web", name="Web shop")
    url = reverse("admin:orders_channel_object_action", args=[channel.pk, "create_key"])

    page = staff_client.post(url, {"name": "shop backend"}, follow=True)

    (plain,) = re.findall(r"oms_[0-9a-f]{8}_[\w-]+", page.content.decode())
    assert ChannelApiKey.objects.get().name == "shop backend"
    assert (
        plain
        not in staff_client.get(reverse("admin:orders_channel_change", args=[channel.pk])).content.decode()
    )
    response = staff_client.post(
        "/api/v1/orders",
        json.dumps(order_body()),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
    )
    assert response.status_code == 201


def test_failed_delivery_is_reprocessed_from_the_admin_after_mapping(staff_client, warehouse):
    from connectors.webhooks import webhook_signature

    woo = ChannelFactory(code="woo", name="Woo", kind=Channel.Kind.WOOCOMMERCE, webhook_secret="s")
    orders = json.loads((FIXTURES / "woocommerce" / "wc-rest-api-docs__v3_orders_list.json").read_bytes())
    orders[1]["status"] = "processing"  # still to ship: a completed one was fulfilled by the store
    body = json.dumps(orders).encode()
    staff_client.post(
        "/webhooks/woocommerce/orders",
        body,
        content_type="application/json",
        HTTP_X_WC_WEBHOOK_SIGNATURE=webhook_signature(secret="s", body=body),
    )
    intake_work()  # the intake worker processes what the webhook stored
    held = Order.objects.get(external_id="723")
    assert held.status == "on_hold"
    for key in ["woo-87", "woo-34", "woo-93"]:
        product = ProductFactory(sku=key.upper())
        stock_put(product, warehouse, 5)
        SkuMapping.objects.create(channel=woo, external_key=key, product=product)
    stock_put(ProductFactory(sku="Bar3"), warehouse, 5)

    order_page = reverse("admin:orders_order_change", args=[held.pk])
    assert "Match SKUs again" in staff_client.get(order_page).content.decode()
    staff_client.post(reverse("admin:orders_order_object_action", args=[held.pk, "rematch"]))

    held.refresh_from_db()
    assert held.status == "allocated"
    log = staff_client.get(reverse("admin:intake_inboundrequest_changelist"))
    assert log.status_code == 200 and "woocommerce" in log.content.decode().lower()


def test_inbound_log_query_count_does_not_grow(staff_client, django_assert_max_num_queries, db):
    channel = ChannelFactory()

    def make(n):
        for i in range(n):
            order = Order.objects.create(
                channel=channel, email="a@example.com", placed_at="2024-01-01T00:00Z"
            )
            InboundRequest.objects.create(source="api", channel=channel, order=order, delivery_id=str(i))

    url = reverse("admin:intake_inboundrequest_changelist")
    make(2)
    with django_assert_max_num_queries(12) as small:
        staff_client.get(url)
    make(20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert staff_client.get(url).status_code == 200


def test_import_upload_runs_and_shows_counts(staff_client):
    path = FIXTURES / "datasets" / "spark-definitive-guide__retail-data_by-day_2010-12-01.csv"
    lines = path.read_text().splitlines()[:40]  # the first few invoices
    upload = ("day.csv", "\n".join(lines).encode())
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = staff_client.post(
        reverse("admin:intake_importbatch_add"),
        {"file": SimpleUploadedFile(*upload), "channel": "marketplace", "layout": "auto"},
        follow=True,
    )

    batch = ImportBatch.objects.get()
    assert batch.status == "done" and batch.orders_processed == batch.orders_total > 1
    page = response.content.decode()
    assert f"{batch.orders_total} of {batch.orders_total} orders" in page
    assert 'http-equiv="refresh"' not in page  # done: nothing left to watch


def test_a_running_import_page_shows_a_progress_bar_and_reloads_itself(staff_client):
    batch = ImportBatch.objects.create(
        channel=ChannelFactory(code="mkt", name="Marketplace", kind="marketplace"),
        file_name="day.csv",
        layout="auto",
        content="",
        status=ImportBatch.Status.RUNNING,
        orders_total=40,
        orders_processed=15,
    )

    page = staff_client.get(reverse("admin:intake_importbatch_change", args=[batch.pk])).content.decode()

    assert 'http-equiv="refresh"' in page
    assert '<progress max="40" value="15">' in page and "15 of 40 orders" in page


def test_import_upload_of_a_bad_file_shows_the_reason(staff_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = staff_client.post(
        reverse("admin:intake_importbatch_add"),
        {"file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n"), "channel": "marketplace", "layout": "auto"},
    )

    assert response.status_code == 200
    assert "no column for" in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_phone_order_is_captured_through_the_same_service(
    staff_client, stocked_product, django_capture_on_commit_callbacks
):
    changelist = staff_client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert reverse("admin:orders_order_phone") in changelist
    search = staff_client.get(
        reverse("admin:inventory_product_autocomplete"),
        {"term": "blue wid", "app_label": "orders", "model_name": "orderline", "field_name": "product"},
    ).json()
    assert search["results"][0]["id"] == str(stocked_product.pk)
    page = staff_client.get(reverse("admin:orders_order_phone"))
    assert page.status_code == 200 and "Phone (created with this order)" in page.content.decode()
    assert not Channel.objects.exists()  # opening the page changes nothing
    data = {
        "email": "carol@example.com",
        "customer_name": "Carol Phone",
        "line1": "1 Dial Rd",
        "city": "London",
        "postal_code": "SW1A 1AA",
        "country": "gb",
        "shipping_speed": "overnight",
        "shipping_total": "4.99",
        "payment_method": "card",
        "payment_status": "authorized",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-product": str(stocked_product.pk),
        "lines-0-quantity": "2",
        "lines-0-unit_price": "",
        "lines-1-product": "",
        "lines-1-quantity": "1",
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("admin:orders_order_phone"), data)

    assert response.status_code == 302, re.findall(r"errorlist[^<]*<li>([^<]*)", response.content.decode())
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{order.pk}/change/")
    assert (order.channel.code, order.channel.kind) == ("phone", "phone")  # made by the first order
    assert order.status == "allocated"
    assert order.total == Decimal("54.99")  # 2 × 25.00 list price + 4.99
    assert order.shipping_address.country == "GB" and order.shipping_speed == "overnight"
    assert len(mail.outbox) == 1 and "/track/o/" in mail.outbox[0].body


def test_phone_order_paid_with_the_customers_store_credit_code(staff_client, channel, stocked_product):
    from orders.services import order_capture
    from tests.conftest import make_order_input
    from tests.returns.helpers import balance_of, credit_issue

    earlier = order_capture(channel=channel, data=make_order_input(lines=[("WIDGET-1", 1, "25.00")]))
    credit = credit_issue(order=earlier, amount="60.00", email="carol@example.com")
    phone = ChannelFactory(code="phone", name="Phone", kind=Channel.Kind.PHONE)
    data = {
        "channel": phone.pk,
        "email": "Carol@example.com",
        "customer_name": "Carol Phone",
        "line1": "1 Dial Rd",
        "city": "New York",
        "postal_code": "10001",
        "country": "US",
        "shipping_speed": "standard",
        "shipping_total": "4.99",
        "payment_method": "store_credit",
        "payment_status": "pending",
        "payment_reference": credit.code.lower(),  # read out over the phone
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-product": str(stocked_product.pk),
        "lines-0-quantity": "2",
    }

    response = staff_client.post(reverse("admin:orders_order_phone"), data)

    assert response.status_code == 302, re.findall(r"errorlist[^<]*<li>([^<]*)", response.content.decode())
    order = Order.objects.get(channel__kind="phone")
    assert (order.status, order.payment_status) == ("allocated", "paid")
    assert balance_of(credit) == Decimal("5.01")  # 60.00 less 2 × 25.00 + 4.99
    page = staff_client.get(response["Location"]).content.decode()
    assert f"Paid 54.99 USD with store credit {credit.code}; 5.01 USD left on it." in page


def test_phone_order_with_an_inactive_product_shows_the_error(staff_client, stocked_product):
    stocked_product.is_active = False
    stocked_product.save()
    response = staff_client.post(
        reverse("admin:orders_order_phone"),
        {
            "channel": "",
            "email": "c@example.com",
            "customer_name": "C",
            "line1": "1 Rd",
            "city": "X",
            "country": "US",
            "shipping_speed": "standard",
            "shipping_total": "0",
            "payment_method": "card",
            "payment_status": "authorized",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "1000",
            "lines-0-product": str(stocked_product.pk),
            "lines-0-quantity": "1",
        },
    )

    assert response.status_code == 200
    assert "WIDGET-1 is inactive and can&#x27;t be ordered." in response.content.decode()
    assert Order.objects.count() == 0 and not Channel.objects.exists()


def test_the_phone_order_link_is_for_staff_who_may_take_orders(client):
    url = reverse("admin:orders_order_changelist")
    for group, shown in [("Customer service", True), ("Warehouse staff", False)]:
        user = UserFactory()
        user.groups.add(Group.objects.get(name=group))
        client.force_login(user)
        page = client.get(url).content.decode()
        assert (reverse("admin:orders_order_phone") in page) is shown, group
