"""Incidents: create, change (version-checked), notes, timeline, listing. Every write is
one transaction with its timeline event and its audit row."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import datetime
from typing import Any

from opsdesk.store.db import Database, Transaction
from opsdesk.store.errors import InvalidOperation, NotFound, StaleWrite
from opsdesk.store.records import (
    Actor,
    Incident,
    IncidentEvent,
    IncidentFilter,
    NewIncident,
    QueueStats,
)
from opsdesk.store.timefmt import from_db, maybe_from_db, to_db

COLUMNS = (
    "id, title, description, service, impact, urgency, priority, state, hold_reason, assignee,"
    " reporter, source, dedup_key, created_at, acknowledged_at, resolved_at, closed_at,"
    " resolution_code, resolution_note, csat, version, updated_at, updated_by, response_due,"
    " resolve_due, response_met, resolve_met"
)
TIME_COLUMNS = {13, 21}
OPTIONAL_TIME_COLUMNS = {14, 15, 16, 23, 24}
OPEN_STATES = ("new", "acknowledged", "in_progress", "on_hold")
# Columns an operation may change through `apply`; everything else is fixed or bookkeeping.
CHANGEABLE = {
    "state", "hold_reason", "assignee", "impact", "urgency", "priority", "acknowledged_at",
    "resolved_at", "closed_at", "resolution_code", "resolution_note", "csat", "response_due",
    "resolve_due", "response_met", "resolve_met",
}  # fmt: skip
TITLE_LIMIT = 300
TEXT_LIMIT = 20_000


def parse_key(key: str) -> int:
    """ "INC-12" (any case) or "12" → 12; anything else is a clear error."""
    text = key.strip().upper().removeprefix("INC-")
    if not text.isdigit():
        raise NotFound(f"{key!r} is not an incident key (expected INC-<number>)")
    return int(text)


def _incident(row: Any) -> Incident:
    values = list(row)
    for index in TIME_COLUMNS:
        values[index] = from_db(values[index])
    for index in OPTIONAL_TIME_COLUMNS:
        values[index] = maybe_from_db(values[index])
    for index in (25, 26):
        values[index] = None if values[index] is None else bool(values[index])
    return Incident(*values)


def _db_value(value: Any) -> Any:
    return to_db(value) if isinstance(value, datetime) else value


def incident_json(incident: Incident) -> dict[str, Any]:
    """The audit/JSON form: the key plus every field, times in ISO-8601 UTC."""
    data = {"key": incident.key, **dataclasses.asdict(incident)}
    for name, value in data.items():
        if isinstance(value, datetime):
            data[name] = to_db(value)
    return data


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with LIKE's own wildcards escaped."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _check_text(name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise InvalidOperation(f"{name} is {len(value):,} characters; the limit is {limit:,}")


class Incidents:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        actor: Actor,
        new: NewIncident,
        now: datetime,
        *,
        response_due: datetime | None = None,
        resolve_due: datetime | None = None,
    ) -> Incident:
        if not new.title.strip():
            raise InvalidOperation("an incident needs a title")
        _check_text("title", new.title, TITLE_LIMIT)
        _check_text("description", new.description, TEXT_LIMIT)
        async with self._db.write(actor, "engineer", "creating an incident", now) as tx:
            stamp = to_db(now)
            try:
                cursor = await tx.execute(
                    "INSERT INTO incidents (title, description, service, impact, urgency, priority,"
                    " state, assignee, reporter, source, dedup_key, created_at, updated_at,"
                    " updated_by, response_due, resolve_due)"
                    " VALUES (?, ?, ?, ?, ?, ?, 'new', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        new.title, new.description, new.service, new.impact, new.urgency,
                        new.priority, new.assignee, actor.login, new.source, new.dedup_key,
                        stamp, stamp, actor.login, _db_value(response_due), _db_value(resolve_due),
                    ),
                )  # fmt: skip
            except sqlite3.IntegrityError as exc:
                raise InvalidOperation(f"incident refused: {exc}") from None
            incident = await self._fetch(tx.conn, int(cursor.lastrowid or 0))
            await self._event(tx, incident.id, IncidentEvent(now, actor.login, "created", "new"))
            await tx.audit(
                "incident.create", "incident", incident.key, None, incident_json(incident)
            )
        return incident

    async def apply(
        self,
        actor: Actor,
        key: str,
        expected_version: int,
        changes: dict[str, Any],
        event: IncidentEvent,
        action: str,
        now: datetime,
    ) -> Incident:
        """Change fields of one incident if nobody changed it since `expected_version`."""
        unknown = set(changes) - CHANGEABLE
        if unknown:
            raise InvalidOperation(f"cannot change {', '.join(sorted(unknown))} of an incident")
        incident_id = parse_key(key)
        async with self._db.write(actor, "engineer", action.replace(".", " "), now) as tx:
            before = await self._fetch(tx.conn, incident_id)
            if before.version != expected_version:
                raise StaleWrite(
                    f"{before.key} was changed by {before.updated_by} at "
                    f"{to_db(before.updated_at)} (you had version {expected_version}, it is now "
                    f"{before.version}); look at it again and retry"
                )
            assignments = ", ".join(f"{column} = ?" for column in changes)
            await tx.execute(
                f"UPDATE incidents SET {assignments}, version = version + 1, updated_at = ?,"
                " updated_by = ? WHERE id = ? AND version = ?",
                (
                    *(_db_value(v) for v in changes.values()),
                    to_db(now), actor.login, incident_id, expected_version,
                ),
            )  # fmt: skip
            after = await self._fetch(tx.conn, incident_id)
            await self._event(tx, incident_id, event)
            old, new = incident_json(before), incident_json(after)
            changed = [k for k in new if old[k] != new[k]]
            await tx.audit(
                action,
                "incident",
                after.key,
                {k: old[k] for k in changed},
                {k: new[k] for k in changed},
            )
        return after

    async def add_note(self, actor: Actor, key: str, text: str, now: datetime) -> IncidentEvent:
        """Append a note to the timeline. Notes never conflict, so no version is needed."""
        if not text.strip():
            raise InvalidOperation("a note needs some text")
        _check_text("note", text, TEXT_LIMIT)
        incident_id = parse_key(key)
        event = IncidentEvent(now, actor.login, "note", None, text)
        async with self._db.write(actor, "engineer", "adding a note", now) as tx:
            incident = await self._fetch(tx.conn, incident_id)
            await self._event(tx, incident_id, event)
            await tx.audit("incident.note", "incident", incident.key, None, {"note": text})
        return event

    async def _event(self, tx: Transaction, incident_id: int, event: IncidentEvent) -> None:
        await tx.execute(
            "INSERT INTO incident_events (incident_id, at, actor, kind, state, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (incident_id, to_db(event.at), event.actor, event.kind, event.state, event.detail),
        )

    async def events(self, key: str) -> list[IncidentEvent]:
        sql = (
            "SELECT at, actor, kind, state, detail FROM incident_events WHERE incident_id = ?"
            " ORDER BY id"
        )
        async with self._db.conn.execute(sql, (parse_key(key),)) as cursor:
            rows = await cursor.fetchall()
        return [IncidentEvent(from_db(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    async def get(self, key: str) -> Incident:
        return await self._fetch(self._db.conn, parse_key(key))

    async def _fetch(self, conn: Any, incident_id: int) -> Incident:
        async with conn.execute(
            f"SELECT {COLUMNS} FROM incidents WHERE id = ?", (incident_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"INC-{incident_id}: no such incident")
        return _incident(row)

    async def recent(self, limit: int = 50) -> list[Incident]:
        """The most recently created incidents, newest first."""
        sql = f"SELECT {COLUMNS} FROM incidents ORDER BY id DESC LIMIT ?"
        async with self._db.conn.execute(sql, (limit,)) as cursor:
            return [_incident(row) for row in await cursor.fetchall()]

    async def find(self, where: IncidentFilter, limit: int = 100) -> list[Incident]:
        """Incidents matching `where`, most urgent first: earliest SLA due time (breached
        ones are the earliest), then those without a running clock, newest first."""
        clauses, params = self._where(where)
        sql = (
            f"SELECT {COLUMNS} FROM incidents {clauses} ORDER BY"
            " coalesce(min(response_due, resolve_due), response_due, resolve_due) IS NULL,"
            " coalesce(min(response_due, resolve_due), response_due, resolve_due), id DESC"
            " LIMIT ?"
        )
        async with self._db.conn.execute(sql, (*params, limit)) as cursor:
            return [_incident(row) for row in await cursor.fetchall()]

    @staticmethod
    def _where(where: IncidentFilter) -> tuple[str, list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        if where.states:
            parts.append(f"state IN ({', '.join('?' for _ in where.states)})")
            params += where.states
        if where.priorities:
            parts.append(f"priority IN ({', '.join('?' for _ in where.priorities)})")
            params += where.priorities
        if where.assignee is not None:
            parts.append("assignee = ?")
            params.append(where.assignee)
        if where.unassigned:
            parts.append("assignee IS NULL")
        if where.breached_at is not None:
            stamp = to_db(where.breached_at)
            parts.append(
                f"state IN ({', '.join('?' for _ in OPEN_STATES)})"
                " AND (response_due < ? OR resolve_due < ?)"
            )
            params += [*OPEN_STATES, stamp, stamp]
        if where.search:
            needle = _like(where.search)
            parts.append(
                "(title LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\'"
                " OR service LIKE ? ESCAPE '\\' OR assignee LIKE ? ESCAPE '\\'"
                " OR 'INC-' || id = upper(?))"
            )
            params += [needle, needle, needle, needle, where.search.strip()]
        return ("WHERE " + " AND ".join(parts)) if parts else "", params

    async def stats(self, since: datetime, until: datetime) -> QueueStats:
        """Inputs for MTTA, MTTR, SLA attainment and CSAT over [since, until]: ack times of
        incidents created in the window, resolution times and outcomes of those resolved in it."""
        window = (to_db(since), to_db(until))
        ack_sql = (
            "SELECT (julianday(acknowledged_at) - julianday(created_at)) * 86400 FROM incidents"
            " WHERE created_at >= ? AND created_at <= ? AND acknowledged_at IS NOT NULL ORDER BY 1"
        )
        resolve_sql = (
            "SELECT (julianday(resolved_at) - julianday(created_at)) * 86400 FROM incidents"
            " WHERE resolved_at >= ? AND resolved_at <= ? ORDER BY 1"
        )
        outcome_sql = (
            "SELECT count(*), coalesce(sum(resolve_met = 1 AND coalesce(response_met, 1) = 1), 0),"
            " coalesce(sum(csat), 0), count(csat) FROM incidents"
            " WHERE resolved_at >= ? AND resolved_at <= ? AND resolve_met IS NOT NULL"
        )
        conn = self._db.conn
        async with conn.execute(ack_sql, window) as cursor:
            acks = [row[0] for row in await cursor.fetchall()]
        async with conn.execute(resolve_sql, window) as cursor:
            resolves = [row[0] for row in await cursor.fetchall()]
        async with conn.execute(outcome_sql, window) as cursor:
            resolved, met, csat_sum, csat_count = await cursor.fetchone() or (0, 0, 0, 0)
        return QueueStats(since, until, acks, resolves, resolved, met, csat_sum, csat_count)

    async def open_ages(self, now: datetime) -> tuple[int, datetime | None, int]:
        """(open count, oldest open creation time, breached open count)."""
        marks = ", ".join("?" for _ in OPEN_STATES)
        stamp = to_db(now)
        sql = (
            "SELECT count(*), min(created_at),"
            " coalesce(sum(response_due < ? OR resolve_due < ?), 0)"
            f" FROM incidents WHERE state IN ({marks})"
        )
        async with self._db.conn.execute(sql, (stamp, stamp, *OPEN_STATES)) as cursor:
            count, oldest, breached = await cursor.fetchone() or (0, None, 0)
        return int(count), maybe_from_db(oldest), int(breached)

    async def count_open_by_priority(self) -> dict[str, int]:
        marks = ", ".join("?" for _ in OPEN_STATES)
        sql = f"SELECT priority, count(*) FROM incidents WHERE state IN ({marks}) GROUP BY priority"
        async with self._db.conn.execute(sql, OPEN_STATES) as cursor:
            return {row[0]: row[1] for row in await cursor.fetchall()}

    async def count_by_state(self) -> dict[str, int]:
        async with self._db.conn.execute(
            "SELECT state, count(*) FROM incidents GROUP BY state"
        ) as cur:
            return {row[0]: row[1] for row in await cur.fetchall()}
