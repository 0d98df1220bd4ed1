"""RFC 5545 calendars of on-call shifts, for calendar apps to import.

Each shift is one VEVENT whose times are written in the schedule's own zone (TZID), and
`icalendar` adds each zone's VTIMEZONE, built from zoneinfo over the exported range, so
Google Calendar, Outlook and Apple Calendar place the shift where the rota says across DST.
A wall time that a DST change repeats (01:30 on the night clocks go back) is written in UTC
instead, since readers disagree on which of the two it means. `icalendar` escapes text and
folds lines at 75 octets; control characters, which RFC 5545 text may not hold, are dropped.

`icalendar` costs some 30 ms to import: the CLI imports this module only to export.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vText

PRODID = "-//opsdesk//on-call export//EN"


@dataclass(frozen=True)
class CalendarShift:
    schedule: str
    timezone: str
    login: str
    name: str
    start: datetime
    end: datetime
    source: str


def _text(text: str) -> vText:
    """A TEXT value without control characters (newline is kept, and escaped on output)."""
    return vText("".join(ch for ch in text if ch == "\n" or 32 <= ord(ch) != 127))


def _when(moment: datetime, zone: ZoneInfo) -> datetime:
    """`moment` on the zone's clock, or in UTC where that clock reading happens twice."""
    local = moment.astimezone(zone)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return moment.astimezone(UTC)
    return local


def calendar(shifts: Sequence[CalendarShift], stamp: datetime, name: str) -> str:
    """The whole VCALENDAR as text with CRLF line ends."""
    cal = Calendar()
    cal.add("VERSION", "2.0")
    cal.add("PRODID", PRODID)
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("X-WR-CALNAME", _text(name))  # a plain str would go out unescaped
    for shift in shifts:
        zone = ZoneInfo(shift.timezone)
        who = shift.name or shift.login
        uid = f"{shift.schedule}-{shift.login}-{shift.start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        event = Event()
        event.add("UID", _text(f"{uid}@opsdesk"))
        event.add("DTSTAMP", stamp.astimezone(UTC))
        event.add("DTSTART", _when(shift.start, zone))
        event.add("DTEND", _when(shift.end, zone))
        event.add("SUMMARY", _text(f"On call: {shift.schedule} ({who})"))
        event.add("DESCRIPTION", _text(f"{who} covers {shift.schedule} ({shift.source})."))
        event.add("TRANSP", "OPAQUE")
        cal.add_component(event)
    if shifts:  # the dates bound each zone's clock, up to a day off the UTC date
        cal.add_missing_timezones(
            first_date=min(s.start for s in shifts).astimezone(UTC).date() - timedelta(days=1),
            last_date=max(s.end for s in shifts).astimezone(UTC).date() + timedelta(days=2),
        )
    return cal.to_ical().decode()
