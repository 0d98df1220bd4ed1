"""Bulk-load a demo store: build it beside the target, then move it into place.

A half-built demo never appears at the real path, and an existing store that is not a
demo is never touched.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from opsdesk.store.db import Database
from opsdesk.store.errors import StoreOpenError
from opsdesk.store.meta import DEMO

INCIDENT_INSERT = (
    "INSERT INTO incidents (id, title, description, service, impact, urgency, priority, state,"
    " hold_reason, assignee, reporter, source, dedup_key, created_at, acknowledged_at,"
    " resolved_at, closed_at, resolution_code, resolution_note, csat, version, updated_at,"
    " updated_by, response_due, resolve_due, response_met, resolve_met)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
CHANGE_INSERT = (
    "INSERT INTO changes (id, title, description, type, risk, services, planned_start,"
    " planned_end, implementer, requester, test_plan, backout_plan, state, created_at, version,"
    " updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
OVERRIDE_INSERT = (
    "INSERT INTO overrides (schedule, login, starts_at, ends_at, reason, created_by, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
EVENT_INSERT = (
    "INSERT INTO incident_events (incident_id, at, actor, kind, state, detail)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
SOURCE_STATUS_INSERT = (
    "INSERT INTO source_status (source, level, summary, report, error, checked_at, last_ok_at,"
    " level_since, failures, validators, next_due) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
STATUS_HISTORY_INSERT = (
    "INSERT INTO status_history (source, at, level, summary) VALUES (?, ?, ?, ?)"
)
FTS_REBUILD = "INSERT INTO incidents_fts (incidents_fts) VALUES ('rebuild')"
AUDIT_INSERT = (
    "INSERT INTO audit (at, actor, action, entity, entity_key, before, after)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def existing_kind(path: Path) -> str:
    """ "missing", "demo", or "other" (a real store, or a file that is not ours)."""
    if not path.exists():
        return "missing"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (DEMO,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return "other"
    return "demo" if row and row[0] == "1" else "other"


class DemoBuilder:
    """Writes demo rows into a fresh store file at a temporary path."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.temp = target.with_name(f".{target.name}.building-{os.getpid()}")
        self._db: Database | None = None
        self._deferred: list[str] = []

    async def __aenter__(self) -> DemoBuilder:
        if existing_kind(self.target) == "other":
            raise StoreOpenError(
                f"{self.target}: a store that is not a demo already exists here; "
                "demo data goes only into new or demo stores (pick another --store)"
            )
        for leftover in _family(self.temp):
            leftover.unlink(missing_ok=True)
        self._db = await Database.open(self.temp)
        conn = self._db.conn
        await conn.execute("PRAGMA synchronous = OFF")
        await conn.execute("BEGIN IMMEDIATE")
        self._deferred = await _defer_incident_indexes(conn)
        return self

    @property
    def conn(self) -> Any:
        assert self._db is not None
        return self._db.conn

    async def meta(self, extra: dict[str, str]) -> None:
        """Flag the store as a demo. No config goes into it: opsdesk rebuilds the demo
        team's config from code, so nothing in a store can load code or grant roles."""
        rows = [(DEMO, "1"), *extra.items()]
        await self.conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", rows)

    async def incidents(self, rows: Iterable[tuple[Any, ...]]) -> None:
        await self.conn.executemany(INCIDENT_INSERT, rows)

    async def events(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Timeline rows (incident id, at, actor, kind, state, detail), in order: the
        history the SLA clocks are computed from, extended by every later action."""
        await self.conn.executemany(EVENT_INSERT, rows)

    async def statuses(
        self, current: Iterable[tuple[Any, ...]], history: Iterable[tuple[Any, ...]]
    ) -> None:
        """A recorded status of each source (as the poller stores one) and its level
        history, so the vendors screen shows a store in use without polling anything."""
        await self.conn.executemany(SOURCE_STATUS_INSERT, current)
        await self.conn.executemany(STATUS_HISTORY_INSERT, history)

    async def changes(self, rows: Iterable[tuple[Any, ...]]) -> None:
        await self.conn.executemany(CHANGE_INSERT, rows)

    async def overrides(self, rows: Iterable[tuple[Any, ...]]) -> None:
        await self.conn.executemany(OVERRIDE_INSERT, rows)

    async def audit(self, rows: Iterable[tuple[Any, ...]]) -> None:
        await self.conn.executemany(AUDIT_INSERT, rows)

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self._db is not None
        try:
            if exc_type is None:
                for sql in self._deferred:
                    await self.conn.execute(sql)
                await self.conn.execute(FTS_REBUILD)
                await self.conn.execute("COMMIT")
                await self.conn.execute("PRAGMA optimize")
                await self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            else:
                await self.conn.execute("ROLLBACK")
        finally:
            await self._db.close()
        if exc_type is not None:
            for leftover in _family(self.temp):
                leftover.unlink(missing_ok=True)
            return
        if existing_kind(self.target) == "other":
            raise StoreOpenError(f"{self.target}: a non-demo store appeared while building")
        for stale in _family(self.target)[1:]:
            stale.unlink(missing_ok=True)
        os.replace(self.temp, self.target)
        for leftover in _family(self.temp):
            leftover.unlink(missing_ok=True)


async def _defer_incident_indexes(conn: Any) -> list[str]:
    """Drop the indexes and triggers of the incidents and their timeline for the bulk load
    and return the SQL that recreates them: building an index once over sorted data, and
    the search index in one rebuild, is several times faster than maintaining them row by
    row. The SQL comes from the schema itself, so it always matches the migrations."""
    sql = (
        "SELECT type, name, sql FROM sqlite_master"
        " WHERE tbl_name IN ('incidents', 'incident_events')"
        " AND type IN ('index', 'trigger') AND sql IS NOT NULL"
    )
    async with conn.execute(sql) as cursor:
        found = await cursor.fetchall()
    for kind, name, _ in found:
        await conn.execute(f'DROP {kind.upper()} "{name}"')
    return [row[2] for row in found]


def _family(path: Path) -> list[Path]:
    """The store file and SQLite's companions (-wal, -shm)."""
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
