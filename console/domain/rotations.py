"""Who is on call: pure functions of a schedule from config, overrides from the store,
and instants.

- A layer's handoffs happen at the same local wall-clock time every rotation, in the
  schedule's zone, across DST changes. A handoff at a local time that does not exist
  (spring forward) happens at the first instant after the gap; one at an ambiguous time
  (fall back) happens at the first occurrence.
- A restriction (days of week and a daily from–to window, which may cross midnight) limits
  when a layer covers; the day is the day the window starts. A layer may have several:
  it covers in any of them. `active_from`/`until` bound when it covers at all, without
  moving its handoffs; a member "" (NOBODY) is a turn in which the layer covers no one.
- Layers later in the list sit on top: where a higher layer has someone, it wins.
- Overrides beat every layer; where overrides overlap, the newest wins.
- Where nobody covers, the rota has a gap (login None).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from heapq import heappop, heappush
from itertools import pairwise
from zoneinfo import ZoneInfo

from opsdesk.console.config.model import (
    NOBODY,
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
    the first instant after the gap when it does not exist. Remembered per (time, zone): a
    layer's handoffs and a restriction's daily windows are the same instants for every
    question asked about them."""
    return _local_instant(naive, zone)  # fold plays no part: equal keys, equal answers


@lru_cache(maxsize=1 << 16)
def _local_instant(naive: datetime, zone: ZoneInfo) -> datetime:
    first = naive.replace(tzinfo=zone, fold=0)
    instant = first.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == naive:
        return instant
    # In a gap: fold=1 reads it with the offset after the change, fold=0 with the one
    # before; the change itself lies between the two. Find it to the second.
    low = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = instant
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
    name = layer.name
    return [Shift(b, f, login, name) for b, f, login in _rotation(layer, zone, start, end)]


Piece = tuple[datetime, datetime, str]
"""(start, end, login) of a layer's shift, before it is a Shift (cheaper to make)."""


def layer_zone(layer: Layer, zone: ZoneInfo) -> ZoneInfo:
    """The zone a layer's times are in: its own, else its schedule's (`zone`)."""
    return zone if layer.timezone is None else ZoneInfo(layer.timezone)


def _rotation(layer: Layer, zone: ZoneInfo, start: datetime, end: datetime) -> list[Piece]:
    zone = layer_zone(layer, zone)
    first_handoff = _handoff(layer, zone, 0)
    if end <= first_handoff:
        return []
    # Estimate the first index from elapsed real time, then step to the exact one.
    index = max(int((start - first_handoff) / layer.rotation) - 1, 0)
    while index > 0 and _handoff(layer, zone, index) > start:
        index -= 1
    while _handoff(layer, zone, index + 1) <= start:
        index += 1
    turns = []
    members = layer.members
    begin = _handoff(layer, zone, index)
    while begin < end:  # each handoff is worked out once: this turn's end, the next's start
        finish = _handoff(layer, zone, index + 1)
        turns.append((max(begin, start), min(finish, end), members[index % len(members)]))
        index += 1
        begin = finish
    return turns


