"""A period given on the command line as `--from`/`--to`: whole days or exact instants.

A manager asks for "November" as `--from 2026-11-01 --to 2026-11-30` and means both days
in full; a script asks for `--from 2026-11-01T09:00Z`. So a bound is either a day (read in
the team's zone: from its first instant, to the end of it) or an instant (taken as given,
UTC when it has no offset). The period is half-open, [start, end), as every period in the
store is compared, so two consecutive periods never count the same record twice.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_bound(text: str) -> date | datetime:
    """ "2026-11-01" → that day; "2026-11-01T09:00Z" (or with an offset) → that instant.
    A ValueError says what was expected, naming what was given."""
    value = text.strip()
    try:
        if DAY.fullmatch(value):
            return date.fromisoformat(value)
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"expected a date like 2026-11-01 or a time like 2026-11-01T09:00Z, got {text!r}"
        ) from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def start_of(bound: date | datetime, zone: tzinfo) -> datetime:
    """The first instant a `--from` bound includes (a day starts at its midnight in `zone`)."""
    if isinstance(bound, datetime):
        return bound.astimezone(UTC)
    return datetime.combine(bound, time(0), zone).astimezone(UTC)


def end_of(bound: date | datetime, zone: tzinfo) -> datetime:
    """The first instant after a `--to` bound (a day includes all of itself, so the period
    ends at the next day's midnight in `zone`, whatever the length of that day)."""
    if isinstance(bound, datetime):
        return bound.astimezone(UTC)
    return datetime.combine(bound + timedelta(days=1), time(0), zone).astimezone(UTC)


def between(
    start: date | datetime | None, end: date | datetime | None, zone: tzinfo = UTC
) -> tuple[datetime | None, datetime | None]:
    """[start, end) as UTC instants (None: open on that side). A period that ends before
    it starts (or is empty) is a ValueError naming both bounds."""
    first = None if start is None else start_of(start, zone)
    after = None if end is None else end_of(end, zone)
    if first is not None and after is not None and after <= first:
        raise ValueError(f"--from {_said(start)} is not before --to {_said(end)}")
    return first, after


def _said(bound: date | datetime | None) -> str:
    if isinstance(bound, datetime):
        return bound.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return "" if bound is None else bound.isoformat()
