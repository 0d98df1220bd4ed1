"""The metrics from kept aggregates (store.stats) are the metrics of a scan (the old
`Incidents.stats` / `open_ages`): on a random store, after every kind of change the
triggers see (ack, resolve, reopen, CSAT, a moved creation time, deletes, inserts), and
after a rebuild. Counts and buckets must be equal; sums of seconds equal to float
rounding (added in another order); what the strip and the table print, equal."""

from __future__ import annotations

import asyncio
import math
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from opsdesk.console.domain.metrics import QueueMetrics, backlog, table_rows, window_metrics
from opsdesk.store import Store
from opsdesk.store.records import Durations, QueueStats
from opsdesk.store.stats import (
    Plan,
    Range,
    _after_day,
    edges,
    figures,
    plan,
    statements,
    whole_days,
)
from opsdesk.store.timefmt import to_db

NOW = datetime(2026, 11, 25, 12, 0, 7, tzinfo=UTC)
OPEN = ("new", "acknowledged", "in_progress", "on_hold")
INSERT = (
    "INSERT INTO incidents (title, service, impact, urgency, priority, state, reporter,"
    " created_at, acknowledged_at, resolved_at, response_met, resolve_met, csat, updated_at,"
    " updated_by, response_due, resolve_due) VALUES"
    " ('t', 'svc', 2, 2, ?, ?, 'me', ?, ?, ?, ?, ?, ?, ?, 'me', ?, ?)"
)


def _stamp(at: datetime | None) -> str | None:
    return None if at is None else to_db(at)


def _random_row(rng: random.Random) -> tuple[object, ...]:
    created = NOW - timedelta(seconds=rng.randrange(0, 45 * 86400))
    acked = resolved = None
    if rng.random() < 0.8:
        acked = created + timedelta(seconds=rng.randrange(1, 4 * 3600))
    if rng.random() < 0.7:
        resolved = created + timedelta(seconds=rng.randrange(60, 5 * 86400))
        if resolved > NOW:
            resolved = None
    met = None if resolved is None or rng.random() < 0.1 else rng.choice((0, 1))
    response_met = rng.choice((None, 0, 1)) if resolved else None
    csat = rng.choice((None, None, 1, 2, 3, 4, 5)) if resolved else None
    state = rng.choice(("resolved", "closed")) if resolved else rng.choice(OPEN)
    due = created + timedelta(hours=rng.randrange(1, 200))
    response_due = None if rng.random() < 0.2 else _stamp(due)
    resolve_due = None if rng.random() < 0.2 else _stamp(due + timedelta(hours=4))
    return (
        rng.choice(("P1", "P2", "P3", "P4")), state, _stamp(created), _stamp(acked),
        _stamp(resolved), response_met, met, csat, _stamp(created), response_due, resolve_due,
    )  # fmt: skip


def _windows() -> list[tuple[datetime, datetime]]:
    midnight = NOW.replace(hour=0, minute=0, second=0)
    ends = [NOW, midnight, midnight - timedelta(seconds=1), NOW + timedelta(hours=11, minutes=59)]
    spans = [
        timedelta(days=7), timedelta(days=30), timedelta(0), timedelta(hours=3),
        timedelta(days=1), timedelta(days=2, seconds=1), timedelta(days=60),
    ]  # fmt: skip
    return [(end - span, end) for end in ends for span in spans]


def _same_durations(old: Durations, new: Durations) -> None:
    assert [n for n, _ in old.buckets] == [n for n, _ in new.buckets]
    for (_, a), (_, b) in zip(old.buckets, new.buckets, strict=True):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def _same_stats(old: QueueStats, new: QueueStats) -> None:
    _same_durations(old.ack, new.ack)
    _same_durations(old.resolve, new.resolve)
    assert (old.since, old.until, old.resolved, old.resolved_met, old.csat_sum, old.csat_count) == (
        new.since, new.until, new.resolved, new.resolved_met, new.csat_sum, new.csat_count,
    )  # fmt: skip


