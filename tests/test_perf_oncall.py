"""The fast on-call rules equal the old ones: the functions as they were before the
handoff cache, the sweep and the rota cache (copied below, verbatim but for their names)
against the current ones, on random schedules, zones with DST (including half-hour and
midnight changes), restrictions, layers and overlapping overrides."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsdesk.console.config.model import WEEKDAYS, Layer, Restriction, Schedule
from opsdesk.console.domain import rotations as new
from opsdesk.console.domain.rotations import GAP, OVERRIDE, OnCallNow, Shift, Slot
from opsdesk.store.records import Override

ZONES = [
    "UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Havana",
    "America/Santiago", "Europe/Dublin", "Asia/Tokyo", "America/St_Johns",
]  # fmt: skip
ROTATIONS = [
    timedelta(minutes=30), timedelta(hours=1), timedelta(hours=5), timedelta(hours=12),
    timedelta(days=1), timedelta(days=3), timedelta(weeks=1),
]  # fmt: skip


# --- The old rules, verbatim ----------------------------------------------------------


def old_local_instant(naive: datetime, zone: ZoneInfo) -> datetime:
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


def old_handoff(layer: Layer, zone: ZoneInfo, index: int) -> datetime:
    return old_local_instant(layer.start + index * layer.rotation, zone)


def old_rotation_shifts(
    layer: Layer, zone: ZoneInfo, start: datetime, end: datetime
) -> list[Shift]:
    """The layer's rotation (before restrictions) over [start, end)."""
    first_handoff = old_handoff(layer, zone, 0)
    if end <= first_handoff:
        return []
    # Estimate the first index from elapsed real time, then step to the exact one.
    index = max(int((start - first_handoff) / layer.rotation) - 1, 0)
    while index > 0 and old_handoff(layer, zone, index) > start:
        index -= 1
    while old_handoff(layer, zone, index + 1) <= start:
        index += 1
    shifts = []
    while True:
        begin, finish = old_handoff(layer, zone, index), old_handoff(layer, zone, index + 1)
        if begin >= end:
            break
        login = layer.members[index % len(layer.members)]
        shifts.append(Shift(max(begin, start), min(finish, end), login, layer.name))
        index += 1
    return shifts


