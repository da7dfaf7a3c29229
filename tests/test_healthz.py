"""/healthz (config/views.py): the load balancer's check costs no query; `?detail=1` tells
monitoring how far behind the intake worker is."""

import datetime as dt

import pytest

from intake.models import InboundRequest
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def test_the_plain_check_makes_no_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200 and response.content == b"ok"


def test_the_detail_gives_the_intake_backlog_in_one_query(client, clock, django_assert_num_queries):
    shop = ChannelFactory(kind="shopify")
    now = clock.moment
    for minutes in (9, 2):
        clock.moment = now - dt.timedelta(minutes=minutes)
        InboundRequest.objects.create(source="shopify", channel=shop, outcome="received")
    clock.moment = now - dt.timedelta(hours=1)
    InboundRequest.objects.create(source="shopify", channel=shop, outcome="captured")
    InboundRequest.objects.create(source="csv", channel=shop, outcome="received")  # its import runs it
    clock.moment = now

    with django_assert_num_queries(1):
        response = client.get("/healthz?detail=1")

    intake = response.json()["intake"]
    assert (intake["pending"], intake["oldest_age_seconds"]) == (2, 9 * 60.0)


def test_the_detail_of_an_empty_backlog(client):
    assert client.get("/healthz?detail=1").json() == {
        "status": "ok",
        "intake": {"pending": 0, "oldest_at": None, "oldest_age_seconds": None},
    }
