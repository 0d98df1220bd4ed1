"""Roster review: lint (coverage, gaps, empty turns, balance, off-hours), diff against a
proposed roster, and the iCalendar export, as pure functions and through the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine

from opsdesk.console.cli import run
from opsdesk.console.config.model import Layer, Person, Restriction, Schedule
from opsdesk.console.domain.ical import CalendarShift, calendar
from opsdesk.console.domain.roster_checks import lint_schedule, off_hours, roster_diff
from tests.test_oncall import daily, team_cli, utc

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def night_and_day(members: list[str]) -> Schedule:
    """12-hour turns from 21:00, restricted to office hours: the first member only ever
    gets nights, which the restriction leaves empty."""
    layer = Layer(
        name="office",
        members=members,
        rotation=timedelta(hours=12),
        start=datetime(2026, 11, 1, 21, 0),
        restrict=Restriction(days=WEEKDAYS, from_=time(9), to=time(17)),
    )
    return Schedule(name="office", timezone="UTC", layers=[layer])


def test_lint_finds_gaps_empty_turns_and_uneven_load() -> None:
    report = lint_schedule(
        night_and_day(["nina", "dave"]), [], [Person("nina"), Person("dave")],
        utc(2026, 11, 23), utc(2026, 11, 25),
    )  # fmt: skip
    assert report.coverage == 16 / 48
    assert [(g.start, g.end) for g in report.gaps] == [
        (utc(2026, 11, 23), utc(2026, 11, 23, 9)),
        (utc(2026, 11, 23, 17), utc(2026, 11, 24, 9)),
        (utc(2026, 11, 24, 17), utc(2026, 11, 25)),
    ]
    [empty] = report.empty_turns  # turns cut by the range are not judged
    assert (empty.login, empty.start, empty.end) == (
        "nina",
        utc(2026, 11, 23, 21),
        utc(2026, 11, 24, 9),
    )
    assert {p.login: p.hours for p in report.load} == {"dave": 16.0, "nina": 0.0}
    assert report.balance == 0.0 and report.problems == 4


def test_an_even_daily_rotation_is_balanced_and_fully_covered() -> None:
    schedule = Schedule("p", "UTC", [daily("2026-11-01T09:00", ["a", "b"])])
    report = lint_schedule(schedule, [], [], utc(2026, 11, 23, 9), utc(2026, 11, 27, 9))
    assert report.coverage == 1.0 and report.gaps == [] and report.empty_turns == []
    assert report.balance == 1.0


def test_off_hours_count_in_the_persons_own_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # Tuesday 08:00–18:00 UTC is 09:00–19:00 in Berlin (winter): two hours after 17:00.
    assert off_hours(utc(2026, 11, 24, 8), utc(2026, 11, 24, 18), berlin) == timedelta(hours=2)
    # A Saturday is off hours all day; in summer Berlin is UTC+2.
    assert off_hours(utc(2026, 7, 4), utc(2026, 7, 5), berlin) == timedelta(hours=24)
    assert off_hours(utc(2026, 7, 7, 7), utc(2026, 7, 7, 15), berlin) == timedelta(0)


def test_diff_lists_only_what_moves() -> None:
    current = [Schedule("p", "UTC", [daily("2026-11-01T09:00", ["a", "b"])])]
    same = [Schedule("p", "UTC", [daily("2026-11-01T09:00", ["a", "b"])])]
    swapped = [Schedule("p", "UTC", [daily("2026-11-01T09:00", ["b", "a"])])]
    start, end = utc(2026, 11, 23, 9), utc(2026, 11, 25, 9)
    assert roster_diff(current, same, [], start, end) == []
    moves = roster_diff(current, swapped, [], start, end)
    assert [(m.start, m.end, m.before, m.after) for m in moves] == [
        (utc(2026, 11, 23, 9), utc(2026, 11, 24, 9), "a", "b"),
        (utc(2026, 11, 24, 9), utc(2026, 11, 25, 9), "b", "a"),
    ]


def test_ical_events_use_the_schedule_zone_with_its_dst_change() -> None:
    shifts = [
        CalendarShift("platform", "America/New_York", "ana", "Ana, Ops; Lead", utc(2026, 3, 7, 14),
                      utc(2026, 3, 8, 13), "primary"),
    ]  # fmt: skip
    text = calendar(shifts, utc(2026, 3, 1), "on call: ana")
    assert text.endswith("END:VCALENDAR\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")
    assert "DTSTART;TZID=America/New_York:20260307T090000" in lines
    assert "DTEND;TZID=America/New_York:20260308T090000" in lines  # 09:00 EDT, after the change
    assert "SUMMARY:On call: platform (Ana\\, Ops\\; Lead)" in lines
    daylight = lines[lines.index("BEGIN:DAYLIGHT") : lines.index("END:DAYLIGHT")]
    assert {"DTSTART:20260308T030000", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400"} <= set(daylight)
    assert text.count("BEGIN:VEVENT") == 1 and "UID:platform-ana-20260307T140000Z@opsdesk" in lines


def test_lint_diff_and_export_from_the_cli(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(datetime(2026, 11, 23, 9, 30, tzinfo=UTC), tick=False):
        base = team_cli(tmp_path, "team", ["ana", "ben", "cruz"], ["ana", "ben"])
        capsys.readouterr()
        assert run([*base, "oncall", "lint", "--days", "4", "--json"]) == 0
        [report] = json.loads(capsys.readouterr().out)
        assert report["coverage_percent"] == 100.0 and report["gaps"] == []
        assert report["balance"] == 1.0
        assert {p["person"]: p["hours"] for p in report["load"]} == {"ana": 48.0, "ben": 48.0}

        proposed = tmp_path / "new.toml"
        proposed.write_text(
            '[[schedules]]\nname = "platform"\ntimezone = "UTC"\n[[schedules.layers]]\n'
            'name = "primary"\nmembers = ["cruz", "ben"]\nrotation = "1d"\n'
            'start = "2026-11-01T09:00"\n'
        )
        assert run([*base, "oncall", "diff", str(proposed), "--weeks", "1", "--json"]) == 0
        moves = json.loads(capsys.readouterr().out)
        assert moves and all(m["before"] == "ana" and m["after"] == "cruz" for m in moves)
        assert run([*base, "oncall", "diff", str(proposed), "--weeks", "1"]) == 0
        assert "ana -96h, cruz +96h" in capsys.readouterr().out

        proposed.write_text(proposed.read_text().replace('"cruz"', '"cruzz"'))
        assert run([*base, "oncall", "diff", str(proposed)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert f'{proposed}: schedules[1 "platform"].layers[1 "primary"].members[1]' in err
        assert 'unknown login "cruzz"' in err

        ics = tmp_path / "ben.ics"
        assert run([*base, "oncall", "export", "--ical", str(ics), "--person", "ben",
                    "--days", "6"]) == 0  # fmt: skip
        text = ics.read_text()
        assert text.count("BEGIN:VEVENT") == 3 and "ana" not in text
        assert run([*base, "oncall", "export", "--ical", str(ics), "--person", "bne"]) == 2
        assert "unknown login 'bne' (did you mean \"ben\"?)" in capsys.readouterr().err
