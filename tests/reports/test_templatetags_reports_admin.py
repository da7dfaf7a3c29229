"""reports.templatetags.reports_admin: lead times and their bands, read as a manager expects."""

import datetime as dt

import pytest

from reports.selectors import LeadBand

pytestmark = pytest.mark.usefixtures("clock")


@pytest.mark.parametrize(
    "value, shown",
    [(None, "—"), (dt.timedelta(minutes=45), "45 min"), (dt.timedelta(hours=5, minutes=30), "5 h 30 min"),
     (dt.timedelta(days=1, hours=12, minutes=59), "1 d 12 h")],
)  # fmt: skip
def test_lead_times_read_in_days_hours_minutes(value, shown):
    from reports.templatetags.reports_admin import duration_short

    assert duration_short(value) == shown


@pytest.mark.parametrize(
    "within_hours, after, within, shown",
    [(1, 0, 1, "within 1 h"), (26, 25, 26, "within 26 h"), (78, 72, 78, "within 3 d 6 h"),
     (240, 216, 240, "within 10 d"), (None, 720, None, "over 30 d")],
)  # fmt: skip
def test_bands_read_as_a_manager_expects(within_hours, after, within, shown):
    from reports.templatetags.reports_admin import lead_band

    band = LeadBand.from_hours(within_hours)
    assert band.after == dt.timedelta(hours=after)
    assert band.within == (dt.timedelta(hours=within) if within is not None else None)
    assert lead_band(band) == shown
