"""Links to an order: signed, time-limited ones to the customer's page (used in every customer
e-mail), and the staff's page in the admin."""

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "orders.tracking-link"


def order_tracking_token(*, order_number: str) -> str:
    return signing.TimestampSigner(salt=SALT).sign(order_number)


def order_number_from_token(token: str) -> str | None:
    """The order number a token was made for, or None if it is forged or has expired."""
    max_age = dt.timedelta(days=settings.OMS["TRACKING_LINK_MAX_AGE_DAYS"])
    try:
        return signing.TimestampSigner(salt=SALT).unsign(token, max_age=max_age)
    except signing.BadSignature:
        return None


def order_tracking_url(*, order_number: str, absolute: bool = True) -> str:
    path = reverse("portal:order", args=[order_tracking_token(order_number=order_number)])
    return f"{settings.SITE_URL}{path}" if absolute else path


def order_admin_url(*, order_id: int) -> str:
    """The order's page in the staff admin."""
    return reverse("admin:orders_order_change", args=[order_id])
