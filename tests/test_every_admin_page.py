"""Every admin page staff can reach opens on the demo data: list, add and change pages, the pages
of the steps each change page offers, the custom staff pages, and the customer pages of every demo
order. A smoke test against 500s."""

import io

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from core.admin_actions import ObjectActionsMixin
from orders.links import order_tracking_token
from orders.models import Order


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=io.StringIO())
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.mark.django_db
def test_every_admin_list_add_and_change_page_opens(demo, client):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="admin"))
    failures = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        urls = [reverse(f"{base}_changelist")]
        if model_admin.has_add_permission(_request(client)):
            urls.append(reverse(f"{base}_add"))
        listed = model_admin.get_queryset(_request(client))
        for obj in listed.order_by("-pk")[:3]:
            urls.append(reverse(f"{base}_change", args=[obj.pk]))
            # Each step offered on the page opens its own page (its form, its question).
            if isinstance(model_admin, ObjectActionsMixin):
                for action in model_admin.get_object_actions(_request(client), obj):
                    urls.append(model_admin.object_action_url(obj, action))
        for url in urls:
            status = client.get(url).status_code
            if status != 200:
                failures.append(f"{url}: {status}")
    for name in [
        "reports:dashboard",
        "admin:fulfillment_shipment_pack_station",
        "admin:returns_returnrequest_scan",
    ]:
        try:
            url = reverse(name)
        except NoReverseMatch:
            failures.append(f"{name}: no such page")
            continue
        if (status := client.get(url).status_code) != 200:
            failures.append(f"{url}: {status}")
    assert failures == []


@pytest.mark.django_db
def test_every_demo_order_page_opens_for_the_customer(demo, client):
    failures = []
    for number in Order.objects.values_list("number", flat=True):
        token = order_tracking_token(order_number=number)
        for name in ("portal:order", "portal:message_post", "portal:return_new"):
            status = client.get(reverse(name, args=[token])).status_code
            if status != 200:
                failures.append(f"{name} {number}: {status}")
    assert failures == []


def _request(client):
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = get_user_model().objects.get(username="admin")
    return request
