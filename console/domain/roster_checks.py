"""Checks an admin runs on a roster before and after changing it: `oncall lint` (coverage,
gaps, empty turns, how evenly the load falls, who carries the nights and weekends) and
`oncall diff` (which shifts move, for whom). Pure functions of schedules, overrides and a
time range, like the rest of the on-call rules."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from opsdesk.console.config.model import Person, Schedule
from opsdesk.console.domain.rotations import Shift, final_rota, layer_shifts, rotation_shifts
from opsdesk.store.records import Override

WORKDAY = (time(9, 0), time(17, 0))  # off hours are outside this, or on a weekend
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class EmptyTurn:
    """A member's turn in a restricted layer that the restriction leaves with no time at
    all: the member is nominally on the rota and never actually covers."""

    layer: str
    login: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class PersonLoad:
    login: str
    hours: float
    off_hours: float  # nights and weekends in the person's own time zone


@dataclass(frozen=True)
class ScheduleLint:
    schedule: str
    start: datetime
    end: datetime
    coverage: float  # share of the range with someone on call, 0..1
    gaps: list[Shift]
    empty_turns: list[EmptyTurn]
    load: list[PersonLoad]
    balance: float  # least loaded member's hours / most loaded member's hours, 0..1

    @property
    def problems(self) -> int:
        return len(self.gaps) + len(self.empty_turns)


def lint_schedule(
    schedule: Schedule,
    overrides: Iterable[Override],
    people: Sequence[Person],
    start: datetime,
    end: datetime,
) -> ScheduleLint:
    rota = final_rota(schedule, overrides, start, end)
    total = (end - start).total_seconds()
    gaps = [s for s in rota if s.login is None]
    covered = total - sum((g.end - g.start).total_seconds() for g in gaps)
    zones = {p.login: ZoneInfo(p.timezone) for p in people}
    hours: dict[str, float] = defaultdict(float)
    off: dict[str, float] = defaultdict(float)
    for shift in rota:
        if shift.login is not None:
            hours[shift.login] += (shift.end - shift.start) / HOUR
            zone = zones.get(shift.login, ZoneInfo(schedule.timezone))
            off[shift.login] += off_hours(shift.start, shift.end, zone) / HOUR
    members = {m for layer in schedule.layers for m in layer.members}
    for login in members:
        hours.setdefault(login, 0.0)
    member_hours = [hours[m] for m in members]
    most = max(member_hours, default=0.0)
    return ScheduleLint(
        schedule=schedule.name,
        start=start,
        end=end,
        coverage=covered / total if total else 1.0,
        gaps=gaps,
        empty_turns=empty_turns(schedule, start, end),
        load=[PersonLoad(login, hours[login], off[login]) for login in sorted(hours)],
        balance=min(member_hours) / most if most else 1.0,
    )


def empty_turns(schedule: Schedule, start: datetime, end: datetime) -> list[EmptyTurn]:
    zone = ZoneInfo(schedule.timezone)
    found = []
    for layer in schedule.layers:
        if not layer.windows():
            continue
        covering = layer_shifts(layer, zone, start, end)
        for turn in rotation_shifts(layer, zone, start, end):
            if turn.end - turn.start < layer.rotation:
                continue  # cut by the range: cannot tell
            if not any(c.start < turn.end and c.end > turn.start for c in covering):
                found.append(EmptyTurn(layer.name, turn.login or "", turn.start, turn.end))
    return found


def off_hours(start: datetime, end: datetime, zone: ZoneInfo) -> timedelta:
    """How much of [start, end) falls outside 09:00–17:00 on weekdays, in `zone`."""
    total = end - start
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    working = timedelta(0)
    while day <= last:
        if day.weekday() < 5:
            begin = datetime.combine(day, WORKDAY[0], zone)
            finish = datetime.combine(day, WORKDAY[1], zone)
            overlap = min(end, finish) - max(start, begin)
            working += max(overlap, timedelta(0))
        day += timedelta(days=1)
    return total - working


@dataclass(frozen=True)
class Move:
    """Over [start, end), `before` was on call and `after` would be."""

    schedule: str
    start: datetime
    end: datetime
    before: str | None
    after: str | None


def roster_diff(
    current: Sequence[Schedule],
    proposed: Sequence[Schedule],
    overrides: Sequence[Override],
    start: datetime,
    end: datetime,
) -> list[Move]:
    """Every stretch of time whose person on call changes if `proposed` replaced `current`
    (schedules matched by name; one only on one side is all moves)."""
    old = {s.name: s for s in current}
    new = {s.name: s for s in proposed}
    moves: list[Move] = []
    for name in sorted(old.keys() | new.keys()):
        before = final_rota(old[name], overrides, start, end) if name in old else []
        after = final_rota(new[name], overrides, start, end) if name in new else []
        edges = sorted({start, end, *(s.start for s in before), *(s.start for s in after)})
        starts_before, starts_after = [s.start for s in before], [s.start for s in after]
        for begin, finish in pairwise(edges):
            was, will = _who(before, starts_before, begin), _who(after, starts_after, begin)
            if was == will:
                continue
            last = moves[-1] if moves else None
            if last and (last.schedule, last.end, last.before, last.after) == (
                name, begin, was, will
            ):  # fmt: skip
                moves[-1] = Move(name, last.start, finish, was, will)
            else:
                moves.append(Move(name, begin, finish, was, will))
    return moves


def _who(rota: Sequence[Shift], starts: Sequence[datetime], instant: datetime) -> str | None:
    index = bisect_right(starts, instant) - 1
    if index >= 0 and instant < rota[index].end:
        return rota[index].login
    return None
