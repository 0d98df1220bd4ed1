"""SLA clocks and business time: pure functions, pinned instants, DST in two zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from opsdesk.console.config.model import WEEKDAYS, BusinessCalendar, Config, SlaTarget
from opsdesk.console.domain import business_time
from opsdesk.console.domain.lifecycle import (
    TransitionRefused,
    check_reopen_window,
    check_transition,
)
from opsdesk.console.domain.sla import StateChange, clocks, resolve_clock, respond_clock

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
M = timedelta(minutes=1)
OFFICE = BusinessCalendar(
    timezone="America/New_York", holidays=[date(2026, 12, 25)], from_=time(9), to=time(17)
)
EVERY_DAY_NY = BusinessCalendar(timezone="America/New_York", days=list(WEEKDAYS))


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


def test_weekend_is_not_counted() -> None:
    friday_4pm, monday_10am = ny(2026, 11, 20, 16), ny(2026, 11, 23, 10)
    assert business_time.elapsed(OFFICE, friday_4pm, monday_10am) == 2 * H
    assert business_time.elapsed(None, friday_4pm, monday_10am) == 66 * H


def test_adding_business_time_skips_holidays_and_weekends() -> None:
    thursday_4pm = ny(2026, 12, 24, 16)
    assert business_time.add(OFFICE, thursday_4pm, 2 * H) == ny(2026, 12, 28, 10)
    assert business_time.add(OFFICE, ny(2026, 12, 26, 3), 30 * M) == ny(2026, 12, 28, 9, 30)


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [("America/New_York", date(2026, 3, 8), 23), ("America/New_York", date(2026, 11, 1), 25),
     ("Europe/Berlin", date(2026, 3, 29), 23), ("Europe/Berlin", date(2026, 10, 25), 25)],
)  # fmt: skip
def test_dst_days_keep_wall_clock_windows(zone: str, day: date, hours: int) -> None:
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    assert business_time.elapsed(None, start, end) == hours * H
    every_day = BusinessCalendar(timezone=zone, days=list(WEEKDAYS))
    assert business_time.elapsed(every_day, start, end) == 8 * H
    assert business_time.add(every_day, start, 8 * H) == datetime.combine(day, time(17), tzinfo=tz)


def test_is_working() -> None:
    assert business_time.is_working(OFFICE, ny(2026, 11, 23, 9, 30))
    assert not business_time.is_working(OFFICE, ny(2026, 11, 23, 17, 0))
    assert not business_time.is_working(OFFICE, ny(2026, 11, 22, 12))
    assert not business_time.is_working(OFFICE, ny(2026, 12, 25, 12))
    assert business_time.is_working(None, ny(2026, 12, 25, 3))


P1 = SlaTarget(respond=15 * M, resolve=4 * H)


def test_respond_clock_running_at_risk_then_breached_then_stopped() -> None:
    history = [StateChange(ny(2026, 11, 23, 9), "new")]
    fresh = respond_clock(history, P1, None, ny(2026, 11, 23, 9, 5))
    assert (fresh.state, fresh.remaining, fresh.at_risk) == ("running", 10 * M, False)
    assert fresh.due == ny(2026, 11, 23, 9, 15)
    late = respond_clock(history, P1, None, ny(2026, 11, 23, 9, 12))
    assert late.at_risk and not late.breached
    over = respond_clock(history, P1, None, ny(2026, 11, 23, 9, 20))
    assert over.breached and not over.at_risk and over.remaining == -5 * M
    acked = [*history, StateChange(ny(2026, 11, 23, 9, 10), "acknowledged")]
    done = respond_clock(acked, P1, None, ny(2026, 11, 23, 12))
    assert (done.state, done.elapsed, done.breached) == ("stopped", 10 * M, False)
    assert done.reason == "stopped: acknowledged"


def test_resolve_clock_pauses_on_hold_and_says_why() -> None:
    history = [
        StateChange(ny(2026, 11, 23, 9), "new"),
        StateChange(ny(2026, 11, 23, 9, 10), "acknowledged"),
        StateChange(ny(2026, 11, 23, 10), "on_hold", "awaiting_vendor"),
    ]
    held = resolve_clock(history, P1, None, ny(2026, 11, 23, 11, 30))
    assert held.state == "paused"
    assert held.reason == "paused: on hold (awaiting vendor)"
    assert held.elapsed == 1 * H and held.due is None
    resumed = [*history, StateChange(ny(2026, 11, 23, 12), "in_progress")]
    clock = resolve_clock(resumed, P1, None, ny(2026, 11, 23, 13))
    assert (clock.state, clock.elapsed) == ("running", 2 * H)
    assert clock.due == ny(2026, 11, 23, 15)
    assert [what for _, what in clock.log] == [
        "started", "paused: on hold (awaiting vendor)", "resumed",
    ]  # fmt: skip


def test_resolve_clock_stops_at_resolved_and_resumes_on_reopen() -> None:
    history = [
        StateChange(ny(2026, 11, 23, 9), "new"),
        StateChange(ny(2026, 11, 23, 9, 5), "acknowledged"),
        StateChange(ny(2026, 11, 23, 11), "resolved"),
    ]
    stopped = resolve_clock(history, P1, None, ny(2026, 11, 24, 9))
    assert (stopped.state, stopped.elapsed, stopped.breached) == ("stopped", 2 * H, False)
    reopened = [*history, StateChange(ny(2026, 11, 23, 13), "in_progress")]
    clock = resolve_clock(reopened, P1, None, ny(2026, 11, 23, 15, 30))
    assert clock.elapsed == 4 * H + 30 * M
    assert clock.breached and clock.due == ny(2026, 11, 23, 15)


def test_business_calendar_clock_pauses_outside_hours(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p3 = SlaTarget(respond=4 * H, resolve=72 * H, calendar="office")
    history = [StateChange(ny(2026, 11, 20, 15), "new")]
    saturday = ny(2026, 11, 21, 12)
    clock = respond_clock(history, p3, OFFICE, saturday)
    assert clock.state == "paused" and clock.reason == "paused: outside business hours"
    assert clock.elapsed == 2 * H
    assert clock.due == ny(2026, 11, 23, 11)


def test_clocks_use_the_priority_policy_from_config() -> None:
    config = Config()
    config.sla.calendars["office"] = OFFICE
    config.sla.priorities["P3"] = SlaTarget(4 * H, 72 * H, "office")
    history = [StateChange(datetime(2026, 11, 23, 14, tzinfo=UTC), "new")]
    respond, resolve = clocks(config, "P3", history, datetime(2026, 11, 23, 16, tzinfo=UTC))
    assert respond.elapsed == 2 * H  # 09:00-11:00 New York
    assert resolve.target == 72 * H


def test_transitions_are_refused_with_the_allowed_moves() -> None:
    assert check_transition("INC-1", "new", "acknowledge") == "acknowledged"
    assert check_transition("INC-1", "on_hold", "resume") == "in_progress"
    with pytest.raises(
        TransitionRefused, match=r"INC-1 is new; cannot hold it\. Allowed: acknowledge, resolve"
    ):
        check_transition("INC-1", "new", "hold")
    with pytest.raises(TransitionRefused, match=r"Allowed: nothing \(it is closed\)"):
        check_transition("INC-1", "closed", "reopen")
    with pytest.raises(
        TransitionRefused, match=r"INC-1 is in progress; cannot reopen it\. Allowed: hold, resolve"
    ):
        check_transition("INC-1", "in_progress", "reopen")
    with pytest.raises(TransitionRefused, match=r"Allowed: resume, resolve"):
        check_transition("INC-1", "on_hold", "reopen")
    assert check_transition("INC-1", "resolved", "reopen") == "in_progress"
    with pytest.raises(
        TransitionRefused, match="resolved 9 days ago; incidents can be reopened for 7"
    ):
        check_reopen_window("INC-1", ny(2026, 11, 1), ny(2026, 11, 10, 1), 7)
