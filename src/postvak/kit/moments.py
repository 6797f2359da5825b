"""Date and time arithmetic that never overflows: past the ends of the calendar it stops at them.

Rules compute with dates that senders stored (a `dueDate` of 0001-01-02 is a valid date), and a
rule that raises OverflowError on one of them stops every job that meets it. Clamping is the
right answer for a rule: a reminder "five days before 0001-01-02" is simply long past.
"""

from datetime import UTC, date, datetime, time, timedelta, tzinfo

EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
_LONGEST = timedelta.max.days


def shift(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta`, or the first or last moment of the calendar (in `moment`'s zone) past its ends."""
    try:
        return moment + delta
    except OverflowError:
        end = datetime.max if delta > timedelta(0) else datetime.min
        return end.replace(tzinfo=moment.tzinfo)


def shift_days(moment: datetime, days: int) -> datetime:
    """`moment` plus (or minus) whole days; any int, clamped like shift."""
    return shift(moment, timedelta(days=max(-_LONGEST, min(days, _LONGEST))))


def day_shift(day: date, days: int) -> date:
    """`day` plus (or minus) whole days, clamped to date.min and date.max."""
    try:
        return day + timedelta(days=max(-_LONGEST, min(days, _LONGEST)))
    except OverflowError:
        return date.max if days > 0 else date.min


def in_utc(day: date, at: time, zone: tzinfo) -> datetime:
    """The UTC moment of a wall-clock time on a day in `zone`, clamped to the calendar's ends."""
    local = datetime.combine(day, at, tzinfo=zone)
    return shift(local.replace(tzinfo=UTC), -(local.utcoffset() or timedelta(0)))


def local_date(moment: datetime, zone: tzinfo) -> date:
    """The date in `zone` at `moment`; at the calendar's very ends, where that date does not exist,
    the last (or first) one."""
    try:
        return moment.astimezone(zone).date()
    except OverflowError:
        return date.max if moment.year > 1 else date.min
