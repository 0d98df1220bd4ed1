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

A bulk load that drops the incidents' triggers (store/bulk.py) calls `rebuild` after it.
"""

from __future__ import annotations

import sqlite3
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
)


def _histogram(kind: str, seconds: str, column: str, extra: str) -> str:
    """Minute buckets (bucket, count, sum) of one window: the whole days between the
    window's first and last day from the aggregate, those two days from the incidents."""
    raw = (
        "SELECT CAST(d / 60 AS INTEGER), 1, d FROM"
        f" (SELECT {seconds} AS d FROM incidents WHERE {column} >= ? AND {column} {{op}} ?{extra})"
        " AS spans"
    )
    return (
        "SELECT minute, sum(n), sum(total) FROM ("
        f" SELECT minute, n, total FROM metrics_durations"
        f"  WHERE kind = '{kind}' AND day > ? AND day < ?"
        f" UNION ALL {raw.format(op='<')}"
        f" UNION ALL {raw.format(op='<=')}"
        ") AS parts GROUP BY minute HAVING sum(n) > 0 ORDER BY minute"
    )


def _whole_histogram(seconds: str, column: str, extra: str) -> str:
    """The same over the incidents alone, for a window within one day."""
    return (
        f"SELECT CAST(d / 60 AS INTEGER) AS minute, count(*), sum(d) FROM"
        f" (SELECT {seconds} AS d FROM incidents WHERE {column} >= ? AND {column} <= ?{extra})"
        " AS spans GROUP BY minute ORDER BY minute"
    )


OUTCOME_RAW = (
    "SELECT count(*), coalesce(sum(resolve_met = 1 AND coalesce(response_met, 1) = 1), 0),"
    " coalesce(sum(csat), 0), count(csat) FROM incidents"
    " WHERE resolved_at >= ? AND resolved_at {op} ? AND resolve_met IS NOT NULL"
)
ACK_EXTRA = " AND acknowledged_at IS NOT NULL"
ACK_SQL = _histogram("ack", ACK_SECONDS, "created_at", ACK_EXTRA)
RESOLVE_SQL = _histogram("resolve", RESOLVE_SECONDS, "resolved_at", "")
OUTCOME_SQL = (
    "SELECT coalesce(sum(a), 0), coalesce(sum(b), 0), coalesce(sum(c), 0), coalesce(sum(e), 0)"
    " FROM (SELECT resolved AS a, met AS b, csat_sum AS c, csat_count AS e"
    "  FROM metrics_outcomes WHERE day > ? AND day < ?"
    f" UNION ALL {OUTCOME_RAW.format(op='<')} UNION ALL {OUTCOME_RAW.format(op='<=')}) AS parts"
)
ACK_ONE_DAY = _whole_histogram(ACK_SECONDS, "created_at", ACK_EXTRA)
RESOLVE_ONE_DAY = _whole_histogram(RESOLVE_SECONDS, "resolved_at", "")
OUTCOME_ONE_DAY = OUTCOME_RAW.format(op="<=")
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

    async def stats(self, since: datetime, until: datetime) -> QueueStats:
        """What `Incidents.stats(since, until)` returns, from the aggregates: ack times of
        incidents created in [since, until], resolution times and outcomes of those
        resolved in it, as one-minute histograms. Read on the second connection, each
        figure in one statement (one snapshot)."""
        start, end = to_db(since), to_db(until)
        first, last = start[:10], end[:10]
        plans: list[tuple[str, tuple[str, ...]]]
        if first >= last:  # within one day (or empty): the incidents alone
            plans = [(sql, (start, end)) for sql in (ACK_ONE_DAY, RESOLVE_ONE_DAY, OUTCOME_ONE_DAY)]
        else:
            params = (first, last, start, _after_day(first), last, end)
            plans = [(sql, params) for sql in (ACK_SQL, RESOLVE_SQL, OUTCOME_SQL)]
        conn = await self._db.reader()
        try:
            # A month's histogram is sorted from ~100k day-bucket rows at a million
            # incidents: in memory, not spilled to temporary files (half the time).
            if conn is not self._db.conn:
                await conn.execute("PRAGMA temp_store = MEMORY")
            async with conn.execute(*plans[0]) as cursor:
                acks = Durations(tuple((n, total) for _, n, total in await cursor.fetchall()))
            async with conn.execute(*plans[1]) as cursor:
                resolves = Durations(tuple((n, total) for _, n, total in await cursor.fetchall()))
            async with conn.execute(*plans[2]) as cursor:
                resolved, met, csat_sum, csat_count = await cursor.fetchone() or (0, 0, 0, 0)
        except sqlite3.Error as exc:
            raise StoreError(f"{self._db.path}: reading metrics failed: {exc}") from None
        return QueueStats(
            since, until, acks, resolves, int(resolved), int(met), int(csat_sum), int(csat_count)
        )

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
