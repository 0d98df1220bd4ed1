"""The queue's metrics read from aggregates kept in step by triggers (schema 13).

`Incidents.stats` and `Incidents.open_ages` read every incident of a month to answer the
metrics strip: seconds at a million incidents. Here the same figures come from
`metrics_durations` (per day and kind, a one-minute histogram of ack and resolve times:
count and sum of seconds per minute bucket) and `metrics_outcomes` (per resolved day:
how many resolved with their SLA outcome recorded, how many met, CSAT sum and count).
A window [since, until] is its whole days from the aggregates plus, for the two days it
starts and ends in, the incidents themselves through the created_at / resolved_at
indexes, so the answer is exactly what a scan of the window gives (counts and buckets
equal; sums of seconds equal up to float rounding, since they are added in another
order). Open counts and breaches are index-only counts.

The whole days of a histogram are mostly read from `metrics_dekads` (schema 18: the
same histograms per dekad, the days sharing the first nine characters of their date,
kept by the same kind of triggers): a month is 3-4 dekads and a few days (`whole_days`),
about a third of the rows of 30 days, which was most of the strip's time at a million
incidents (the minutes of a day repeat from day to day: a dekad has ~2 days' rows).

An edge day is read from whichever side of the window's end is smaller: the incidents
inside the window, or the day's aggregate row less the incidents outside it (`plan`).
The strip's windows end now, so the last day has nothing after it and costs nothing, and
a window starting at 03:00 reads 3 hours of its first day instead of 21. Those are the
only incidents whose durations are computed (on PostgreSQL a julianday() call costs
~2 µs: it was most of the strip there). The week and the month are read together, the
days they share once (`Stats.windows`).

A bulk load that drops the incidents' triggers (store/bulk.py) calls `rebuild` after it;
`REBUILD` recomputes the day aggregates from the incidents, then the dekads from the days.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opsdesk.store.db import Database
from opsdesk.store.errors import StoreError
from opsdesk.store.records import Durations, QueueStats
from opsdesk.store.timefmt import maybe_from_db, to_db

OPEN_STATES = ("new", "acknowledged", "in_progress", "on_hold")
PRIORITIES = ("P1", "P2", "P3", "P4")  # the CHECK on incidents.priority
ACK_SECONDS = "(julianday(acknowledged_at) - julianday(created_at)) * 86400"
RESOLVE_SECONDS = "(julianday(resolved_at) - julianday(created_at)) * 86400"
EARLIEST_DUE = "coalesce(min(response_due, resolve_due), response_due, resolve_due)"
OPEN_SQL = "state IN ('new', 'acknowledged', 'in_progress', 'on_hold')"

# Schema 18's dekads from the day histograms (each dekad the sum of its days' rows): what
# migration 0018 backfills, the last step of REBUILD, and the same on PostgreSQL.
DEKADS_FROM_DAYS = (
    "INSERT INTO metrics_dekads (kind, dekad, minute, n, total)"
    " SELECT kind, substr(day, 1, 9), minute, sum(n), sum(total) FROM metrics_durations"
    " GROUP BY kind, substr(day, 1, 9), minute"
)

# One pass per aggregate over every incident: what migration 0013 backfills and what a
# bulk load calls afterwards (the same SQL as the migration's backfill).
REBUILD = (
    "DELETE FROM metrics_durations",
    "DELETE FROM metrics_outcomes",
    "INSERT INTO metrics_durations (kind, day, minute, n, total)"
    " SELECT 'ack', day, CAST(d / 60 AS INTEGER) AS minute, count(*), sum(d) FROM"
    f" (SELECT substr(created_at, 1, 10) AS day, {ACK_SECONDS} AS d FROM incidents"
    "  WHERE acknowledged_at IS NOT NULL) AS spans"
    " WHERE d IS NOT NULL GROUP BY day, minute",
    "INSERT INTO metrics_durations (kind, day, minute, n, total)"
    " SELECT 'resolve', day, CAST(d / 60 AS INTEGER) AS minute, count(*), sum(d) FROM"
    f" (SELECT substr(resolved_at, 1, 10) AS day, {RESOLVE_SECONDS} AS d FROM incidents"
    "  WHERE resolved_at IS NOT NULL) AS spans"
    " WHERE d IS NOT NULL GROUP BY day, minute",
    "INSERT INTO metrics_outcomes (day, resolved, met, csat_sum, csat_count)"
    " SELECT substr(resolved_at, 1, 10) AS day, count(*),"
    " coalesce(sum(resolve_met = 1 AND coalesce(response_met, 1) = 1), 0),"
    " coalesce(sum(csat), 0), count(csat) FROM incidents"
    " WHERE resolved_at IS NOT NULL AND resolve_met IS NOT NULL GROUP BY day",
    "DELETE FROM metrics_dekads",
    DEKADS_FROM_DAYS,
)


Range = tuple[str, str, str, str]
"""A range of one time column: (low operator, start, high operator, end)."""

# How many incidents fall in a range of one of the two times the windows are keyed by.
COUNT_RANGE = "(SELECT count(*) FROM incidents WHERE {column} {low} ? AND {column} {high} ?)"


@dataclass(frozen=True)
class Part:
    """Rows of one range of one edge day, read from the incidents, with the sign each
    window takes them with: +1 (the part of the day inside the window), -1 (the part
    outside it, taken off that day's aggregate row), 0 (not this window's)."""

    low: str  # ">=" or ">"
    start: str
    high: str  # "<" or "<="
    end: str
    signs: tuple[int, ...]


@dataclass(frozen=True)
class Plan:
    """What one reading of several windows adds up, for one time column: per window the
    aggregate's days [day_from, day_to) and the raw parts of its edge days."""

    days: tuple[tuple[str, str], ...]
    parts: tuple[Part, ...]


