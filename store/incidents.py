"""Incidents: creation and reads. Each write is audited in its own transaction."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import datetime
from typing import Any

from opsdesk.store.db import Database
from opsdesk.store.errors import InvalidOperation, NotFound
from opsdesk.store.records import Actor, Incident, NewIncident
from opsdesk.store.timefmt import from_db, maybe_from_db, to_db

COLUMNS = (
    "id, title, description, service, impact, urgency, priority, state, hold_reason, assignee,"
    " reporter, source, dedup_key, created_at, acknowledged_at, resolved_at, closed_at,"
    " resolution_code, resolution_note, csat, version, updated_at, updated_by"
)
OPEN_STATES = ("new", "acknowledged", "in_progress", "on_hold")


def parse_key(key: str) -> int:
    """ "INC-12" (any case) or "12" → 12; anything else is a clear error."""
    text = key.strip().upper().removeprefix("INC-")
    if not text.isdigit():
        raise NotFound(f"{key!r} is not an incident key (expected INC-<number>)")
    return int(text)


def _incident(row: Any) -> Incident:
    values = list(row)
    for index in (13, 21):
        values[index] = from_db(values[index])
    for index in (14, 15, 16):
        values[index] = maybe_from_db(values[index])
    return Incident(*values)


def incident_json(incident: Incident) -> dict[str, Any]:
    """The audit/JSON form: the key plus every field, times in ISO-8601 UTC."""
    data = {"key": incident.key, **dataclasses.asdict(incident)}
    for name, value in data.items():
        if isinstance(value, datetime):
            data[name] = to_db(value)
    return data


class Incidents:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, actor: Actor, new: NewIncident, now: datetime) -> Incident:
        if not new.title.strip():
            raise InvalidOperation("an incident needs a title")
        async with self._db.write(actor, "engineer", "creating an incident", now) as tx:
            stamp = to_db(now)
            try:
                cursor = await tx.execute(
                    "INSERT INTO incidents (title, description, service, impact, urgency, priority,"
                    " state, assignee, reporter, source, dedup_key, created_at, updated_at,"
                    " updated_by) VALUES (?, ?, ?, ?, ?, ?, 'new', ?, ?, ?, ?, ?, ?, ?)",
                    (
                        new.title,
                        new.description,
                        new.service,
                        new.impact,
                        new.urgency,
                        new.priority,
                        new.assignee,
                        actor.login,
                        new.source,
                        new.dedup_key,
                        stamp,
                        stamp,
                        actor.login,
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise InvalidOperation(f"incident refused: {exc}") from None
            incident = await self._fetch(tx.conn, int(cursor.lastrowid or 0))
            await tx.audit(
                "incident.create", "incident", incident.key, None, incident_json(incident)
            )
        return incident

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