async def _assert_same(store: Store) -> int:
    """Every window and instant: aggregates == scan. Returns how many were compared."""
    compared = 0
    for since, until in _windows():
        old = await store.incidents.stats(since, until)
        new = await store.stats.stats(since, until)
        _same_stats(old, new)
        compared += 1
    for now in (NOW, NOW - timedelta(days=3), NOW + timedelta(days=9)):
        assert await store.stats.open_ages(now) == await store.incidents.open_ages(now)
        week, month = timedelta(days=7), timedelta(days=30)
        shown = []
        for repo in (store.incidents, store.stats):
            figures = QueueMetrics(
                window_metrics(await repo.stats(now - week, now)),
                window_metrics(await repo.stats(now - month, now)),
                backlog(*await repo.open_ages(now), now),
            )
            shown.append((table_rows(figures), figures.backlog))
        assert shown[0] == shown[1]
    return compared


Rows = list[tuple[object, ...]]


def _aggregates(path: Path) -> tuple[Rows, Rows, Rows]:
    conn = sqlite3.connect(path)
    try:
        durations = conn.execute(
            "SELECT kind, day, minute, n, total FROM metrics_durations ORDER BY 1, 2, 3"
        ).fetchall()
        outcomes = conn.execute("SELECT * FROM metrics_outcomes ORDER BY day").fetchall()
        dekads = conn.execute(
            "SELECT kind, dekad, minute, n, total FROM metrics_dekads ORDER BY 1, 2, 3"
        ).fetchall()
    finally:
        conn.close()
    return durations, outcomes, dekads


def _same_rows(kept: Rows, found: Rows) -> None:
    """Histogram rows: keys and counts equal, sums of seconds to float rounding."""
    assert [row[:4] for row in kept] == [row[:4] for row in found]
    for a, b in zip(kept, found, strict=True):
        assert math.isclose(a[4], b[4], rel_tol=1e-9, abs_tol=1e-6)  # type: ignore[arg-type]


def _dekads_are_their_days(path: Path) -> None:
    """Each dekad row is the sum of the day rows whose day starts with it (schema 18)."""
    durations, _, dekads = _aggregates(path)
    summed: dict[tuple[object, ...], list[float]] = {}
    for kind, day, minute, n, total in durations:
        found = summed.setdefault((kind, str(day)[:9], minute), [0, 0.0])
        found[0] += n  # type: ignore[operator]
        found[1] += total  # type: ignore[operator]
    assert dekads, "no dekad rows: the comparison proves nothing"
    _same_rows(
        sorted((*key, int(n), total) for key, (n, total) in summed.items() if n),  # type: ignore[misc]
        [row for row in dekads if row[3]],
    )


def _mutate(path: Path, rng: random.Random) -> None:
    """Every change the triggers must follow, written as any process could."""
    conn = sqlite3.connect(path)
    try:
        ids = [row[0] for row in conn.execute("SELECT id FROM incidents")]
        for incident in rng.sample(ids, 150):  # acknowledge, or move the acknowledgement
            conn.execute(
                "UPDATE incidents SET acknowledged_at = strftime('%Y-%m-%dT%H:%M:%SZ',"
                " julianday(created_at) + ? / 86400.0) WHERE id = ?",
                (rng.randrange(5, 20000), incident),
            )
        for incident in rng.sample(ids, 150):  # resolve, or resolve again at another time
            conn.execute(
                "UPDATE incidents SET state = 'resolved', resolved_at = strftime("
                "'%Y-%m-%dT%H:%M:%SZ', julianday(created_at) + ? / 86400.0),"
                " resolve_met = ?, response_met = ? WHERE id = ?",
                (rng.randrange(60, 300000), rng.choice((0, 1)), rng.choice((None, 0, 1)), incident),
            )
        for incident in rng.sample(ids, 150):  # reopen
            conn.execute(
                "UPDATE incidents SET state = 'in_progress', resolved_at = NULL,"
                " resolve_met = NULL, csat = NULL WHERE id = ?",
                (incident,),
            )
        for incident in rng.sample(ids, 100):  # CSAT answered or changed; SLA outcome only
            conn.execute(
                "UPDATE incidents SET csat = ?, response_met = ? WHERE id = ?",
                (rng.choice((None, 1, 3, 5)), rng.choice((None, 0, 1)), incident),
            )
        for incident in rng.sample(ids, 40):  # creation moved (other tools): both aggregates
            conn.execute(
                "UPDATE incidents SET created_at = strftime('%Y-%m-%dT%H:%M:%SZ',"
                " julianday(created_at) - ? / 86400.0) WHERE id = ?",
                (rng.randrange(1, 200000), incident),
            )
        conn.executemany("DELETE FROM incidents WHERE id = ?", [(i,) for i in rng.sample(ids, 120)])
        conn.executemany(INSERT, [_random_row(rng) for _ in range(200)])
        conn.commit()
    finally:
        conn.close()


