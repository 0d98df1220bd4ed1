"""Who is on call: pure functions of a schedule from config, overrides from the store,
and instants.

- A layer's handoffs happen at the same local wall-clock time every rotation, in the
  schedule's zone, across DST changes. A handoff at a local time that does not exist
  (spring forward) happens at the first instant after the gap; one at an ambiguous time
  (fall back) happens at the first occurrence.
- A restriction (days of week and a daily from–to window, which may cross midnight) limits
  when a layer covers; the day is the day the window starts.
- Layers later in the list sit on top: where a higher layer has someone, it wins.
- Overrides beat every layer; where overrides overlap, the newest wins.
- Where nobody covers, the rota has a gap (login None).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from opsdesk.console.config.model import (
    WEEKDAYS,
    Config,
    EscalationLevel,
    Layer,
    Restriction,
    Schedule,
)
from opsdesk.store.records import Override

GAP = "gap"
OVERRIDE = "override"


@dataclass(frozen=True)
class Shift:
    """`login` covers [start, end) (UTC) because of `source`: a layer name, "override", or
    "gap" (login None)."""

    start: datetime
    end: datetime
    login: str | None
    source: str


def local_instant(naive: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time: the first occurrence when it is ambiguous,
    the first instant after the gap when it does not exist."""
    first = naive.replace(tzinfo=zone, fold=0)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
        return first.astimezone(UTC)
    # In a gap: fold=1 reads it with the offset after the change, fold=0 with the one
    # before; the change itself lies between the two. Find it to the second.
    low = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = first.astimezone(UTC)
    low, high = min(low, high), max(low, high)
    after = high.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def _handoff(layer: Layer, zone: ZoneInfo, index: int) -> datetime:
    return local_instant(layer.start + index * layer.rotation, zone)


def rotation_shifts(layer: Layer, zone: ZoneInfo, start: datetime, end: datetime) -> list[Shift]:
    """The layer's rotation (before restrictions) over [start, end)."""
    first_handoff = _handoff(layer, zone, 0)
    if end <= first_handoff:
        return []
    # Estimate the first index from elapsed real time, then step to the exact one.
    index = max(int((start - first_handoff) / layer.rotation) - 1, 0)
    while index > 0 and _handoff(layer, zone, index) > start:
        index -= 1
    while _handoff(layer, zone, index + 1) <= start:
        index += 1
    shifts = []
    while True:
        begin, finish = _handoff(layer, zone, index), _handoff(layer, zone, index + 1)
        if begin >= end:
            break
        login = layer.members[index % len(layer.members)]
        shifts.append(Shift(max(begin, start), min(finish, end), login, layer.name))
        index += 1
    return shifts


