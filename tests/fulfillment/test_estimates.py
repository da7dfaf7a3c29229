"""fulfillment.estimates: delivery dates around cutoffs, weekends and time zones. The customer's
estimate from capture on: test_selectors.py; the late-shipment queue: test_admin.py."""

import datetime as dt

import pytest

from fulfillment.estimates import estimate_delivery

from .conftest import at

CUTOFF = dt.time(15, 0)

# 2024-08-02 is a Friday.
CASES = [
    ("2024-08-02", "14:59", 3, "2024-08-07"),  # before the cutoff: leaves Friday
    ("2024-08-02", "15:00", 3, "2024-08-08"),  # at the cutoff: leaves Monday
    ("2024-08-03", "10:00", 3, "2024-08-08"),  # Saturday: leaves Monday
    ("2024-08-04", "23:59", 3, "2024-08-08"),  # Sunday night: leaves Monday
    ("2024-08-05", "09:00", 3, "2024-08-08"),  # Monday morning
    ("2024-08-07", "16:00", 2, "2024-08-12"),  # Wednesday late: Thursday + 2 skips the weekend
    ("2024-08-02", "14:00", 1, "2024-08-05"),  # overnight from Friday lands Monday
    ("2024-08-02", "16:00", 0, "2024-08-05"),  # same-day courier after cutoff: Monday
    ("2024-08-09", "08:00", 5, "2024-08-16"),  # a full business week
]


@pytest.mark.parametrize(("day", "time", "transit", "expected"), CASES)
def test_estimate_around_cutoffs_and_weekends(day, time, transit, expected):
    got = estimate_delivery(at(day, time), cutoff=CUTOFF, transit_days=transit)
    assert got == dt.date.fromisoformat(expected)
    assert got.weekday() < 5


def test_cutoff_is_read_in_the_warehouse_time_zone(settings):
    moment = at("2024-08-02", "18:30")  # 14:30 in New York, 18:30 in UTC
    settings.TIME_ZONE = "America/New_York"
    assert estimate_delivery(moment, cutoff=CUTOFF, transit_days=1) == dt.date(2024, 8, 5)
    assert estimate_delivery(moment, cutoff=CUTOFF, transit_days=3) == dt.date(2024, 8, 7)
    settings.TIME_ZONE = "UTC"
    assert estimate_delivery(moment, cutoff=CUTOFF, transit_days=3) == dt.date(2024, 8, 8)