def edges(start: str, end: str) -> list[Range]:
    """The ranges whose sizes choose how a window's edge days are read: for the first
    day, the part inside the window and the part before it; for the last, inside and
    after. Empty for a window within one day (read from the incidents alone)."""
    first, last = start[:10], end[:10]
    if first >= last:
        return []
    return [
        (">=", start, "<", _after_day(first)),  # first day, inside
        (">=", first, "<", start),  # first day, before the window
        (">=", last, "<=", end),  # last day, inside
        (">", end, "<", _after_day(last)),  # last day, after the window
    ]


def plan(windows: Sequence[tuple[str, str]], sizes: dict[Range, int]) -> Plan:
    """Each edge day read the cheaper way: its part inside the window from the incidents,
    or its whole aggregate row less its part outside the window from the incidents,
    whichever reads fewer incidents (`sizes`: incidents per range). At 03:00 the first
    day of a window is 21 hours inside and 3 outside, and the last day (ending now) has
    nothing after it: the incidents read go from two whole days to a few hours."""
    days: list[tuple[str, str]] = []
    parts: dict[Range, list[int]] = {}
    for index, (start, end) in enumerate(windows):
        sides = edges(start, end)
        if not sides:  # within one day (or empty): the incidents alone
            days.append((start[:10], start[:10]))
            parts.setdefault((">=", start, "<=", end), [0] * len(windows))[index] = 1
            continue
        first, last = start[:10], end[:10]
        day_from, day_to = _after_day(first), last
        for inside, outside, whole in ((sides[0], sides[1], 0), (sides[2], sides[3], 1)):
            if sizes.get(outside, 0) < sizes.get(inside, 0):
                if whole == 0:
                    day_from = first
                else:
                    day_to = _after_day(last)
                parts.setdefault(outside, [0] * len(windows))[index] = -1
            else:
                parts.setdefault(inside, [0] * len(windows))[index] = 1
        days.append((day_from, day_to))
    return Plan(
        tuple(days),
        tuple(Part(*key, tuple(signs)) for key, signs in parts.items()),
    )


def _signed(sign: int, value: str, zero: str) -> str:
    return {1: value, -1: f"-{value}", 0: zero}[sign]


Term = tuple[int, str, str]
"""A text range [low, high) of a histogram table's key, taken with a sign (+1 or -1)."""


