"""The iCalendar export read back as a calendar app would: every shift must land on the
UTC instants the rota says, whether the reader trusts the TZID name (Google Calendar) or
works the time out from the file's own VTIMEZONE (Outlook), across DST changes, half-hour
DST (Lord Howe), no DST at all (Kolkata) and the hour that a change to winter time repeats."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import pairwise

import icalendar
import pytest
from dateutil import tz as dateutil_tz  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from opsdesk.console.domain.ical import CalendarShift, calendar

Reading = dict[str, tuple[datetime, datetime, str]]
HOUR = timedelta(hours=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def chain(zone: str, boundaries: list[datetime], name: str = "Ana") -> list[CalendarShift]:
    """Back-to-back shifts, each from one boundary to the next."""
    return [
        CalendarShift("platform", zone, f"p{i}", name, start, end, "primary")
        for i, (start, end) in enumerate(pairwise(boundaries))
    ]


def uid(shift: CalendarShift) -> str:
    return f"{shift.schedule}-{shift.login}-{shift.start.astimezone(UTC):%Y%m%dT%H%M%SZ}@opsdesk"


def _events(text: str) -> list[icalendar.Event]:
    return icalendar.Calendar.from_ical(text).events


def _ends(event: icalendar.Event) -> list[tuple[datetime, str | None]]:
    """DTSTART and DTEND as written (wall time, with the zone icalendar gave it) and TZID."""
    ends = []
    for moment, key in ((event.start, "DTSTART"), (event.end, "DTEND")):
        assert isinstance(moment, datetime)
        ends.append((moment, event[key].params.get("TZID")))
    return ends


def _local_times(text: str, zones: Callable[[str], tzinfo]) -> Reading:
    """Each event's wall times placed with `zones` (looked up by TZID) instead."""
    found: Reading = {}
    for event in _events(text):
        start, end = (
            moment.replace(tzinfo=zones(tzid) if tzid else UTC).astimezone(UTC)
            for moment, tzid in _ends(event)
        )
        found[str(event["UID"])] = (start, end, str(event["SUMMARY"]))
    return found


def by_tzid_name(text: str) -> Reading:
    """icalendar's own reading: the TZID name looked up in zoneinfo."""
    found: Reading = {}
    for event in _events(text):
        start, end = (moment.astimezone(UTC) for moment, _ in _ends(event))
        found[str(event["UID"])] = (start, end, str(event["SUMMARY"]))
    return found


def by_vtimezone(text: str) -> Reading:
    """icalendar building each zone from the file's VTIMEZONE, not from its name."""
    parsed = icalendar.Calendar.from_ical(text)
    zones = {z.tz_name: z.to_tz(lookup_tzid=False) for z in parsed.timezones}
    return _local_times(text, zones.__getitem__)


def by_dateutil(text: str) -> Reading:
    """An independent VTIMEZONE reader: dateutil's `tzical`, fed each VTIMEZONE block."""
    unfolded = text.replace("\r\n ", "")
    zones: dict[str, tzinfo] = {}
    for block in unfolded.split("BEGIN:VTIMEZONE")[1:]:
        source = "BEGIN:VTIMEZONE" + block[: block.index("END:VTIMEZONE")] + "END:VTIMEZONE"
        parsed = dateutil_tz.tzical(io.StringIO(source.replace("\r\n", "\n")))
        zones.update({key: parsed.get(key) for key in parsed.keys()})  # noqa: SIM118
    return _local_times(text, zones.__getitem__)


READERS = [by_tzid_name, by_vtimezone, by_dateutil]


def assert_read_back(shifts: list[CalendarShift], name: str = "on call") -> str:
    """Export, read back with every reader, and compare each shift's UTC start and end."""
    text = calendar(shifts, utc(2026, 1, 1), name)
    want = {
        uid(s): (s.start, s.end, f"On call: {s.schedule} ({s.name or s.login})") for s in shifts
    }
    for reader in READERS:
        got = reader(text)
        assert got.keys() == want.keys(), reader.__name__
        for key, (start, end, summary) in want.items():
            assert got[key][:2] == (start, end), (reader.__name__, key, got[key][:2])
            assert got[key][2] == summary, (reader.__name__, key)
    return text