def restriction_windows(
    restriction: Restriction, zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """UTC windows when a restricted layer may cover, overlapping [start, end)."""
    days = frozenset(WEEKDAYS.index(d) for d in restriction.days)
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    windows = []
    day = first
    while day <= last:
        if day.weekday() in days:
            open_at, close_at = _day_window(day, restriction.from_, restriction.to, zone)
            if close_at > start and open_at < end and close_at > open_at:
                windows.append((max(open_at, start), min(close_at, end)))
        day += timedelta(days=1)
    return windows


@lru_cache(maxsize=1 << 15)
def _day_window(day: date, from_: time, to: time, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC window of a restriction that opens on local `day` (worked out once)."""
    open_at = local_instant(datetime.combine(day, from_), zone)
    close_day = day + timedelta(days=1) if to <= from_ else day
    return open_at, local_instant(datetime.combine(close_day, to), zone)


def union_windows(
    restrictions: Sequence[Restriction], zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The windows of several restrictions over [start, end), sorted, overlapping and
    touching ones merged (a layer covers in any of them)."""
    if len(restrictions) == 1:
        return restriction_windows(restrictions[0], zone, start, end)
    every = sorted(w for r in restrictions for w in restriction_windows(r, zone, start, end))
    merged: list[tuple[datetime, datetime]] = []
    for begin, finish in every:
        if merged and begin <= merged[-1][1]:
            if finish > merged[-1][1]:
                merged[-1] = (merged[-1][0], finish)
        else:
            merged.append((begin, finish))
    return merged


def layer_shifts(layer: Layer, zone: ZoneInfo, start: datetime, end: datetime) -> list[Shift]:
    """When the layer actually covers: its rotation cut to its restriction windows."""
    name = layer.name
    return [Shift(b, f, login, name) for b, f, login in _layer_pieces(layer, zone, start, end)]


def _layer_pieces(layer: Layer, zone: ZoneInfo, start: datetime, end: datetime) -> list[Piece]:
    zone = layer_zone(layer, zone)
    if layer.active_from is not None:
        start = max(start, local_instant(layer.active_from, zone))
    if layer.until is not None:
        end = min(end, local_instant(layer.until, zone))
    if end <= start:
        return []
    turns = _rotation(layer, zone, start, end)
    if NOBODY in layer.members:
        turns = [turn for turn in turns if turn[2] != NOBODY]
    restrictions = layer.windows()
    if not restrictions:
        return turns
    windows = union_windows(restrictions, zone, start, end)
    cut = []
    first = 0  # both lists are sorted: walk them together
    for turn_start, turn_end, login in turns:
        while first < len(windows) and windows[first][1] <= turn_start:
            first += 1
        index = first
        while index < len(windows) and windows[index][0] < turn_end:
            begin = max(turn_start, windows[index][0])
            finish = min(turn_end, windows[index][1])
            if begin < finish:
                cut.append((begin, finish, login))
            index += 1
    return cut


def final_rota(
    schedule: Schedule, overrides: Iterable[Override], start: datetime, end: datetime
) -> list[Shift]:
    """Who covers the schedule over [start, end): overrides, then layers top down, then
    gaps. Adjacent pieces with the same person and source are merged.

    Remembered per (schedule as configured, window, the overrides that touch it): asking
    again with the same overrides costs a lookup, and any change to one of them (or to
    the schedule) is a different key."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    name = schedule.name
    mine = tuple(
        sorted(
            (
                o
                for o in overrides
                if o.schedule == name and o.ends_at > start and o.starts_at < end
            ),
            key=lambda o: o.id,
        )
    )
    return list(_cached_rota(_Keyed(schedule), start, end, mine))


class _Keyed:
    """A schedule that hashes and compares by its content (config dataclasses are
    mutable, so unhashable), for the rota cache."""

    __slots__ = ("key", "schedule")

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self.key = (
            schedule.name,
            schedule.timezone,
            tuple(
                (
                    layer.name,
                    tuple(layer.members),
                    layer.rotation,
                    layer.start,
                    tuple((tuple(r.days), r.from_, r.to) for r in layer.windows()),
                    layer.active_from,
                    layer.until,
                    layer.timezone,
                )
                for layer in schedule.layers
            ),
        )

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Keyed) and self.key == other.key


@lru_cache(maxsize=1024)
def _cached_rota(
    keyed: _Keyed, start: datetime, end: datetime, mine: tuple[Override, ...]
) -> tuple[Shift, ...]:
    return tuple(_final_rota(keyed.schedule, mine, start, end))


def clear_caches() -> None:
    """Forget remembered rotas and local instants (benchmarks measure the cold path)."""
    _cached_rota.cache_clear()
    _day_window.cache_clear()
    _local_instant.cache_clear()


def _final_rota(
    schedule: Schedule, mine: Sequence[Override], start: datetime, end: datetime
) -> list[Shift]:
    """One sweep over the edges: each layer keeps a cursor into its sorted shifts, and the
    overrides in force sit in a heap, newest on top (`mine` is sorted by id)."""
    zone = ZoneInfo(schedule.timezone)
    layers = [_layer_pieces(layer, zone, start, end) for layer in schedule.layers]
    edges = {start, end}
    for pieces in layers:
        for piece_start, piece_end, _ in pieces:
            edges.add(piece_start)
            edges.add(piece_end)
    for override in mine:
        edges.add(max(override.starts_at, start))
        edges.add(min(override.ends_at, end))
    points = sorted(e for e in edges if start <= e <= end)
    arriving = sorted(range(len(mine)), key=lambda i: mine[i].starts_at)
    arrived = 0
    in_force: list[tuple[int, int]] = []  # (-id, -position in mine): newest on top
    top_down = [
        (pieces, layer.name)
        for pieces, layer in zip(reversed(layers), reversed(schedule.layers), strict=True)
        if pieces
    ]
    cursors = [0] * len(top_down)
    rota: list[Shift] = []
    run_start: datetime | None = None  # the run of one person and source being built
    run_who: str | None = None
    run_source = ""
    for begin, _finish in pairwise(points):
        while arrived < len(arriving) and mine[arriving[arrived]].starts_at <= begin:
            position = arriving[arrived]
            heappush(in_force, (-mine[position].id, -position))
            arrived += 1
        while in_force and mine[-in_force[0][1]].ends_at <= begin:
            heappop(in_force)
        who: str | None
        if in_force:
            who, source = mine[-in_force[0][1]].login, OVERRIDE
        else:
            who, source = None, GAP
            for number, (pieces, name) in enumerate(top_down):
                at = cursors[number]
                while at + 1 < len(pieces) and pieces[at + 1][0] <= begin:
                    at += 1
                cursors[number] = at
                piece_start, piece_end, login = pieces[at]
                if piece_start <= begin < piece_end:
                    who, source = login, name
                    break
        if run_start is None:
            run_start, run_who, run_source = begin, who, source
        elif who != run_who or source != run_source:
            rota.append(Shift(run_start, begin, run_who, run_source))
            run_start, run_who, run_source = begin, who, source
    if run_start is not None:
        rota.append(Shift(run_start, points[-1], run_who, run_source))
    return rota


@dataclass(frozen=True)
class OnCallNow:
    """Who covers a schedule at one instant. `since`/`until` are None when no hand-off
    falls within the year either side that the rota is laid out over (a one-person
    layer): "until 2028-02-22 00:39" would be the window's edge, not a hand-off."""

    schedule: str
    login: str | None
    source: str
    since: datetime | None
    until: datetime | None
    next_login: str | None


ON_CALL_REACH = timedelta(days=366)  # how far either side `on_call_at` looks for a hand-off


def on_call_at(schedule: Schedule, overrides: Iterable[Override], at: datetime) -> OnCallNow:
    """Who covers at `at`, since when, until when, and who comes next. The rota is laid
    out over a window of the shortest rotation either side, doubled (up to a year) while
    the current or next shift touches its edge."""
    overrides = [o for o in overrides if o.schedule == schedule.name]
    horizon = min((layer.rotation for layer in schedule.layers), default=timedelta(days=1))
    while True:
        rota = final_rota(schedule, overrides, at - horizon, at + horizon)
        # The rota is contiguous over the window, so the last piece starting by `at` has it.
        index = bisect_right([s.start for s in rota], at) - 1
        current = rota[index]
        following = rota[index + 1] if index + 1 < len(rota) else None
        cut = current.start == at - horizon or following is None or following.end == at + horizon
        if not cut or horizon >= ON_CALL_REACH:
            break
        horizon *= 2
    return OnCallNow(
        schedule=schedule.name,
        login=current.login,
        source=current.source,
        since=None if current.start == at - horizon else current.start,
        until=None if following is None else current.end,
        next_login=None if following is None else following.login,
    )


def on_call_all(
    schedules: Sequence[Schedule], overrides: Iterable[Override], at: datetime
) -> list[OnCallNow]:
    """`on_call_at` for each schedule, sorting the overrides by schedule once."""
    mine = by_schedule(overrides)
    return [on_call_at(s, mine.get(s.name, []), at) for s in schedules]


def by_schedule(overrides: Iterable[Override]) -> dict[str, list[Override]]:
    """The overrides of each schedule, in their order."""
    grouped: dict[str, list[Override]] = {}
    for override in overrides:
        grouped.setdefault(override.schedule, []).append(override)
    return grouped


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
    return slots_from(rota, [start + index * length for index in range(count)], length)


def slots_from(rota: Sequence[Shift], begins: Sequence[datetime], length: timedelta) -> list[Slot]:
    """`slots` for slots [begin, begin + length) at each of `begins` (in time order): each
    slot looks only at the shifts that overlap it (a sweep over the shifts by start, not
    every shift for every slot), in the rota's order, so ties fall as they always did."""
    ends = [begin + length for begin in begins]
    utc_begins = [begin.astimezone(UTC) for begin in begins]
    utc_ends = [end.astimezone(UTC) for end in ends]
    ordered = all(b < e for b, e in zip(utc_begins, utc_ends, strict=True)) and all(
        a <= b for a, b in pairwise(utc_begins)
    )
    zones = {begin.tzinfo for begin in begins} - {UTC}
    shared = any(s.start.tzinfo in zones or s.end.tzinfo in zones for s in rota)
    if not ordered or shared:  # slot edges out of order in UTC (in a DST gap), or shifts
        # told in the slots' own zone (compared by wall clock): every shift, every slot
        return [_slot(rota, begin, begin + length, length) for begin in begins]
    zero = timedelta(0)
    pieces = [(s.start, s.end, (s.login, s.source == OVERRIDE)) for s in rota]
    by_start = sorted(range(len(rota)), key=lambda i: pieces[i][0])
    arrived, active = 0, list[int]()
    out = []
    for begin, end in zip(utc_begins, utc_ends, strict=True):
        while arrived < len(by_start) and pieces[by_start[arrived]][0] < end:
            active.append(by_start[arrived])
            arrived += 1
        active = [i for i in active if pieces[i][1] > begin]
        if len(active) > 1:
            active.sort()
        cover: dict[tuple[str | None, bool], timedelta] = {}
        for i in active:
            start, stop, key = pieces[i]
            # As `min(shift.end, end) - max(shift.start, begin)` with the slot's edges in
            # its zone: a shift past both edges gives the slot's wall-clock length, any
            # other the real time between the chosen edges.
            if start < begin and stop > end:
                overlap = length
            else:
                overlap = (stop if stop <= end else end) - (start if start >= begin else begin)
            if overlap > zero:
                cover[key] = cover.get(key, zero) + overlap
        uncovered = length - sum(cover.values(), zero)
        if uncovered > zero:
            cover[(None, False)] = cover.get((None, False), zero) + uncovered
        if len(cover) == 1:
            [(login, override)] = cover
        else:
            login, override = max(cover.items(), key=_second)[0]
        out.append(Slot(login, override))
    return out


def _slot(rota: Iterable[Shift], begin: datetime, end: datetime, length: timedelta) -> Slot:
    cover: dict[tuple[str | None, bool], timedelta] = {}
    for shift in rota:
        overlap = min(shift.end, end) - max(shift.start, begin)
        if overlap > timedelta(0):
            key = (shift.login, shift.source == OVERRIDE)
            cover[key] = cover.get(key, timedelta(0)) + overlap
    uncovered = length - sum(cover.values(), timedelta(0))
    if uncovered > timedelta(0):
        cover[(None, False)] = cover.get((None, False), timedelta(0)) + uncovered
    login, override = max(cover.items(), key=_second)[0]
    return Slot(login, override)


def _second(item: tuple[object, timedelta]) -> timedelta:
    return item[1]


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
