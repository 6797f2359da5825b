"""Clamped date arithmetic: past the calendar's ends it stops at them instead of raising."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from postvak.kit import moments

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def test_shifting_stops_at_the_ends_of_the_calendar():
    assert moments.shift(moments.LATEST - timedelta(days=1), timedelta(days=2)) == moments.LATEST
    assert moments.shift(moments.EARLIEST, -timedelta(seconds=1)) == moments.EARLIEST
    assert moments.shift_days(datetime(2027, 1, 1, tzinfo=UTC), 10**12) == moments.LATEST
    assert moments.day_shift(date(1, 1, 2), -5) == date.min
    assert moments.day_shift(date.max, 1) == date.max
    assert moments.day_shift(date(2027, 3, 31), -5) == date(2027, 3, 26)


@given(st.datetimes(timezones=st.just(UTC)), st.integers(-(10**12), 10**12))
def test_shifting_by_days_never_raises_and_moves_the_right_way(moment, days):
    shifted = moments.shift_days(moment, days)
    assert (shifted >= moment) if days >= 0 else (shifted <= moment)


def test_a_wall_clock_time_in_amsterdam_in_utc():
    assert moments.in_utc(date(2027, 1, 15), time(17), AMSTERDAM) == datetime(2027, 1, 15, 16, tzinfo=UTC)
    assert moments.in_utc(date(2027, 7, 15), time(17), AMSTERDAM) == datetime(2027, 7, 15, 15, tzinfo=UTC)
    assert moments.in_utc(date.min, time.min, AMSTERDAM) == moments.EARLIEST  # before the first moment


@given(st.datetimes(timezones=st.just(UTC)))
def test_the_local_date_exists_for_every_moment(moment):
    assert abs(moments.local_date(moment, AMSTERDAM) - moment.date()) <= timedelta(days=1)