def test_new_york_across_both_changes_and_the_repeated_hour() -> None:
    # Clocks go forward at 2026-03-08 07:00Z and back at 2026-11-01 06:00Z; between
    # 05:00Z and 07:00Z on 1 November every wall time from 01:00 to 02:00 happens twice.
    text = assert_read_back(
        chain("America/New_York", [
            utc(2026, 3, 7, 14), utc(2026, 3, 8, 7), utc(2026, 3, 8, 13), utc(2026, 3, 9, 13),
            utc(2026, 10, 31, 13), utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6),
            utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 14), utc(2026, 11, 2, 14),
        ])
    )  # fmt: skip
    lines = text.split("\r\n")
    assert "DTSTART;TZID=America/New_York:20260308T030000" in lines  # the moment of the change
    assert "DTSTART;TZID=America/New_York:20260307T090000" in lines
    assert "DTEND;TZID=America/New_York:20260309T090000" in lines  # 09:00 EDT, after it
    # 01:30 EDT, 01:00 EST and 01:30 EST would each read as one wall time: written in UTC.
    for moment in ("20261101T053000Z", "20261101T060000Z", "20261101T063000Z"):
        assert f"DTSTART:{moment}" in lines and f"DTEND:{moment}" in lines
    assert text.count("BEGIN:VTIMEZONE") == 1 and text.index("VTIMEZONE") < text.index("VEVENT")


def test_berlin_across_both_changes_and_the_repeated_hour() -> None:
    # Forward at 2026-03-29 01:00Z, back at 2026-10-25 01:00Z (02:00-03:00 happens twice).
    text = assert_read_back(
        chain("Europe/Berlin", [
            utc(2026, 3, 28, 8), utc(2026, 3, 29, 1), utc(2026, 3, 29, 7), utc(2026, 3, 30, 7),
            utc(2026, 10, 24, 7), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1),
            utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 8), utc(2026, 10, 26, 8),
        ])
    )  # fmt: skip
    lines = text.split("\r\n")
    assert "DTSTART;TZID=Europe/Berlin:20260328T090000" in lines
    assert "DTEND;TZID=Europe/Berlin:20260330T090000" in lines
    assert {"TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZOFFSETFROM:+0200"} <= set(lines)


def test_lord_howe_half_hour_changes() -> None:
    # +11 to +10:30 at 2026-04-04 15:00Z (01:30-02:00 twice); back to +11 at 2026-10-03 15:30Z.
    text = assert_read_back(
        chain("Australia/Lord_Howe", [
            utc(2026, 4, 3, 22), utc(2026, 4, 4, 14, 45), utc(2026, 4, 4, 15),
            utc(2026, 4, 4, 15, 15), utc(2026, 4, 4, 22, 30), utc(2026, 4, 5, 22, 30),
            utc(2026, 10, 2, 22, 30), utc(2026, 10, 3, 15, 30), utc(2026, 10, 3, 22),
            utc(2026, 10, 4, 22),
        ])
    )  # fmt: skip
    lines = text.split("\r\n")
    assert {"TZOFFSETFROM:+1100", "TZOFFSETTO:+1030", "TZOFFSETTO:+1100"} <= set(lines)
    assert "DTSTART;TZID=Australia/Lord_Howe:20260404T090000" in lines  # 22:00Z at +11
    assert "DTSTART;TZID=Australia/Lord_Howe:20260405T090000" in lines  # 22:30Z at +10:30
    assert "DTSTART;TZID=Australia/Lord_Howe:20261004T023000" in lines  # the moment of the change
    for moment in ("20260404T144500Z", "20260404T150000Z", "20260404T151500Z"):
        assert f"DTSTART:{moment}" in lines and f"DTEND:{moment}" in lines


def test_kolkata_has_one_offset_and_no_daylight_part() -> None:
    text = assert_read_back(
        chain("Asia/Kolkata", [utc(2026, 1, 1, 3, 30) + i * 12 * HOUR for i in range(6)])
    )
    lines = text.split("\r\n")
    assert "BEGIN:DAYLIGHT" not in lines
    assert "TZOFFSETTO:+0530" in lines and "DTSTART;TZID=Asia/Kolkata:20260101T090000" in lines


