"""Delivery estimates: ship date from the cutoff, then business days in transit."""

import datetime as dt

from django.utils import timezone


def add_business_days(day: dt.date, days: int) -> dt.date:
    while days > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def next_business_day(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def ship_date_for(moment: dt.datetime, cutoff: dt.time) -> dt.date:
    """The day a parcel handed over at `moment` leaves: today before the cutoff on a business
    day, otherwise the next business day."""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    day = local.date()
    if day.weekday() >= 5 or local.time() >= cutoff:
        day = next_business_day(day + dt.timedelta(days=1))
    return day


def estimate_delivery(moment: dt.datetime, *, cutoff: dt.time, transit_days: int) -> dt.date:
    return add_business_days(ship_date_for(moment, cutoff), transit_days)