def old_restriction_windows(
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
            open_at = old_local_instant(datetime.combine(day, restriction.from_), zone)
            close_day = day + timedelta(days=1) if crosses_midnight else day
            close_at = old_local_instant(datetime.combine(close_day, restriction.to), zone)
            if close_at > start and open_at < end and close_at > open_at:
                windows.append((max(open_at, start), min(close_at, end)))
        day += timedelta(days=1)
    return windows


def old_layer_shifts(layer: Layer, zone: ZoneInfo, start: datetime, end: datetime) -> list[Shift]:
    """When the layer actually covers: its rotation cut to its restriction windows."""
    shifts = old_rotation_shifts(layer, zone, start, end)
    if layer.restrict is None:
        return shifts
    windows = old_restriction_windows(layer.restrict, zone, start, end)
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


def old_final_rota(
    schedule: Schedule, overrides: Iterable[Override], start: datetime, end: datetime
) -> list[Shift]:
    """Who covers the schedule over [start, end): overrides, then layers top down, then
    gaps. Adjacent pieces with the same person and source are merged."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    zone = ZoneInfo(schedule.timezone)
    layers = [old_layer_shifts(layer, zone, start, end) for layer in schedule.layers]
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
        who, source = old_cover(begin, layers, starts, mine)
        if rota and rota[-1].login == who and rota[-1].source == source and rota[-1].end == begin:
            rota[-1] = Shift(rota[-1].start, finish, who, source)
        else:
            rota.append(Shift(begin, finish, who, source))
    return rota


def old_cover(
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


def old_on_call_at(schedule: Schedule, overrides: Iterable[Override], at: datetime) -> OnCallNow:
    """Who covers at `at`, since when, until when, and who comes next. The rota is laid
    out over a window of the shortest rotation either side, doubled (up to a year) while
    the current or next shift touches its edge."""
    overrides = list(overrides)
    horizon = min((layer.rotation for layer in schedule.layers), default=timedelta(days=1))
    while True:
        rota = old_final_rota(schedule, overrides, at - horizon, at + horizon)
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
        # No hand-off within the year either side: the window's edge is not one.
        since=None if current.start == at - horizon else current.start,
        until=None if following is None else current.end,
        next_login=None if following is None else following.login,
    )


def old_slots(rota: Sequence[Shift], start: datetime, length: timedelta, count: int) -> list[Slot]:
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


# --- Random schedules -------------------------------------------------------------------

minutes = st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60))
restrictions = st.builds(
    Restriction,
    days=st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True),
    from_=minutes,
    to=minutes,
)
instants = st.integers(0, 3 * 365 * 24 * 4).map(
    lambda q: datetime(2025, 1, 1, tzinfo=UTC) + q * timedelta(minutes=15)
)
layers = st.builds(
    Layer,
    name=st.sampled_from(["a", "b", "c"]),
    members=st.lists(st.sampled_from(["ana", "ben", "cruz", "dana"]), min_size=1, max_size=3),
    rotation=st.sampled_from(ROTATIONS),
    start=instants.map(lambda i: i.replace(tzinfo=None)),
    restrict=st.none() | restrictions,
)
schedules = st.builds(
    Schedule,
    name=st.just("s"),
    timezone=st.sampled_from(ZONES),
    layers=st.lists(layers, min_size=0, max_size=3),
)


@st.composite
def override_lists(draw: st.DrawFn) -> list[Override]:
    count = draw(st.integers(0, 6))
    ids = draw(st.lists(st.integers(1, 50), min_size=count, max_size=count, unique=True))
    made = []
    for number in ids:
        begin = draw(instants)
        length = draw(st.integers(1, 24 * 20)) * timedelta(hours=1)
        made.append(
            Override(
                number, draw(st.sampled_from(["s", "other"])),
                draw(st.sampled_from(["ovr", "ana", "zed"])), begin, begin + length, "", "x",
            )
        )  # fmt: skip
    return made


SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(schedules, override_lists(), instants, st.integers(1, 24 * 40))
def test_final_rota_equals_the_old_rules(
    schedule: Schedule, overrides: list[Override], start: datetime, hours: int
) -> None:
    end = start + timedelta(hours=hours)
    expected = old_final_rota(schedule, overrides, start, end)
    new.clear_caches()
    assert new.final_rota(schedule, overrides, start, end) == expected
    assert new.final_rota(schedule, overrides, start, end) == expected  # from the cache
    zone = ZoneInfo(schedule.timezone)
    for layer in schedule.layers:
        assert new.rotation_shifts(layer, zone, start, end) == old_rotation_shifts(
            layer, zone, start, end
        )
        assert new.layer_shifts(layer, zone, start, end) == old_layer_shifts(
            layer, zone, start, end
        )
        if layer.restrict is not None:
            assert new.restriction_windows(
                layer.restrict, zone, start, end
            ) == old_restriction_windows(layer.restrict, zone, start, end)


@settings(SETTINGS, max_examples=50)  # the old rule widens its window up to a year: the
# suite's slowest test at 120 examples (40 s on a loaded 2-core machine); the rota and slot
# tests above and below check the same pieces 120 times each
@given(schedules, override_lists(), instants)
def test_on_call_at_equals_the_old_rules(
    schedule: Schedule, overrides: list[Override], at: datetime
) -> None:
    expected = old_on_call_at(schedule, overrides, at)
    new.clear_caches()
    assert new.on_call_at(schedule, overrides, at) == expected
    assert new.on_call_at(schedule, overrides, at) == expected
    assert new.on_call_all([schedule], overrides, at) == [expected]


@SETTINGS
@given(schedules, override_lists(), instants, st.integers(1, 16), st.sampled_from([1, 6, 24]))
def test_slots_equal_the_old_rules(
    schedule: Schedule, overrides: list[Override], at: datetime, days: int, hours: int
) -> None:
    """Slots from local midnight in the schedule's zone, as the timeline draws them (over
    the final rota, each layer, and overlapping overrides)."""
    zone = ZoneInfo(schedule.timezone)
    day_one = at.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    rota = old_final_rota(schedule, overrides, day_one, day_one + timedelta(days=days + 1))
    covers = [Shift(o.starts_at, o.ends_at, o.login, OVERRIDE) for o in overrides]
    length, per_day = timedelta(hours=hours), 24 // hours
    for pieces in [rota, covers, *(
        old_layer_shifts(layer, zone, day_one, day_one + timedelta(days=days))
        for layer in schedule.layers
    )]:  # fmt: skip
        begins, expected = [], []
        for day in range(days):
            midnight = datetime.combine(
                (day_one.replace(tzinfo=None) + timedelta(days=day)).date(), time()
            ).replace(tzinfo=zone)
            begins += [midnight + index * length for index in range(per_day)]
            expected += old_slots(pieces, midnight, length, per_day)
        assert new.slots_from(pieces, begins, length) == expected
        assert new.slots(pieces, begins[0], length, per_day) == old_slots(
            pieces, begins[0], length, per_day
        )
