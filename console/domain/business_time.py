"""Business-hours arithmetic for SLA clocks, correct across DST changes.

A calendar counts time only on its working days, between `from` and `to` in its own time
zone, skipping holidays. Working windows are built per local date and converted to UTC
with zoneinfo, so a 09:00–17:00 day stays 8 hours of real time on the days clocks change.
With no calendar ("24x7") time is simply the real elapsed time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from opsdesk.console.config.model import WEEKDAYS, BusinessCalendar

MAX_DAYS = 3660  # a due time is never searched for further ahead than ten years


def _windows(calendar: BusinessCalendar, first: date) -> Iterator[tuple[datetime, datetime]]:
    """Working windows (UTC start, UTC end) from local date `first` onwards."""
    zone = ZoneInfo(calendar.timezone)
    days = {WEEKDAYS.index(d) for d in calendar.days}
    holidays = set(calendar.holidays)
    for offset in range(MAX_DAYS):
        day = first + timedelta(days=offset)
        if day.weekday() not in days or day in holidays:
            continue
        start = datetime.combine(day, calendar.from_, tzinfo=zone).astimezone(UTC)
        end = datetime.combine(day, calendar.to, tzinfo=zone).astimezone(UTC)
        if end > start:
            yield start, end


def _local_date(calendar: BusinessCalendar, instant: datetime) -> date:
    return instant.astimezone(ZoneInfo(calendar.timezone)).date()


def elapsed(calendar: BusinessCalendar | None, start: datetime, end: datetime) -> timedelta:
    """Counted time between two instants (zero if `end` is not after `start`)."""
    # In UTC: subtracting two datetimes that share a tzinfo ignores DST (wall-clock maths).
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return timedelta(0)
    if calendar is None:
        return end - start
    total = timedelta(0)
    for window_start, window_end in _windows(calendar, _local_date(calendar, start)):
        if window_start >= end:
            break
        overlap = min(window_end, end) - max(window_start, start)
        if overlap > timedelta(0):
            total += overlap
    return total


def add(calendar: BusinessCalendar | None, start: datetime, amount: timedelta) -> datetime:
    """The instant at which `amount` of counted time has passed after `start`."""
    start = start.astimezone(UTC)
    if calendar is None:
        return start + amount
    left = amount
    for window_start, window_end in _windows(calendar, _local_date(calendar, start)):
        if window_end <= start:
            continue
        begin = max(window_start, start)
        if begin + left <= window_end:
            return begin + left
        left -= window_end - begin
    raise ValueError("the business calendar has no working time in the next ten years")


def is_working(calendar: BusinessCalendar | None, instant: datetime) -> bool:
    if calendar is None:
        return True
    for window_start, window_end in _windows(calendar, _local_date(calendar, instant)):
        if window_start > instant:
            return False
        if window_start <= instant < window_end:
            return True
    return False
