"""What period a service review covers, read in the team's time zone.

`--month 2026-11` is the calendar month in the team's zone: from local midnight on the
1st to local midnight on the 1st of the next month, so a month in which clocks change is
an hour shorter or longer in real time, as the business counts it. It is compared with
the calendar month before. `--from D1 --to D2` covers whole local days D1 to D2 inclusive
and is compared with the same number of days just before D1. The team's zone is
`[service_review] timezone`, else the zone of its business-hours calendar, else of the
first SLA calendar, else UTC (`team_zone`).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from opsdesk.console.config.model import BusinessCalendar, Config
from opsdesk.console.domain.periods import start_of

if TYPE_CHECKING:
    # Imported where a period is made: `team_zone` serves every `--from`/`--to` list,
    # which must not load the service review's record classes (tests/test_import_cost.py).
    from opsdesk.console.domain.service_review import Period

MONTH = re.compile(r"(\d{4})-(\d{2})")
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
MAX_DAYS = 366  # a review longer than a year is a mistake, not a review


class PeriodError(ValueError):
    """A period that cannot be reviewed; the message names what is wrong."""


def team_zone(config: Config) -> str:
    """The zone months and out-of-hours are read in (see the module docstring)."""
    review = config.service_review
    if review.timezone:
        return review.timezone
    calendars = config.sla.calendars
    if review.business_hours in calendars:
        return calendars[review.business_hours].timezone
    for calendar in calendars.values():
        return calendar.timezone
    return "UTC"


def business_hours(config: Config) -> BusinessCalendar:
    """The calendar outside which time is out of hours: `[service_review] business_hours`
    or Monday to Friday 09:00 to 17:00 in the team's zone."""
    name = config.service_review.business_hours
    if name and name in config.sla.calendars:
        return config.sla.calendars[name]
    return BusinessCalendar(timezone=team_zone(config))


def _month_start(year: int, month: int) -> date:
    return date(year, month, 1)


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _month(first: date, zone: str) -> Period:
    from opsdesk.console.domain.service_review import Period

    tz = ZoneInfo(zone)
    return Period(
        start=start_of(first, tz),
        end=start_of(_next_month(first), tz),
        label=f"{MONTH_NAMES[first.month - 1]} {first.year}",
        timezone=zone,
    )


def month_period(text: str, zone: str) -> Period:
    """The calendar month `YYYY-MM` in `zone`, with the month before as `previous`."""
    found = MONTH.fullmatch(text.strip())
    if not found or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1970:
        raise PeriodError(f"--month {text!r}: expected a month as YYYY-MM, e.g. 2026-11")
    from opsdesk.console.domain.service_review import Period

    first = _month_start(int(found[1]), int(found[2]))
    before = (first - timedelta(days=1)).replace(day=1)
    current = _month(first, zone)
    return Period(current.start, current.end, current.label, zone, _month(before, zone))


def day_range(start: date, end: date, zone: str) -> Period:
    """Local days `start` to `end` inclusive in `zone`, with the same number of days just
    before as `previous`."""
    if end < start:
        raise PeriodError(f"--from {start} is after --to {end}")
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise PeriodError(f"--from {start} --to {end}: at most {MAX_DAYS} days")
    from opsdesk.console.domain.service_review import Period

    tz = ZoneInfo(zone)

    def span(first: date) -> Period:
        last = first + timedelta(days=days - 1)
        label = str(first) if days == 1 else f"{first} to {last}"
        return Period(start_of(first, tz), start_of(last + timedelta(days=1), tz), label, zone)

    current = span(start)
    previous = span(start - timedelta(days=days))
    return Period(current.start, current.end, current.label, zone, previous)


def compared_until(start: datetime, end: datetime, before: datetime, now: datetime) -> datetime:
    """Where the period compared with ([before, start)) ends: at `start`, unless the
    period [start, end) is not over at `now`; then as far into it as `now` is into this
    one, so part of a month is compared with as much of the month before (November 1 to
    25 against October 1 to 25), not with all of it."""
    if not start < now < end:
        return start
    return min(start, before + (now - start))


def so_far(period: Period, now: datetime) -> Period:
    """`period` with the one it is compared with cut by `compared_until`, and labelled so
    ("October 2026 to 10-25 07:00")."""
    previous = period.previous
    if previous is None:
        return period
    cut = compared_until(period.start, period.end, previous.start, now)
    if cut >= previous.end:
        return period
    shown = cut.astimezone(ZoneInfo(period.timezone))
    label = f"{previous.label} to {shown:%m-%d %H:%M}"
    return replace(period, previous=replace(previous, end=cut, label=label))


def parse_day(flag: str, text: str) -> date:
    """A `--from`/`--to` date (YYYY-MM-DD), or a PeriodError naming the flag."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"{flag} {text!r}: expected a date as YYYY-MM-DD") from None


REVIEW_FROM_DAY = 16
"""From this day of a month on, the month under review is that month; before it, the
month before (a monthly review is written in the first days of a month, about the one
that just ended; a month with under half of it gone has little to review yet)."""


def month_to_review(today: date) -> date:
    """The first day of the month a review opened on `today` (a date in the team's zone)
    covers: this month from the 16th, else the month before. The console's Review screen
    opens on it and the demo tells its story in it."""
    first = today.replace(day=1)
    if today.day >= REVIEW_FROM_DAY:
        return first
    return (first - timedelta(days=1)).replace(day=1)
