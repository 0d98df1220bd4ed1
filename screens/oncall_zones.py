"""Times on the On-call screens: in the viewer's own zone, and in each schedule's."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from opsdesk.console.config.model import Config


def viewer_zone(config: Config, login: str, now: datetime) -> tzinfo:
    """The viewer's zone: theirs from [[people]], else this machine's."""
    person = config.person(login)
    if person is not None:
        return ZoneInfo(person.timezone)
    return now.astimezone().tzinfo or UTC


def zone_label(zone: tzinfo, now: datetime) -> str:
    name = getattr(zone, "key", None) or now.astimezone(zone).tzname() or "UTC"
    return f"{name}, {now.astimezone(zone):%Z %z}"


def span(start: datetime | None, end: datetime | None, zone: tzinfo) -> str:
    """ "11-23 09:00→11-26 22:00 EST": both ends in `zone`, its abbreviation once. An
    end that is None (no hand-off within a year) reads "no end"; a start, "long ago"."""
    if start is None or end is None:
        known = start or end
        shown = f"{known.astimezone(zone):%m-%d %H:%M %Z}" if known else ""
        return f"{shown}→no end" if start else f"long ago→{shown}".rstrip("→")
    begin, finish = start.astimezone(zone), end.astimezone(zone)
    tail = f"{finish:%H:%M}" if begin.date() == finish.date() else f"{finish:%m-%d %H:%M}"
    return f"{begin:%m-%d %H:%M}→{tail} {finish:%Z}"
