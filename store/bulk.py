"""Bulk-load a demo store: build it beside the target, then move it into place.

A half-built demo never appears at the real path, and an existing store that is not a
demo is never touched.

The file is new and nobody else has it until it is moved into place, so the load runs in
one transaction with no journal and no syncs, foreign keys and CHECK constraints not
tested row by row (the builder writes only rows that pass them). (A larger page cache
than SQLite's default was measured: slower, and 650 MB more memory at a million.)
The incidents' indexes and triggers are dropped for the load and recreated from their own
SQL afterwards, the search index is built in one pass and the metrics aggregates
recomputed (store/stats.py). Then the store goes back to WAL, as every opsdesk store is.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from opsdesk.store.db import SYNCHRONOUS, Database
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
    " updated_at, updated_by, review) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
CHANGE_EVENT_INSERT = (
    "INSERT INTO change_events (change_id, at, actor, kind, state, detail)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
CHANGE_APPROVAL_INSERT = (
    "INSERT INTO change_approvals (change_id, actor, roles, decision, comment, at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
OVERRIDE_INSERT = (
    "INSERT INTO overrides (schedule, login, starts_at, ends_at, reason, created_by, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# The timeline each demo incident's own columns imply, in the order the operations would
# have written it: created (by the reporter), then by the assignee (or the reporter)
# acknowledged, in progress or on hold (at its last update, with the hold reason),
# resolved ("code: note") and closed, each when the incident has that time. Written by
# SQLite from the rows just loaded: no Python tuple per event, no binding.
TIMELINE_FROM_INCIDENTS = """
INSERT INTO incident_events (incident_id, at, actor, kind, state, detail)
SELECT i.id,
       CASE k.n WHEN 0 THEN i.created_at WHEN 1 THEN i.acknowledged_at WHEN 2 THEN i.updated_at
                WHEN 3 THEN i.resolved_at ELSE i.closed_at END,
       CASE k.n WHEN 0 THEN i.reporter ELSE coalesce(i.assignee, i.reporter) END,
       CASE k.n WHEN 0 THEN 'created' ELSE 'state' END,
       CASE k.n WHEN 0 THEN 'new' WHEN 1 THEN 'acknowledged' WHEN 2 THEN i.state
                WHEN 3 THEN 'resolved' ELSE 'closed' END,
       CASE k.n WHEN 2 THEN coalesce(i.hold_reason, '')
                WHEN 3 THEN i.resolution_code || ': ' || i.resolution_note ELSE '' END
FROM incidents AS i
CROSS JOIN (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3
            UNION ALL SELECT 4) AS k
WHERE i.id BETWEEN ? AND ?
  AND (k.n = 0
       OR (k.n = 1 AND i.acknowledged_at IS NOT NULL)
       OR (k.n = 2 AND i.state IN ('in_progress', 'on_hold'))
       OR (k.n = 3 AND i.resolved_at IS NOT NULL)
       OR (k.n = 4 AND i.closed_at IS NOT NULL))