def restriction_windows(
    restriction: Restriction, zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """UTC windows when a restricted layer may cover, overlapping [start, end)."""
    days = {WEEKDAYS.index(d) for d in restriction.days}
    crosses_midnight = restriction.to <= restriction.from_
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    windows = []
    day = first
    while day <= last:
        if day.weekday() in days:
            open_at = local_instant(datetime.combine(day, restriction.from_), zone)
            close_day = day + timedelta(days=1) if crosses_midnight else day
            close_at = local_instant(datetime.combine(close_day, restriction.to), zone)
            if close_at > start and open_at < end and close_at > open_at:
                windows.append((max(open_at, start), min(close_at, end)))
        day += timedelta(days=1)
    return windows


def layer_shifts(layer: Layer, zone: ZoneInfo, start: datetime, end: datetime) -> list[Shift]:
    """When the layer actually covers: its rotation cut to its restriction windows."""
    shifts = rotation_shifts(layer, zone, start, end)
    if layer.restrict is None:
        return shifts
    windows = restriction_windows(layer.restrict, zone, start, end)
    cut = []
    first = 0  # both lists are sorted: walk them together
    for shift in shifts:
        while first < len(windows) and windows[first][1] <= shift.start:
            first += 1
        index = first
        while index < len(windows) and windows[index][0] < shift.end:
            begin = max(shift.start, windows[index][0])
            finish = min(shift.end, windows[index][1])
            if begin < finish:
                cut.append(Shift(begin, finish, shift.login, shift.source))
            index += 1
    return cut


def final_rota(
    schedule: Schedule, overrides: Iterable[Override], start: datetime, end: datetime
) -> list[Shift]:
    """Who covers the schedule over [start, end): overrides, then layers top down, then
    gaps. Adjacent pieces with the same person and source are merged."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    zone = ZoneInfo(schedule.timezone)
    layers = [layer_shifts(layer, zone, start, end) for layer in schedule.layers]
    mine = sorted(
        (
            o
            for o in overrides
            if o.schedule == schedule.name and o.ends_at > start and o.starts_at < end
        ),
        key=lambda o: o.id,
    )
    edges = {start, end}
    for pieces in layers:
        for shift in pieces:
            edges.update((shift.start, shift.end))
    for override in mine:
        edges.update((max(override.starts_at, start), min(override.ends_at, end)))
    points = sorted(e for e in edges if start <= e <= end)
    starts = [[shift.start for shift in pieces] for pieces in layers]
    rota: list[Shift] = []
    for begin, finish in pairwise(points):
        who, source = _cover(begin, layers, starts, mine)
        if rota and rota[-1].login == who and rota[-1].source == source and rota[-1].end == begin:
            rota[-1] = Shift(rota[-1].start, finish, who, source)
        else:
            rota.append(Shift(begin, finish, who, source))
    return rota


def _cover(
    instant: datetime,
    layers: Sequence[list[Shift]],
    starts: Sequence[list[datetime]],
    overrides: Sequence[Override],
) -> tuple[str | None, str]:
    """Who covers `instant`: the newest override, else the highest layer with someone.
    Each layer's shifts are sorted and disjoint, so a bisect finds the candidate."""
    for override in reversed(overrides):
        if override.starts_at <= instant < override.ends_at:
            return override.login, OVERRIDE
    for pieces, begins in zip(reversed(layers), reversed(starts), strict=True):
        index = bisect_right(begins, instant) - 1
        if index >= 0 and instant < pieces[index].end:
            return pieces[index].login, pieces[index].source
    return None, GAP


@dataclass(frozen=True)
class OnCallNow:
    schedule: str
    login: str | None
    source: str
    since: datetime
    until: datetime
    next_login: str | None


def on_call_at(schedule: Schedule, overrides: Iterable[Override], at: datetime) -> OnCallNow:
    """Who covers at `at`, since when, until when, and who comes next. The rota is laid
    out over a window of the shortest rotation either side, doubled (up to a year) while
    the current or next shift touches its edge."""
    overrides = list(overrides)
    horizon = min((layer.rotation for layer in schedule.layers), default=timedelta(days=1))
    while True:
        rota = final_rota(schedule, overrides, at - horizon, at + horizon)
        index = next(i for i, s in enumerate(rota) if s.start <= at < s.end)
        current = rota[index]
        following = rota[index + 1] if index + 1 < len(rota) else None
        cut = current.start == at - horizon or following is None or following.end == at + horizon
        if not cut or horizon >= timedelta(days=366):
            break
        horizon *= 2
    return OnCallNow(
        schedule=schedule.name,
        login=current.login,
        source=current.source,
        since=current.start,
        until=current.end,
        next_login=None if following is None else following.login,
    )


def gaps(rota: Iterable[Shift]) -> list[Shift]:
    return [s for s in rota if s.login is None]


@dataclass(frozen=True)
class EscalationStep:
    """Level `level` (from 1) pages `login` at `paged_at`, via a schedule or directly."""

    level: int
    paged_at: datetime
    via: str
    login: str | None
    name: str
    email: str
    phone: str


def level_person(
    config: Config, level: EscalationLevel, overrides: Iterable[Override], at: datetime
) -> tuple[str | None, str]:
    """(login, via) that one escalation level pages at `at`: whoever is on call on its
    schedule then (None in a gap), or its named person."""
    if level.schedule is None:
        return level.person, "person"
    schedule = next(s for s in config.schedules if s.name == level.schedule)
    return on_call_at(schedule, overrides, at).login, level.schedule


def escalation(
    config: Config, service: str, overrides: Iterable[Override], at: datetime
) -> list[EscalationStep]:
    """Who would be paged, level by level, for an incident on `service` starting at `at`:
    each schedule level is resolved to whoever is on call when that level is reached."""
    policy = next((p for p in config.escalation_policies if p.service == service), None)
    if policy is None:
        raise KeyError(service)
    overrides = list(overrides)
    steps = []
    for number, level in enumerate(policy.levels, start=1):
        paged_at = at + level.after
        login, via = level_person(config, level, overrides, paged_at)
        person = config.person(login) if login else None
        steps.append(
            EscalationStep(
                level=number,
                paged_at=paged_at,
                via=via,
                login=login,
                name=person.name if person else "",
                email=person.email if person else "",
                phone=person.phone if person else "",
            )
        )
    return steps


@dataclass(frozen=True)
class Slot:
    """Who covers most of one slot of a timeline, and whether through an override."""

    login: str | None
    override: bool


def slots(rota: Sequence[Shift], start: datetime, length: timedelta, count: int) -> list[Slot]:
    """Split [start, start + count × length) into slots and give each the person who covers
    most of it (login None where a gap covers most of it)."""
    out = []
    for index in range(count):
        begin, end = start + index * length, start + (index + 1) * length
        cover: dict[tuple[str | None, bool], timedelta] = {}
        for shift in rota:
            overlap = min(shift.end, end) - max(shift.start, begin)
            if overlap > timedelta(0):
                key = (shift.login, shift.source == OVERRIDE)
                cover[key] = cover.get(key, timedelta(0)) + overlap
        uncovered = length - sum(cover.values(), timedelta(0))
        if uncovered > timedelta(0):
            cover[(None, False)] = cover.get((None, False), timedelta(0)) + uncovered
        login, override = max(cover.items(), key=lambda item: item[1])[0]
        out.append(Slot(login, override))
    return out


def symbols(logins: Iterable[str]) -> dict[str, str]:
    """One lower-case letter per person for a text timeline: their initial when free, else
    the next free letter of their login, else any free letter or digit."""
    taken: dict[str, str] = {}
    pool = "abcdefghijklmnopqrstuvwxyz0123456789"
    for login in sorted(set(logins)):
        candidates = [c for c in login.lower() if c in pool] + list(pool)
        taken[login] = next(c for c in candidates if c not in taken.values())
    return taken


def handoff_recipient(
    schedule: Schedule, overrides: Iterable[Override], at: datetime
) -> str | None:
    """Who a handoff note written at `at` is for: the next person on call who is not the
    one on call now (None when nobody follows)."""
    now = on_call_at(schedule, overrides, at)
    return now.next_login
