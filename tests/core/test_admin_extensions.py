"""core.admin_extensions: apps downstream add inlines, buttons and URLs to another app's admin
from their ready(), in any order, and the system check finds an extension no admin would show."""

from collections import defaultdict

import pytest
from django import forms
from django.contrib import admin
from django.test import RequestFactory
from django.urls import path, reverse

from core import admin_extensions
from core.admin_actions import ObjectAction, ObjectActionForm
from core.admin_extensions import (
    AdminExtension,
    ExtensibleAdminMixin,
    admin_extend,
    admin_extension,
    check_admin_extensions,
)
from inventory.models import Warehouse
from orders.models import Order
from orders.services import order_capture

pytestmark = pytest.mark.django_db


def change_url(model, pk):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])


def test_apps_downstream_add_their_pieces_to_the_order_page_from_ready(
    admin_client, channel, stocked_product, order_input
):
    from fulfillment.admin import ShipmentInline
    from orders.admin.orders import OrderAdmin
    from returns.admin import ReturnInline
    from support.admin import ThreadInline

    assert {ShipmentInline, ReturnInline, ThreadInline}.isdisjoint(OrderAdmin.inlines)
    assert {ShipmentInline, ReturnInline, ThreadInline} <= set(admin_extension(Order).inlines)
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")]))

    page = admin_client.get(change_url(Order, order.pk)).content.decode()

    assert "Start fulfilment" in page  # fulfillment's button
    assert "Shipments" in page and "Returns" in page and "Customer messages" in page


class _ShelfForm(ObjectActionForm):
    shelf = forms.IntegerField()


@pytest.fixture
def empty_registry(monkeypatch):
    monkeypatch.setattr(admin_extensions, "_registry", defaultdict(AdminExtension))


def test_an_extension_made_before_the_admin_is_registered_still_shows(empty_registry):
    """Registration order doesn't matter: the admin reads the registry when it is used."""

    class ShelfInline(admin.TabularInline):
        model = Warehouse  # any model: only the list of inlines is looked at

    def shelf_urls(model_admin):
        return [path("shelves/", lambda request: None, name="shelves")]

    shelve = ObjectAction("shelve", "Shelve", lambda obj, user, data: "", form_class=_ShelfForm)
    admin_extend(Warehouse, inlines=[ShelfInline], object_actions=[shelve], urls=shelf_urls)
    admin_extend(Warehouse, inlines=[ShelfInline], object_actions=[shelve], urls=shelf_urls)  # again: no-op

    class WarehouseAdmin(ExtensibleAdminMixin, admin.ModelAdmin):
        pass

    site = admin.AdminSite(name="elsewhere")
    site.register(Warehouse, WarehouseAdmin)
    model_admin = site.get_model_admin(Warehouse)
    request = RequestFactory().get("/")
    assert model_admin.get_inlines(request, None) == [ShelfInline]
    assert model_admin.get_all_object_actions() == [shelve]
    assert [p.name for p in model_admin.get_urls()].count("shelves") == 1


def test_the_system_check_passes_for_the_project():
    assert check_admin_extensions() == []


def test_the_system_check_finds_an_extension_no_admin_would_show(empty_registry):
    admin_extend(Warehouse, object_actions=[ObjectAction("x", "X", lambda o, u, d: "")])
    assert [e.id for e in check_admin_extensions()] == ["core.E002"]  # WarehouseAdmin isn't extensible


def test_the_system_check_finds_an_action_whose_transition_does_not_exist(empty_registry):
    admin_extend(Order, object_actions=[ObjectAction("fly", "Fly", lambda o, u, d: "", transition="fly")])
    assert [e.id for e in check_admin_extensions()] == ["core.E004"]