def test_a_year_in_two_zones_in_one_file() -> None:
    text = assert_read_back(
        chain("America/New_York", [utc(2026, 1, 1, 14) + i * 24 * HOUR for i in range(366)])
        + chain("Europe/Berlin", [utc(2026, 1, 1, 8) + i * 24 * HOUR for i in range(366)])
    )
    assert text.count("BEGIN:VTIMEZONE") == 2 and text.count("BEGIN:VEVENT") == 730


# Each zone's changes in 2026 (Kolkata has none: any day will do).
CHANGES = {
    "America/New_York": [utc(2026, 3, 8, 7), utc(2026, 11, 1, 6)],
    "Europe/Berlin": [utc(2026, 3, 29, 1), utc(2026, 10, 25, 1)],
    "Australia/Lord_Howe": [utc(2026, 4, 4, 15), utc(2026, 10, 3, 15, 30)],
    "Asia/Kolkata": [utc(2026, 6, 1)],
}


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(sorted(CHANGES)),
    change=st.integers(0, 1),
    first=st.integers(-12 * 4, 12 * 4),
    steps=st.lists(st.integers(1, 8 * 4), min_size=1, max_size=12),
)
def test_any_quarter_hour_near_a_change_reads_back(
    zone: str, change: int, first: int, steps: list[int]
) -> None:
    """Shifts starting and ending on any quarter hour within hours of a DST change."""
    quarter = timedelta(minutes=15)
    anchors = CHANGES[zone]
    boundaries = [anchors[change % len(anchors)] + first * quarter]
    for step in steps:
        boundaries.append(boundaries[-1] + step * quarter)
    assert_read_back(chain(zone, boundaries))


def test_text_is_escaped_non_ascii_kept_and_controls_dropped() -> None:
    name = 'Zoë O\'Brien, SRE; "nights"\\ops\nsecond line\x07\x00'
    text = calendar(
        chain("Europe/Berlin", [utc(2026, 5, 1, 7), utc(2026, 5, 2, 7)], name=name),
        utc(2026, 1, 1),
        "on call: Zoë (platform, infra; db)\n",
    )
    unfolded = text.replace("\r\n ", "").split("\r\n")
    assert "X-WR-CALNAME:on call: Zoë (platform\\, infra\\; db)\\n" in unfolded
    summary = 'SUMMARY:On call: platform (Zoë O\'Brien\\, SRE\\; "nights"\\\\ops\\nsecond line)'
    assert summary in unfolded
    assert "\x07" not in text and "\x00" not in text
    [event] = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert str(event["SUMMARY"]) == f"On call: platform ({name[:-2]})"
    assert str(event["DESCRIPTION"]) == f"{name[:-2]} covers platform (primary)."


def test_long_lines_fold_at_75_octets_without_splitting_characters() -> None:
    name = "é" * 60 + " ∑𝄞 " + "x;," * 30
    text = calendar(
        chain("UTC", [utc(2026, 5, 1), utc(2026, 5, 2)], name=name), utc(2026, 1, 1), name
    )
    raw = text.encode()
    assert raw.endswith(b"END:VCALENDAR\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")
    assert max(len(line) for line in lines) == 75  # some line was long enough to fold
    for line in lines:
        assert len(line) <= 75
        line.decode("utf-8")  # every physical line is whole characters
    [event] = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert str(event["SUMMARY"]) == f"On call: platform ({name})"


def test_an_empty_export_is_a_valid_calendar() -> None:
    text = calendar([], utc(2026, 1, 1), "nobody")
    parsed = icalendar.Calendar.from_ical(text)
    assert parsed.walk("VEVENT") == [] and parsed.walk("VTIMEZONE") == []
    assert "PRODID:-//opsdesk//on-call export//EN" in text.split("\r\n")


@pytest.mark.parametrize("command", [["--help"], ["oncall", "export", "--help"]])
def test_the_cli_does_not_load_icalendar_to_build_its_parser(command: list[str]) -> None:
    """Every `opsdesk` command builds the whole parser; only an export may pay for icalendar."""
    script = (
        "import sys\nfrom opsdesk.console.cli import run\n"
        f"try:\n    run({command!r})\nexcept SystemExit:\n    pass\n"
        "print('icalendar' in sys.modules, 'opsdesk.console.cli.rosters' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split()[-2:] == ["False", "True"], done.stdout
