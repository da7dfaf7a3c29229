"""The fulfilment admin: the late-shipments queue, shipping without e-mailing the customer, and
staff overriding the carrier service with a reason."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from fulfillment.exceptions import ServiceLevelOverrideRefused
from fulfillment.models import Shipment
from fulfillment.selectors import shipment_list_late
from fulfillment.services import shipment_change_service_level, shipment_pack, shipment_ship
from orders.models import OrderEvent
from tests.factories import CarrierFactory, ServiceLevelFactory

pytestmark = pytest.mark.django_db


def test_late_shipments_reach_the_customer_service_queue(
    warehouse, catalog, service_level, ready_shipment, staff_client
):
    today = timezone.localdate()
    on_time = ready_shipment([("MUG-1", 1)])
    late = ready_shipment([("TEA-1", 1)])
    delivered = ready_shipment([("POT-1", 1)])
    for s in (late, delivered):
        shipment_pack(shipment_id=s.pk)
        shipment_ship(shipment_id=s.pk, tracking_number=f"T-{s.pk}")
    Shipment.objects.filter(pk__in=[late.pk, delivered.pk]).update(
        estimated_delivery=today - dt.timedelta(days=2)
    )
    Shipment.objects.filter(pk=on_time.pk).update(estimated_delivery=today + dt.timedelta(days=1))
    from fulfillment.services import shipment_deliver

    shipment_deliver(shipment_id=delivered.pk)

    assert [s.number for s in shipment_list_late()] == [late.number]
    url = reverse("admin:fulfillment_lateshipment_changelist")
    response = staff_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert late.number in page and on_time.number not in page and delivered.number not in page

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(url).status_code == 200
        return len(ctx)

    small = count()
    for _ in range(3):
        more = ready_shipment([("MUG-1", 1)])
        Shipment.objects.filter(pk=more.pk).update(estimated_delivery=today - dt.timedelta(days=1))
    assert count() == small


def test_staff_can_ship_without_emailing_and_it_is_noted(
    warehouse, catalog, service_level, ready_shipment, staff_client, django_capture_on_commit_callbacks
):
    shipment = ready_shipment([("MUG-1", 1)])
    for name, data in [("pack", {}), ("ship", {"tracking_number": "", "silent": "on"})]:
        url = reverse("admin:fulfillment_shipment_object_action", args=[shipment.pk, name])
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            staff_client.post(url, data)
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SHIPPED and shipment.tracking_number.startswith("LC")
    assert mail.outbox == []
    assert shipment.order.events.filter(message__contains="staff chose not to notify").exists()
    url = reverse("admin:fulfillment_shipment_object_action", args=[shipment.pk, "deliver"])
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(url, {"silent": "on"})
    assert mail.outbox == []
    assert shipment.order.events.filter(kind=OrderEvent.Kind.EMAIL).count() == 0


def test_staff_override_of_the_carrier_is_recorded_with_its_reason(
    warehouse, catalog, service_level, ready_shipment, staff_client
):
    shipment = ready_shipment([("POT-1", 1)])
    fast = ServiceLevelFactory(
        carrier=CarrierFactory(code="fedex", name="FedEx"), code="2day", name="2Day", speed="express",
        transit_days=2, max_weight_grams=500,
    )  # fmt: skip
    page = staff_client.get(reverse("admin:fulfillment_shipment_change", args=[shipment.pk])).content.decode()
    assert "Change carrier service" in page and "FedEx 2Day" in page
    url = reverse("admin:fulfillment_shipment_object_action", args=[shipment.pk, "change_service"])
    response = staff_client.post(url, {"service_level": str(fast.pk), "reason": ""})
    assert response.status_code == 200  # the form again, the chosen service kept, with the error
    assert response.context["form"].errors == {"reason": ["This field is required."]}
    assert f'<option value="{fast.pk}" selected>' in response.content.decode()
    staff_client.post(url, {"service_level": str(fast.pk), "reason": "customer upgraded by phone"})
    shipment.refresh_from_db()
    assert shipment.service_level == fast
    note = shipment.order.events.filter(message__contains="changed by staff").get()
    assert "customer upgraded by phone" in note.message
    assert "900 g is over its 500 g limit" in note.message  # the rules would refuse: said so
    with pytest.raises(ServiceLevelOverrideRefused):
        shipment_change_service_level(shipment_id=shipment.pk, service_level_id=fast.pk, reason="again")
    response = staff_client.post(url, {"service_level": "nope", "reason": "x"}, follow=True)
    assert response.status_code == 200 and "Choose a carrier service" in response.content.decode()