def _fill(path: Path, rng: random.Random, count: int) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.executemany(INSERT, [_random_row(rng) for _ in range(count)])
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize("seed", [1, 2])
def test_aggregates_match_a_scan_through_every_change(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    path = tmp_path / "s.db"

    async def check() -> None:
        store = await Store.open(path)
        try:
            assert await _assert_same(store) == len(_windows())
        finally:
            await store.close()

    asyncio.run(_created(path))
    _fill(path, rng, 3000)
    asyncio.run(check())
    _dekads_are_their_days(path)
    for _ in range(2):
        _mutate(path, rng)
        asyncio.run(check())
        _dekads_are_their_days(path)
    kept = _aggregates(path)

    async def rebuild() -> None:
        store = await Store.open(path)
        try:
            await store.stats.rebuild()
            await _assert_same(store)
        finally:
            await store.close()

    asyncio.run(rebuild())
    rebuilt = _aggregates(path)
    _same_rows(kept[0], rebuilt[0])
    assert rebuilt[1] == kept[1]
    _same_rows([row for row in kept[2] if row[3]], rebuilt[2])
    _dekads_are_their_days(path)


async def _created(path: Path) -> None:
    store = await Store.open(path)
    await store.close()


def _demo_same(path: Path, rebuild: bool) -> None:
    async def check() -> None:
        store = await Store.open(path)
        try:
            if rebuild:
                await store.stats.rebuild()
            for since, until in _windows():
                _same_stats(
                    await store.incidents.stats(since, until), await store.stats.stats(since, until)
                )
        finally:
            await store.close()

    asyncio.run(check())


def test_a_bulk_loaded_demo_is_right_after_a_rebuild(demo_store: Path) -> None:
    _demo_same(demo_store, rebuild=True)


def test_a_bulk_loaded_demo_is_right_as_built(demo_store: Path) -> None:
    """store/bulk.py drops the incidents' triggers for the load and calls
    `opsdesk.store.stats.rebuild(conn)` before it commits."""
    _demo_same(demo_store, rebuild=False)
    _dekads_are_their_days(demo_store)


# -- how a window's edge days are read ---------------------------------------------------

SIDES = [(False, False), (False, True), (True, False), (True, True)]
"""For the first and the last edge day: read the inside (False) or the outside (True)."""


def _forced(windows: list[tuple[str, str]], side: tuple[bool, bool]) -> dict[str, Plan]:
    """Plans that read each edge day from the side given, whatever the counts say."""
    sizes: dict[Range, int] = {}
    for start, end in windows:
        found = edges(start, end)
        if found:
            for (inside, outside), outer in zip(
                ((found[0], found[1]), (found[2], found[3])), side, strict=True
            ):
                sizes[inside], sizes[outside] = (1, 0) if outer else (0, 1)
    return {"created_at": plan(windows, sizes), "resolved_at": plan(windows, sizes)}


def _pairs() -> list[list[tuple[datetime, datetime]]]:
    """_windows() two at a time (the strip reads a week and a month together), and one
    window alone."""
    spans = _windows()
    return [[span] for span in spans[:3]] + [
        [spans[i], spans[(i * 5 + 3) % len(spans)]] for i in range(len(spans))
    ]


def test_each_edge_day_is_read_from_its_smaller_side() -> None:
    week = ("2026-11-18T03:00:00Z", "2026-11-25T03:00:00Z")
    sizes = dict(zip(edges(*week), (2100, 300, 300, 0), strict=True))  # in, before, in, after
    read = plan([week], sizes)
    assert read.days == (("2026-11-18", "2026-11-26"),)  # both edge days' aggregate rows
    assert [(p.start, p.end, p.signs) for p in read.parts] == [
        ("2026-11-18", "2026-11-18T03:00:00Z", (-1,)),  # less 00:00-03:00 of the first
        ("2026-11-25T03:00:00Z", "2026-11-26", (-1,)),  # less what came after the end
    ]
    sizes = dict(zip(edges(*week), (300, 2100, 300, 2100), strict=True))
    read = plan([week], sizes)
    assert read.days == (("2026-11-19", "2026-11-25"),)
    assert [(p.start, p.end, p.signs) for p in read.parts] == [
        ("2026-11-18T03:00:00Z", "2026-11-19", (1,)),
        ("2026-11-25", "2026-11-25T03:00:00Z", (1,)),
    ]


def test_every_way_of_reading_the_edge_days_gives_the_scans_figures(tmp_path: Path) -> None:
    """Each edge day read from inside or outside the window, for windows read alone and
    two at a time: the figures of a scan, every time."""
    path = tmp_path / "s.db"
    rng = random.Random(7)
    asyncio.run(_created(path))
    _fill(path, rng, 3000)
    _mutate(path, rng)

    async def check() -> int:
        store = await Store.open(path)
        compared = 0
        try:
            conn = await store.stats._db.reader()
            for spans in _pairs():
                windows = [(to_db(since), to_db(until)) for since, until in spans]
                scans = [await store.incidents.stats(since, until) for since, until in spans]
                for side in SIDES:
                    rows = []
                    for sql, params in statements(_forced(windows, side), postgres=False):
                        async with conn.execute(sql, params) as cursor:
                            rows.append(list(await cursor.fetchall()))
                    for scan, found in zip(scans, figures(spans, rows), strict=True):
                        _same_stats(scan, found)
                        compared += 1
        finally:
            await store.close()
        return compared

    assert asyncio.run(check()) == len(SIDES) * sum(len(spans) for spans in _pairs())


@pytest.mark.postgres
def test_postgresql_reads_the_same_figures(tmp_path: Path, pg_database: str) -> None:
    """The same incidents on both backends (the aggregates kept by each one's triggers),
    every window pair and every way of reading the edge days: the same buckets and
    counts, sums of seconds to float rounding (PostgreSQL adds them in another order)."""
    from opsdesk.store.pg.conn import translate
    from tests.test_pg_schema import apply_schema

    path = tmp_path / "s.db"
    asyncio.run(_created(path))
    rng = random.Random(11)
    rows = [_random_row(rng) for _ in range(1500)]
    lite = sqlite3.connect(path)
    pg = apply_schema(pg_database)
    try:
        lite.executemany(INSERT, rows)
        lite.commit()
        with pg.cursor() as cursor:
            cursor.executemany(translate(INSERT, False), rows)
        buckets = 0
        for spans in _pairs():
            windows = [(to_db(since), to_db(until)) for since, until in spans]
            for side in SIDES:
                plans = _forced(windows, side)
                want = figures(
                    spans,
                    [lite.execute(sql, p).fetchall() for sql, p in statements(plans, False)],
                )
                got = figures(
                    spans,
                    [
                        pg.execute(translate(sql, False), tuple(p)).fetchall()
                        for sql, p in statements(plans, True)
                    ],
                )
                for a, b in zip(want, got, strict=True):
                    _same_stats(a, b)
                    buckets += len(a.ack.buckets) + len(a.resolve.buckets)
        assert buckets > 10_000, "hardly any durations compared: the test proves nothing"
    finally:
        lite.close()
        pg.close()


# -- how a window's whole days are read: dekads and days (schema 18) ----------------------


def _days_around() -> list[str]:
    """Every date from late August to early January, and texts a stored time could
    start with that are not dates (a 31st of November, a day 00, "…-2:")."""
    start = datetime(2026, 8, 20, tzinfo=UTC)
    days = [(start + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(140)]
    return sorted({*days, "2026-11-31", "2026-11-00", "2026-11-2:", "2026-10-3Z", "2026-12-3"})


def _weight(
    day: str, read: tuple[tuple[int, str, str], ...], dekads: tuple[str, str] | None
) -> int:
    """How many times a day row counts in a reading: its dekad's row if read, plus each
    signed range of day rows it falls in."""
    weight = sum(sign for sign, low, high in read if low <= day < high)
    if dekads is not None and dekads[0] <= day[:9] < dekads[1]:
        weight += 1
    return weight


def test_whole_days_count_each_day_row_of_the_window_once_and_no_other() -> None:
    """Every [day_from, day_to) between those texts: each day row inside counts once,
    each outside not at all, and the long windows read most of their days as dekads."""
    days = _days_around()
    ends = days + [_after_day(day) for day in days]
    checked = dekad_read = 0
    for index, day_from in enumerate(days):
        for day_to in ends[index::7]:
            reading = whole_days(day_from, day_to)
            for day in days:
                want = 1 if day_from <= day < day_to else 0
                assert _weight(day, reading.days, reading.dekads) == want, (day_from, day_to, day)
            checked += 1
            if reading.dekads is not None:
                dekad_read += 1
                # at most one dekad's worth of day rows read at either end
                assert len(reading.days) == 2
    assert checked > 1000 and dekad_read > checked // 2


def test_a_month_reads_its_middle_as_dekads() -> None:
    month = whole_days("2026-11-02", "2026-12-01")
    assert month.dekads == ("2026-11-0", "2026-12-0")  # 1st-9th, 10th-19th, 20th-29th, 30th
    assert month.days == ((-1, "2026-11-0", "2026-11-02"), (1, "2026-12-0", "2026-12-01"))
    late = whole_days("2026-11-08", "2026-12-09")  # less of the first dekad than outside it
    assert late.dekads == ("2026-11-1", "2026-12-1")
    assert late.days == ((1, "2026-11-08", "2026-11-1"), (-1, "2026-12-09", "2026-12-1"))
    assert whole_days("2026-11-22", "2026-11-27").dekads is None  # within one dekad: days


def test_a_wrong_dekad_row_shows_in_the_figures(tmp_path: Path) -> None:
    """The month is read from the dekad rows: one bucket off by one in a dekad the month
    covers makes its figures differ from the scan (this is what the checks above guard)."""
    path = tmp_path / "s.db"
    rng = random.Random(5)
    asyncio.run(_created(path))
    _fill(path, rng, 2000)
    month = (NOW - timedelta(days=30), NOW)

    async def month_figures() -> tuple[QueueStats, QueueStats]:
        store = await Store.open(path)
        try:
            return await store.incidents.stats(*month), await store.stats.stats(*month)
        finally:
            await store.close()

    _same_stats(*asyncio.run(month_figures()))
    conn = sqlite3.connect(path)
    try:
        moved = conn.execute(
            "UPDATE metrics_dekads SET n = n + 1 WHERE kind = 'resolve' AND dekad = '2026-11-1'"
            " AND minute = (SELECT min(minute) FROM metrics_dekads"
            "  WHERE kind = 'resolve' AND dekad = '2026-11-1')"
        ).rowcount
        conn.commit()
    finally:
        conn.close()
    assert moved == 1
    with pytest.raises(AssertionError):
        _same_stats(*asyncio.run(month_figures()))
