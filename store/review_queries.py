"""The reads the monthly service review needs for one period, as plain rows and records.

Each method answers one question about [start, end) with one statement on the reader
connection (aggregates run beside the screens, not in front of them): counts grouped in
SQL, so a month of a million-incident store is read once per figure, never row by row in
Python. Only the few incidents the review lists one by one (breaches, major incidents,
outages) come back as records. `console/ops/service_review.py` puts them together.

Instants compare as text: the store writes them all in one fixed UTC form (timefmt).
"""

from __future__ import annotations

import itertools
import math
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from opsdesk.store.changes import COLUMNS as CHANGE_COLUMNS
from opsdesk.store.changes import _change
from opsdesk.store.db import Database
from opsdesk.store.errors import StoreError
from opsdesk.store.incidents import COLUMNS as INCIDENT_COLUMNS
from opsdesk.store.incidents import _incident
from opsdesk.store.records import Incident, IncidentEvent
from opsdesk.store.review_records import ChangeRow, OutcomeRow, PageRow
from opsdesk.store.timefmt import from_db, to_db

# Whole seconds: the store writes instants to the second, so rounding removes only the
# float noise of julianday arithmetic (a median of 600.000004 seconds is 600).
ACK_SECONDS = "round((julianday(acknowledged_at) - julianday(created_at)) * 86400)"
RESOLVE_SECONDS = "round((julianday(resolved_at) - julianday(created_at)) * 86400)"
CHUNK = 500  # ids per IN (...) list, under SQLite's variable limit


class ReviewQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        conn = await self._db.reader()
        try:
            if conn is not self._db.conn:
                # Grouping a month of a large store sorts in memory, not in temporary
                # files (as the metrics do on this connection).
                await conn.execute("PRAGMA temp_store = MEMORY")
            async with conn.execute(sql, tuple(params)) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.Error as exc:
            raise StoreError(f"{self._db.path}: reading the service review failed: {exc}") from None

    async def opened(self, start: datetime, end: datetime) -> list[tuple[str, str, int]]:
        """(service, priority, count) of incidents created in [start, end)."""
        rows = await self._rows(
            "SELECT service, priority, count(*) FROM incidents"
            " WHERE created_at >= ? AND created_at < ? GROUP BY service, priority",
            (to_db(start), to_db(end)),
        )
        return [(r[0], r[1], int(r[2])) for r in rows]

    async def opened_between(self, bounds: Sequence[datetime]) -> list[int]:
        """How many incidents were created in each [bounds[i], bounds[i + 1]): one count
        per window (the days of a review), each a range on the created_at index."""
        if len(bounds) < 2:
            return []
        windows = ", ".join("(?, ?, ?)" for _ in bounds[1:])
        params: list[Any] = []
        for index, (first, after) in enumerate(itertools.pairwise(bounds)):
            params += [index, to_db(first), to_db(after)]
        rows = await self._rows(
            f"WITH w(i, s, e) AS (VALUES {windows})"
            " SELECT i, (SELECT count(*) FROM incidents"
            "  WHERE created_at >= w.s AND created_at < w.e) FROM w ORDER BY i",
            params,
        )
        return [int(r[1]) for r in rows]

    async def outcomes(self, start: datetime, end: datetime) -> list[OutcomeRow]:
        """Incidents resolved in [start, end), grouped (see OutcomeRow)."""
        rows = await self._rows(
            "SELECT service, priority, assignee, csat, count(*),"
            " count(response_met), coalesce(sum(response_met = 1), 0),"
            " count(resolve_met), coalesce(sum(resolve_met = 1), 0),"
            " count(resolve_met),"
            " coalesce(sum(resolve_met = 1 AND coalesce(response_met, 1) = 1), 0)"
            " FROM incidents WHERE resolved_at >= ? AND resolved_at < ?"
            " GROUP BY service, priority, assignee, csat",
            (to_db(start), to_db(end)),
        )
        return [OutcomeRow(r[0], r[1], r[2], r[3], *(int(v) for v in r[4:])) for r in rows]

    async def durations(
        self, start: datetime, end: datetime
    ) -> list[tuple[str, str, str, int, int, float]]:
        """(kind, service, priority, minute, count, seconds): one-minute buckets of time to
        acknowledge ("ack", incidents created in [start, end)) and to resolve ("resolve",
        incidents resolved in it), per service and priority, minute ascending within each."""
        window = (to_db(start), to_db(end))
        rows = await self._rows(
            "SELECT 'ack', service, priority, CAST(d / 60 AS INTEGER) AS minute, count(*),"
            f" sum(d) FROM (SELECT service, priority, {ACK_SECONDS} AS d FROM incidents"
            "  WHERE created_at >= ? AND created_at < ? AND acknowledged_at IS NOT NULL) AS acks"
            " GROUP BY service, priority, minute"
            " UNION ALL"
            " SELECT 'resolve', service, priority, CAST(d / 60 AS INTEGER) AS minute, count(*),"
            f" sum(d) FROM (SELECT service, priority, {RESOLVE_SECONDS} AS d FROM incidents"
            "  WHERE resolved_at >= ? AND resolved_at < ?) AS resolves"
            " GROUP BY service, priority, minute ORDER BY 1, 2, 3, 4",
            (*window, *window),
        )
        return [(r[0], r[1], r[2], int(r[3]), int(r[4]), float(r[5])) for r in rows]

    async def recurring(
        self, start: datetime, end: datetime, limit: int = 10
    ) -> list[tuple[str, str, int, int]]:
        """(service, title, count, newest id) of titles opened at least twice in the
        period on one service (case and surrounding space ignored), most first."""
        rows = await self._rows(
            "SELECT service, max(title), count(*) AS n, max(id) FROM incidents"
            " WHERE created_at >= ? AND created_at < ?"
            " GROUP BY service, lower(trim(title)) HAVING count(*) >= 2"
            " ORDER BY n DESC, max(id) DESC LIMIT ?",
            (to_db(start), to_db(end), limit),
        )
        return [(r[0], r[1], int(r[2]), int(r[3])) for r in rows]

    async def open_at(self, end: datetime) -> int:
        """Incidents opened before `end` and not resolved by it."""
        rows = await self._rows(
            "SELECT count(*) FROM incidents WHERE created_at < ?"
            " AND (resolved_at IS NULL OR resolved_at >= ?)",
            (to_db(end), to_db(end)),
        )
        return int(rows[0][0]) if rows else 0

    async def open_breached(self, end: datetime) -> int:
        """Incidents opened before `end`, not resolved by it, with a due time before it:
        breaches still running at the end of the period (the stored due time of a clock
        that is met is cleared, so one resolved later in time does not count)."""
        rows = await self._rows(
            "SELECT count(*) FROM incidents WHERE created_at < ?"
            " AND (resolved_at IS NULL OR resolved_at >= ?)"
            " AND (response_due < ? OR resolve_due < ?)",
            (to_db(end),) * 4,
        )
        return int(rows[0][0]) if rows else 0

    async def breach_bounds(self, start: datetime, end: datetime) -> list[tuple[int, list[float]]]:
        """For each incident resolved in [start, end) with a clock recorded as missed:
        per missed clock, the wall seconds from its stored due time to when it stopped
        (acknowledged, else resolved, for the respond clock), an upper bound of how late
        it was in counted time (infinity when no due time is stored)."""
        rows = await self._rows(
            "SELECT id, response_met = 0,"
            " (julianday(coalesce(acknowledged_at, resolved_at)) - julianday(response_due))"
            " * 86400, resolve_met = 0,"
            " (julianday(resolved_at) - julianday(resolve_due)) * 86400"
            " FROM incidents WHERE resolved_at >= ? AND resolved_at < ?"
            " AND (resolve_met = 0 OR response_met = 0)",
            (to_db(start), to_db(end)),
        )
        found = []
        for incident_id, respond_missed, respond, resolve_missed, resolve in rows:
            bounds = [
                math.inf if late is None else float(late)
                for missed, late in ((respond_missed, respond), (resolve_missed, resolve))
                if missed
            ]
            found.append((int(incident_id), bounds))
        return found

    async def incidents(self, incident_ids: Iterable[int]) -> list[Incident]:
        """These incidents, by id."""
        ids = list(incident_ids)
        found: list[Incident] = []
        for first in range(0, len(ids), CHUNK):
            chunk = ids[first : first + CHUNK]
            rows = await self._rows(
                f"SELECT {INCIDENT_COLUMNS} FROM incidents"
                f" WHERE id IN ({', '.join('?' for _ in chunk)}) ORDER BY id",
                chunk,
            )
            found += [_incident(r) for r in rows]
        return found

    async def major(self, start: datetime, end: datetime) -> list[Incident]:
        """P1 incidents opened in [start, end), oldest first."""
        rows = await self._rows(
            f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE created_at >= ?"
            " AND created_at < ? AND priority = 'P1' ORDER BY created_at, id",
            (to_db(start), to_db(end)),
        )
        return [_incident(r) for r in rows]

    async def outages(
        self, start: datetime, end: datetime, priorities: Iterable[str]
    ) -> list[tuple[str, datetime, datetime | None]]:
        """(service, created_at, resolved_at) of incidents of `priorities` open at any
        time in [start, end)."""
        wanted = list(priorities)
        if not wanted:
            return []
        rows = await self._rows(
            "SELECT service, created_at, resolved_at FROM incidents"
            f" WHERE priority IN ({', '.join('?' for _ in wanted)}) AND created_at < ?"
            " AND (resolved_at IS NULL OR resolved_at > ?)",
            (*wanted, to_db(end), to_db(start)),
        )
        return [(r[0], from_db(r[1]), from_db(r[2]) if r[2] else None) for r in rows]

    async def events(self, incident_ids: Iterable[int]) -> dict[int, list[IncidentEvent]]:
        """The timelines of these incidents, each in order."""
        ids = list(incident_ids)
        found: dict[int, list[IncidentEvent]] = {i: [] for i in ids}
        for first in range(0, len(ids), CHUNK):
            chunk = ids[first : first + CHUNK]
            rows = await self._rows(
                "SELECT incident_id, at, actor, kind, state, detail FROM incident_events"
                f" WHERE incident_id IN ({', '.join('?' for _ in chunk)})"
                " ORDER BY incident_id, id",
                chunk,
            )
            for r in rows:
                found[int(r[0])].append(IncidentEvent(from_db(r[1]), r[2], r[3], r[4], r[5]))
        return found

    async def changes(self, start: datetime, end: datetime) -> list[ChangeRow]:
        """Changes planned to start in [start, end), by planned start."""
        rows = await self._rows(
            f"SELECT {CHANGE_COLUMNS},"
            " state = 'failed' OR EXISTS (SELECT 1 FROM change_events e"
            "  WHERE e.change_id = changes.id AND e.state = 'failed'),"
            " state = 'rolled_back' OR EXISTS (SELECT 1 FROM change_events e"
            "  WHERE e.change_id = changes.id AND e.state = 'rolled_back'),"
            " (SELECT group_concat(incident_id) FROM change_links l"
            "  WHERE l.change_id = changes.id)"
            " FROM changes WHERE planned_start >= ? AND planned_start < ?"
            " ORDER BY planned_start, id",
            (to_db(start), to_db(end)),
        )
        width = len(rows[0]) - 3 if rows else 0
        result = []
        for r in rows:
            linked = (
                tuple(sorted(int(i) for i in str(r[width + 2]).split(","))) if r[width + 2] else ()
            )
            result.append(ChangeRow(_change(r[:width]), bool(r[width]), bool(r[width + 1]), linked))
        return result

    async def changes_count(self, start: datetime, end: datetime) -> int:
        rows = await self._rows(
            "SELECT count(*) FROM changes WHERE planned_start >= ? AND planned_start < ?",
            (to_db(start), to_db(end)),
        )
        return int(rows[0][0]) if rows else 0

    async def pages(self, start: datetime, end: datetime) -> list[PageRow]:
        """Pages sent (or due) in [start, end), not cancelled and not tests: one per
        person, incident and reason, whichever methods carried it, at its first send."""
        rows = await self._rows(
            "SELECT login, min(not_before) FROM notifications"
            " WHERE not_before >= ? AND not_before < ? AND state <> 'cancelled'"
            " AND reason <> 'test' GROUP BY login, coalesce(incident_id, -id), reason",
            (to_db(start), to_db(end)),
        )
        return [PageRow(r[0], from_db(r[1])) for r in rows]

    async def newest_incident(self) -> datetime | None:
        """When the newest incident was opened (None: no incidents)."""
        rows = await self._rows("SELECT max(created_at) FROM incidents")
        return from_db(rows[0][0]) if rows and rows[0][0] else None

    async def paging_used(self) -> bool:
        """Whether the store holds any page at all (a team not paging through opsdesk)."""
        rows = await self._rows("SELECT EXISTS (SELECT 1 FROM notifications)")
        return bool(rows and rows[0][0])