ORDER BY i.id, k.n
"""
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
    """Writes demo rows into a fresh store file at a temporary path.

    `phases` holds the wall seconds spent in each step (inserting each kind of row, each
    index, the search index, the aggregates, the commit) and `cpu` their CPU seconds,
    for `bench.demo`."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.temp = target.with_name(f".{target.name}.building-{os.getpid()}")
        self._db: Database | None = None
        self._deferred: list[tuple[str, str]] = []
        self.phases: defaultdict[str, float] = defaultdict(float)
        self.cpu: defaultdict[str, float] = defaultdict(float)

    async def __aenter__(self) -> DemoBuilder:
        if existing_kind(self.target) == "other":
            raise StoreOpenError(
                f"{self.target}: a store that is not a demo already exists here; "
                "demo data goes only into new or demo stores (pick another --store)"
            )
        for leftover in _family(self.temp):
            leftover.unlink(missing_ok=True)
        with self._phase("open"):
            self._db = await Database.open(self.temp)
            try:
                await self._prepare(self._db.conn)
            except BaseException:
                await self._db.close()
                for leftover in _family(self.temp):
                    leftover.unlink(missing_ok=True)
                raise
        return self

    async def _prepare(self, conn: Any) -> None:
        # A new file nobody else has: a crash leaves only a temp file to delete, so no
        # journal and no syncs. The builder writes each incident before its timeline and
        # only values its CHECK constraints allow (tests/test_demo.py runs integrity_check,
        # which checks them), so neither foreign keys nor CHECKs are tested row by row: a
        # third of the cost of inserting a million incidents. (Not temp_store: changing it
        # drops this connection's TEMP trigger that chains the audit rows.)
        await conn.execute("PRAGMA journal_mode = OFF")
        await conn.execute("PRAGMA synchronous = OFF")
        await conn.execute("PRAGMA foreign_keys = OFF")
        await conn.execute("PRAGMA ignore_check_constraints = ON")
        await conn.execute("BEGIN IMMEDIATE")
        self._deferred = await _defer_incident_indexes(conn)

    @contextmanager
    def _phase(self, name: str) -> Iterator[None]:
        """Add the wall and CPU seconds of the block to `phases[name]` and `cpu[name]`.
        This thread waits while SQLite's works, so the process's CPU time is SQLite's."""
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.phases[name] += time.perf_counter() - wall
            self.cpu[name] += time.process_time() - cpu

    @property
    def conn(self) -> Any:
        assert self._db is not None
        return self._db.conn

    async def _timed(self, phase: str, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
        with self._phase(phase):
            await self.conn.executemany(sql, rows)

    async def meta(self, extra: dict[str, str]) -> None:
        """Flag the store as a demo. No config goes into it: opsdesk rebuilds the demo
        team's config from code, so nothing in a store can load code or grant roles."""
        rows = [(DEMO, "1"), *extra.items()]
        await self.conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            rows,
        )

    async def incidents(self, rows: Iterable[tuple[Any, ...]]) -> None:
        await self._timed("insert_incidents", INCIDENT_INSERT, rows)

    async def timelines(self, first: int, last: int) -> None:
        """The timeline of incidents `first` to `last` (loaded already), from their own
        columns (TIMELINE_FROM_INCIDENTS): the history the SLA clocks are computed from,
        extended by every later action."""
        with self._phase("insert_events"):
            await self.conn.execute(TIMELINE_FROM_INCIDENTS, (first, last))

    async def statuses(
        self, current: Iterable[tuple[Any, ...]], history: Iterable[tuple[Any, ...]]
    ) -> None:
        """A recorded status of each source (as the poller stores one) and its level
        history, so the vendors screen shows a store in use without polling anything."""
        await self._timed("insert_other", SOURCE_STATUS_INSERT, current)
        await self._timed("insert_other", STATUS_HISTORY_INSERT, history)

    async def changes(self, rows: Iterable[tuple[Any, ...]]) -> None:
        await self._timed("insert_other", CHANGE_INSERT, rows)

    async def change_history(
        self, events: Iterable[tuple[Any, ...]], approvals: Iterable[tuple[Any, ...]]
    ) -> None:
        """Each change's timeline and approvals (console/ops/demo_changes.py)."""
        await self._timed("insert_other", CHANGE_EVENT_INSERT, events)
        await self._timed("insert_other", CHANGE_APPROVAL_INSERT, approvals)

    async def overrides(self, rows: Iterable[tuple[Any, ...]]) -> None:
        await self._timed("insert_other", OVERRIDE_INSERT, rows)

    async def audit(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Audit rows without their hash: the connection chains them as they go in
        (Database._chain_bulk_loads)."""
        await self._timed("insert_audit", AUDIT_INSERT, rows)

    async def _step(self, phase: str, sql: str) -> None:
        with self._phase(phase):
            await self.conn.execute(sql)

    async def _finish(self) -> None:
        """Indexes and triggers back (each from its own SQL), the search index in one
        pass, the metrics aggregates recomputed, committed, and the store back in WAL."""
        for name, sql in self._deferred:
            trigger = sql.lstrip().upper().startswith("CREATE TRIGGER")
            await self._step("triggers" if trigger else f"index:{name}", sql)
        await self._step("fts_rebuild", FTS_REBUILD)
        rebuild = _stats_rebuild()
        if rebuild is not None:
            with self._phase("stats_rebuild"):
                await rebuild(self.conn)
        await self._step("commit", "COMMIT")
        with self._phase("wal"):
            await self._back_to_wal()

    async def _back_to_wal(self) -> None:
        """The store as every opsdesk store is: WAL, synchronous as configured (per
        connection; every opener sets it), foreign keys checked."""
        await self.conn.execute("PRAGMA foreign_keys = ON")
        await self.conn.execute("PRAGMA ignore_check_constraints = OFF")
        async with self.conn.execute("PRAGMA journal_mode = WAL") as cursor:
            mode = await cursor.fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            raise StoreOpenError(f"{self.temp}: cannot put the demo store in WAL mode ({mode})")
        await self.conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
        await self.conn.execute("PRAGMA optimize")
        await self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all in the one file

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self._db is not None
        try:
            if exc_type is None:
                await self._finish()
            elif self.conn.in_transaction:
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


def _stats_rebuild() -> Any:
    """store/stats.py's `rebuild(conn)` when the metrics aggregates exist (schema 13): the
    load dropped the triggers that keep them, so they are recomputed in one pass each."""
    try:
        from opsdesk.store import stats
    except ImportError:
        return None
    return getattr(stats, "rebuild", None)


async def _defer_incident_indexes(conn: Any) -> list[tuple[str, str]]:
    """Drop the indexes and triggers of the incidents and their timeline for the bulk load
    and return (name, SQL) that recreates them: building an index once over sorted data,
    and the search index in one rebuild, is several times faster than maintaining them row
    by row. The SQL comes from the schema itself, so it always matches the migrations
    (whatever indexes and triggers later ones add). Automatic indexes (a UNIQUE or PRIMARY
    KEY constraint's, with no SQL) stay."""
    sql = (
        "SELECT type, name, sql FROM sqlite_master"
        " WHERE tbl_name IN ('incidents', 'incident_events')"
        " AND type IN ('index', 'trigger') AND sql IS NOT NULL"
        " ORDER BY type = 'trigger', rowid"
    )
    async with conn.execute(sql) as cursor:
        found = await cursor.fetchall()
    for kind, name, _ in found:
        await conn.execute(f'DROP {kind.upper()} "{name}"')
    return [(row[1], row[2]) for row in found]


def _family(path: Path) -> list[Path]:
    """The store file and SQLite's companions (-wal, -shm)."""
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