@dataclass(frozen=True)
class Whole:
    """How one window's whole days [day_from, day_to) are read from the histograms: the
    dekad rows in [dekads[0], dekads[1]) (schema 18), plus ranges of day rows, each
    with its sign (the rest of a dekad the window only partly covers, or the part of a
    dekad outside it taken off that dekad's row)."""

    days: tuple[Term, ...]
    dekads: tuple[str, str] | None


def whole_days(day_from: str, day_to: str) -> Whole:
    """[day_from, day_to) as dekads and day ranges. The dekads strictly inside are read
    as dekads; each end's dekad as its days inside the window, or as the dekad less its
    days outside, whichever reads fewer days (a dekad costs about two days' rows: its
    minutes repeat from day to day). A 30-day window reads 3-4 dekads and a few days
    instead of 30 days. Exact whatever the text: a dekad row is the sum of the day rows
    whose day starts with it, which are the days of [dekad, _after_day(dekad))."""
    if day_from >= day_to:
        return Whole((), None)
    first, last = day_from[:9], day_to[:9]
    if first == last:
        return Whole(((1, day_from, day_to),), None)
    low, high = _after_day(first), last
    days: list[Term] = []
    before = _units(day_from)  # days of the first dekad before the window, about
    if before + 1 < 10 - before:
        low = first
        days.append((-1, first, day_from))
    else:
        days.append((1, day_from, _after_day(first)))
    inside = _units(day_to)  # days of the last dekad inside the window, about
    if (10 - inside) + 1 < inside:
        high = _after_day(last)
        days.append((-1, day_to, _after_day(last)))
    else:
        days.append((1, last, day_to))
    return Whole(tuple(days), (low, high) if low < high else None)


def _units(day: str) -> int:
    """The last digit of a day's date (0-10; ":" from `_after_day` of a ...9 is 10):
    how far into its dekad it is, which only chooses the cheaper way to read."""
    return min(max(ord(day[9]) - ord("0"), 0), 10) if len(day) >= 10 else 0


