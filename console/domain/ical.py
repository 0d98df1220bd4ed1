"""RFC 5545 calendars of on-call shifts, for calendar apps to import.

Each shift is one VEVENT whose times are written in the schedule's own zone (TZID), with a
VTIMEZONE built from that zone's real offset changes over the exported range, so Google
Calendar, Outlook and Apple Calendar place the shift where the rota says across DST. Text
is escaped and lines folded at 75 octets, as the RFC requires.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

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


def escape(text: str) -> str:
    """A TEXT value: backslash, semicolon, comma and newline escaped; controls dropped."""
    text = "".join(ch for ch in text if ch in "\n" or (ord(ch) >= 32 and ord(ch) != 127))
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\n", "\\n")


def fold(line: str) -> str:
    """Split a content line into 75-octet pieces, never inside a UTF-8 character."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    pieces, current, limit = [], b"", 75
    for char in line:
        size = len(char.encode())
        if len(current) + size > limit:
            pieces.append(current.decode())
            current, limit = b"", 74  # continuation lines start with a space
        current += char.encode()
    pieces.append(current.decode())
    return "\r\n ".join(pieces)


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y%m%dT%H%M%S")


def _offset(delta: timedelta | None) -> str:
    seconds = int((delta or timedelta(0)).total_seconds())
    sign = "+" if seconds >= 0 else "-"
    seconds = abs(seconds)
    return f"{sign}{seconds // 3600:02d}{seconds % 3600 // 60:02d}"


def transitions(zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """UTC instants in [start, end) at which the zone's offset changes (to the second)."""
    found = []
    step = timedelta(hours=6)
    moment = start
    while moment < end:
        following = min(moment + step, end)
        if moment.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            low, high = moment, following
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
                    low = middle
                else:
                    high = middle
            found.append(high.replace(microsecond=0))
        moment = following
    return found


def vtimezone(name: str, start: datetime, end: datetime) -> list[str]:
    """A VTIMEZONE with one STANDARD or DAYLIGHT part per real offset change in range
    (and one for the offset in force at `start`)."""
    zone = ZoneInfo(name)
    begin = start - timedelta(days=1)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{name}"]
    changes = [begin, *transitions(zone, begin, end + timedelta(days=1))]
    for index, moment in enumerate(changes):
        local = moment.astimezone(zone)
        before = (moment - timedelta(seconds=1)).astimezone(zone).utcoffset()
        kind = "DAYLIGHT" if local.dst() else "STANDARD"
        lines += [
            f"BEGIN:{kind}",
            f"DTSTART:{local.strftime('%Y%m%dT%H%M%S')}",
            f"TZOFFSETFROM:{_offset(before if index else local.utcoffset())}",
            f"TZOFFSETTO:{_offset(local.utcoffset())}",
            f"TZNAME:{escape(local.tzname() or name)}",
            f"END:{kind}",
        ]
    lines.append("END:VTIMEZONE")
    return lines


def calendar(shifts: Sequence[CalendarShift], stamp: datetime, name: str) -> str:
    """The whole VCALENDAR as text with CRLF line ends."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    lines.append(f"X-WR-CALNAME:{escape(name)}")
    for zone_name in sorted({s.timezone for s in shifts}):
        mine = [s for s in shifts if s.timezone == zone_name]
        lines += vtimezone(zone_name, min(s.start for s in mine), max(s.end for s in mine))
    for shift in shifts:
        lines += _event(shift, stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def _event(shift: CalendarShift, stamp: datetime) -> Iterable[str]:
    zone = ZoneInfo(shift.timezone)
    who = shift.name or shift.login
    uid = f"{shift.schedule}-{shift.login}-{shift.start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return [
        "BEGIN:VEVENT",
        f"UID:{escape(uid)}@opsdesk",
        f"DTSTAMP:{stamp.astimezone(UTC):%Y%m%dT%H%M%SZ}",
        f"DTSTART;TZID={shift.timezone}:{_local(shift.start, zone)}",
        f"DTEND;TZID={shift.timezone}:{_local(shift.end, zone)}",
        f"SUMMARY:{escape(f'On call: {shift.schedule} ({who})')}",
        f"DESCRIPTION:{escape(f'{who} covers {shift.schedule} ({shift.source}).')}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
    ]