def _merged(ranges: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Text ranges [low, high) merged where they overlap or touch: each row read once."""
    found: list[tuple[str, str]] = []
    for low, high in sorted(r for r in ranges if r[0] < r[1]):
        if found and low <= found[-1][1]:
            found[-1] = (found[-1][0], max(found[-1][1], high))
        else:
            found.append((low, high))
    return found


def _table_selects(
    kind: str, table: str, key: str, terms: Sequence[Sequence[Term]]
) -> tuple[list[str], list[str]]:
    """SELECTs of one histogram table (metrics_durations by day, metrics_dekads by
    dekad): per minute bucket, each window's signed count and sum of seconds (columns
    n0, t0, n1, t1...) from its `terms`; each range of rows read once. A window's
    ranges of one table never overlap (`whole_days`), so CASE takes the one a row is in."""
    selects, params = [], []
    for low, high in _merged([(lo, hi) for window in terms for _, lo, hi in window]):
        cols = []
        for index, window in enumerate(terms):
            hits = [(sign, lo, hi) for sign, lo, hi in window if lo < high and low < hi]
            if not hits:
                cols += [f"0 AS n{index}", f"0.0 AS t{index}"]
                continue
            inside = f"{key} >= ? AND {key} < ?"
            for column, name in (("n", "n"), ("total", "t")):
                cases = " ".join(
                    f"WHEN {inside} THEN {_signed(sign, column, '0')}" for sign, _, _ in hits
                )
                zero = "0" if column == "n" else "0.0"
                cols.append(f"CASE {cases} ELSE {zero} END AS {name}{index}")
                params += [value for _, lo, hi in hits for value in (lo, hi)]
        selects.append(
            f"SELECT minute, {', '.join(cols)} FROM {table}"
            f" WHERE kind = '{kind}' AND {key} >= ? AND {key} < ?"
        )
        params += [low, high]
    return selects, params


def _histogram_sql(kind: str, plan: Plan, fence: str) -> tuple[str, list[str]]:
    """One statement for every window's histogram of one kind: per minute bucket, each
    window's count and sum of seconds (columns n0, t0, n1, t1...). `fence` is " OFFSET 0"
    on PostgreSQL: it keeps each subquery of durations whole, so each incident's two
    julianday() calls run once, not once for the minute and again for the sum."""
    seconds, column, extra = DURATIONS[kind]
    wholes = [whole_days(day_from, day_to) for day_from, day_to in plan.days]
    selects, params = _table_selects(
        kind, "metrics_dekads", "dekad",
        [((1, *whole.dekads),) if whole.dekads else () for whole in wholes],
    )  # fmt: skip
    by_day = _table_selects(kind, "metrics_durations", "day", [w.days for w in wholes])
    selects += by_day[0]
    params += by_day[1]
    for part in plan.parts:
        cols = []
        for index, sign in enumerate(part.signs):
            cols.append(f"{_signed(sign, '1', '0')} AS n{index}")
            cols.append(f"{_signed(sign, 'd', '0.0')} AS t{index}")
        selects.append(
            f"SELECT CAST(d / 60 AS INTEGER) AS minute, {', '.join(cols)} FROM"
            f" (SELECT {seconds} AS d FROM incidents"
            f" WHERE {column} {part.low} ? AND {column} {part.high} ?{extra}{fence}) AS spans"
            " WHERE d IS NOT NULL"
        )
        params += [part.start, part.end]
    if not selects:  # nothing to read (no window): a statement with no rows
        zeros = ", ".join(f"0 AS n{i}, 0.0 AS t{i}" for i in range(len(plan.days)))
        selects.append(f"SELECT 0 AS minute{', ' if zeros else ''}{zeros} WHERE 0 = 1")
    sums = ", ".join(f"sum(n{i}), sum(t{i})" for i in range(len(plan.days)))
    sql = (
        f"SELECT minute, {sums} FROM ({' UNION ALL '.join(selects)}) AS parts"
        " GROUP BY minute ORDER BY minute"
    )
    return sql, params


def _outcomes_sql(plan: Plan) -> tuple[str, list[str]]:
    """One statement for every window's outcomes (resolved, met, CSAT sum, CSAT answers):
    one row, four columns per window."""
    params: list[str] = []
    agg_cols = []
    for index, (day_from, day_to) in enumerate(plan.days):
        inside = "day >= ? AND day < ?"
        for name, column in enumerate(("resolved", "met", "csat_sum", "csat_count")):
            agg_cols.append(f"CASE WHEN {inside} THEN {column} ELSE 0 END AS v{index}_{name}")
            params += [day_from, day_to]
    low = min(day_from for day_from, _ in plan.days)
    high = max(day_to for _, day_to in plan.days)
    selects = [f"SELECT {', '.join(agg_cols)} FROM metrics_outcomes WHERE day >= ? AND day < ?"]
    params += [low, high]
    for part in plan.parts:
        cols = []
        for index, sign in enumerate(part.signs):
            one = _signed(sign, "1", "0")
            cols += [
                f"{one} AS v{index}_0",
                f"CASE WHEN {MET} THEN {one} ELSE 0 END AS v{index}_1",
                f"{_signed(sign, 'coalesce(csat, 0)', '0')} AS v{index}_2",
                f"CASE WHEN csat IS NOT NULL THEN {one} ELSE 0 END AS v{index}_3",
            ]
        selects.append(
            f"SELECT {', '.join(cols)} FROM incidents WHERE resolved_at {part.low} ?"
            f" AND resolved_at {part.high} ? AND resolve_met IS NOT NULL"
        )
        params += [part.start, part.end]
    sums = ", ".join(f"coalesce(sum(v{i}_{k}), 0)" for i in range(len(plan.days)) for k in range(4))
    return f"SELECT {sums} FROM ({' UNION ALL '.join(selects)}) AS parts", params


MET = "resolve_met = 1 AND coalesce(response_met, 1) = 1"
# kind: (its duration in seconds, the time column it is keyed by, what else a row needs)
DURATIONS = {
    "ack": (ACK_SECONDS, "created_at", " AND acknowledged_at IS NOT NULL"),
    "resolve": (RESOLVE_SECONDS, "resolved_at", ""),
}
OPEN_AGES = (
    f"SELECT (SELECT count(*) FROM incidents WHERE {OPEN_SQL}),"
    f" (SELECT min(m) FROM ("
    + " UNION ALL ".join(
        f"SELECT min(created_at) AS m FROM incidents WHERE state = '{s}' AND priority = '{p}'"
        for s in OPEN_STATES
        for p in PRIORITIES
    )
    + ") AS oldest),"
    f" (SELECT count(*) FROM incidents WHERE {OPEN_SQL}"
    f"  AND ({EARLIEST_DUE} IS NULL) = 0 AND {EARLIEST_DUE} < ?)"
)
# `(... IS NULL) = 0` is the form SQLite matches against the partial index's first column;
# PostgreSQL has no boolean = integer, and compares with false (its planner matches that
# against the same index column of 0001_schema.sql).
PG_OPEN_AGES = OPEN_AGES.replace(
    f"({EARLIEST_DUE} IS NULL) = 0", f"({EARLIEST_DUE} IS NULL) = false"
)


def _after_day(day: str) -> str:
    """The smallest text after every text that starts with `day` ("2026-11-23" gives
    "2026-11-24", "2026-11-29" gives "2026-11-2:"): `day <= t < _after_day(day)` holds
    exactly for the times `t` on that day, however they are written."""
    return day[:-1] + chr(ord(day[-1]) + 1)


class Stats:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._tuned: object = None  # the reading connection temp_store was set on

    async def stats(self, since: datetime, until: datetime) -> QueueStats:
        """What `Incidents.stats(since, until)` returns, from the aggregates: ack times of
        incidents created in [since, until], resolution times and outcomes of those
        resolved in it, as one-minute histograms."""
        return (await self.windows([(since, until)]))[0]

    async def windows(self, spans: Sequence[tuple[datetime, datetime]]) -> list[QueueStats]:
        """`stats` of several windows (the strip's week and month) read together: each
        figure of every window in one statement (one snapshot), so the days the windows
        share are read once. Per window, its whole days come from the aggregates and its
        two edge days each the cheaper way (`plan`), chosen by counting the incidents on
        either side of the window's ends (index ranges, no durations computed). On SQLite
        the statements run one after another on the second connection (as one statement,
        UNION ALL, the trips saved at start-up were no faster in bench.metrics and the
        outer sort cost 4-7 ms); on PostgreSQL each on its own pooled connection, at once."""
        if not spans:
            return []
        windows = [(to_db(since), to_db(until)) for since, until in spans]
        try:
            conn = await self._db.reader()
            postgres = self._db.dialect == "postgres"
            if not postgres and conn is not self._db.conn and conn is not self._tuned:
                # A month's histogram is summed from ~100k day-bucket rows at a million
                # incidents: in memory, not spilled to temporary files (half the time).
                await _fetch(conn, "PRAGMA temp_store = MEMORY", ())
                self._tuned = conn
            plans = await self._plans(conn, windows)
            planned = statements(plans, postgres)
            if postgres and not conn.in_transaction:
                rows = await asyncio.gather(*(_fetch(conn, *s) for s in planned))
            else:
                rows = [await _fetch(conn, *s) for s in planned]
        except sqlite3.Error as exc:
            raise StoreError(f"{self._db.path}: reading metrics failed: {exc}") from None
        return figures(spans, rows)

    async def _plans(self, conn: Any, windows: list[tuple[str, str]]) -> dict[str, Plan]:
        """Per time column (created_at for acks, resolved_at for resolutions and
        outcomes), how to read the windows' edge days: one statement of index-range
        counts."""
        ranges = list(dict.fromkeys(edge for start, end in windows for edge in edges(start, end)))
        sizes: dict[str, dict[Range, int]] = {"created_at": {}, "resolved_at": {}}
        if ranges:
            columns = list(sizes)
            sql = "SELECT " + ", ".join(
                COUNT_RANGE.format(column=column, low=low, high=high)
                for column in columns
                for low, _, high, _ in ranges
            )
            params = [value for _ in columns for edge in ranges for value in (edge[1], edge[3])]
            (counts,) = await _fetch(conn, sql, params)
            for offset, column in enumerate(columns):
                for index, edge in enumerate(ranges):
                    sizes[column][edge] = int(counts[offset * len(ranges) + index])
        return {column: plan(windows, found) for column, found in sizes.items()}

    async def open_ages(self, now: datetime) -> tuple[int, datetime | None, int]:
        """What `Incidents.open_ages(now)` returns (open count, oldest open creation
        time, breached open count) from indexes alone: the open count and the breaches
        from the partial index of open incidents by earliest due time (breached: a due
        time before `now`), the oldest from one seek per open state and priority."""
        sql = PG_OPEN_AGES if self._db.dialect == "postgres" else OPEN_AGES
        async with self._db.conn.execute(sql, (to_db(now),)) as cursor:
            count, oldest, breached = await cursor.fetchone() or (0, None, 0)
        return int(count), maybe_from_db(oldest), int(breached)

    async def rebuild(self) -> None:
        """Recompute the aggregates from the incidents in one pass each (seconds at a
        million incidents). Inside a transaction already open on the store's connection
        (a bulk load's) it runs there; otherwise in its own."""
        if self._db.read_only:
            raise self._db.read_only_error()
        await rebuild(self._db.conn)


def statements(plans: dict[str, Plan], postgres: bool) -> list[tuple[str, list[str]]]:
    """The three statements of `Stats.windows` (ack histograms, resolution histograms,
    outcomes), for `figures`."""
    fence = " OFFSET 0" if postgres else ""
    return [
        _histogram_sql("ack", plans["created_at"], fence),
        _histogram_sql("resolve", plans["resolved_at"], fence),
        _outcomes_sql(plans["resolved_at"]),
    ]


def figures(spans: Sequence[tuple[datetime, datetime]], rows: Sequence[Any]) -> list[QueueStats]:
    """Each window's QueueStats from the rows of `statements`."""
    acks, resolves, outcome_rows = rows
    outcomes = outcome_rows[0]
    found = []
    for index, (since, until) in enumerate(spans):
        resolved, met, csat_sum, csat_count = outcomes[4 * index : 4 * index + 4]
        ack, resolve = _durations(acks, index), _durations(resolves, index)
        counts = (int(resolved), int(met), int(csat_sum), int(csat_count))
        found.append(QueueStats(since, until, ack, resolve, *counts))
    return found


async def _fetch(conn: Any, sql: str, params: Sequence[str]) -> list[Any]:
    """Every row of one statement. On SQLite in one trip to the connection's thread
    (aiosqlite's execute_fetchall; a cursor takes three): when the console starts, the
    event loop is busy composing the first screen and each trip waits for a turn."""
    fetch_all = getattr(conn, "execute_fetchall", None)
    if fetch_all is not None:
        return list(await fetch_all(sql, tuple(params)))
    async with conn.execute(sql, tuple(params)) as cursor:
        return list(await cursor.fetchall())


def _durations(rows: list[Any], index: int) -> Durations:
    """Window `index`'s histogram from a statement of `_histogram_sql`: its buckets that
    hold a duration (a bucket can sum to none: the other window's, or taken off)."""
    n, total = 1 + 2 * index, 2 + 2 * index
    return Durations(tuple((int(row[n]), row[total]) for row in rows if row[n] > 0))


async def rebuild(conn: Any) -> None:
    """`Stats.rebuild` on a bare connection (the demo builder's, mid-load)."""
    own = not conn.in_transaction
    if own:
        await conn.execute("BEGIN IMMEDIATE")
    try:
        for sql in REBUILD:
            await conn.execute(sql)
    except BaseException:
        if own:
            await conn.execute("ROLLBACK")
        raise
    if own:
        await conn.execute("COMMIT")
