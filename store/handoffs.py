"""Handoff notes between on-call shifts: written once, read by the person they are for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opsdesk.store.db import Database
from opsdesk.store.errors import InvalidOperation
from opsdesk.store.records import Actor, HandoffNote
from opsdesk.store.returning import returned_id
from opsdesk.store.timefmt import from_db, maybe_from_db, to_db

COLUMNS = "id, schedule, author, for_login, text, created_at, seen_at"
TEXT_LIMIT = 4000


def _note(row: Any) -> HandoffNote:
    return HandoffNote(
        row[0], row[1], row[2], row[3], row[4], from_db(row[5]), maybe_from_db(row[6])
    )


class Handoffs:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, actor: Actor, schedule: str, for_login: str, text: str, now: datetime
    ) -> HandoffNote:
        if not text.strip():
            raise InvalidOperation("a handoff note needs some text")
        if len(text) > TEXT_LIMIT:
            raise InvalidOperation(
                f"the note is {len(text):,} characters; the limit is {TEXT_LIMIT:,}"
            )
        async with self._db.write(actor, "engineer", "writing a handoff note", now) as tx:
            cursor = await tx.execute(
                "INSERT INTO handoff_notes (schedule, author, for_login, text, created_at)"
                " VALUES (?, ?, ?, ?, ?) RETURNING id",
                (schedule, actor.login, for_login, text, to_db(now)),
            )
            note = HandoffNote(
                await returned_id(cursor), schedule, actor.login, for_login, text, now, None
            )
            after = {"schedule": schedule, "for": for_login, "text": text}
            await tx.audit("handoff.create", "handoff", f"HND-{note.id}", None, after)
        return note

    async def unseen_for(self, login: str) -> list[HandoffNote]:
        sql = (
            f"SELECT {COLUMNS} FROM handoff_notes WHERE for_login = ? AND seen_at IS NULL"
            " ORDER BY id"
        )
        async with self._db.conn.execute(sql, (login,)) as cursor:
            return [_note(row) for row in await cursor.fetchall()]

    async def recent(self, limit: int = 20) -> list[HandoffNote]:
        sql = f"SELECT {COLUMNS} FROM handoff_notes ORDER BY id DESC LIMIT ?"
        async with self._db.conn.execute(sql, (limit,)) as cursor:
            return [_note(row) for row in await cursor.fetchall()]

    async def mark_seen(self, actor: Actor, ids: list[int], now: datetime) -> None:
        """Only the person a note is for can mark it seen."""
        if not ids:
            return
        marks = ", ".join("?" for _ in ids)
        async with self._db.write(actor, "engineer", "reading handoff notes", now) as tx:
            await tx.execute(
                f"UPDATE handoff_notes SET seen_at = ? WHERE for_login = ? AND seen_at IS NULL"
                f" AND id IN ({marks})",
                (to_db(now), actor.login, *ids),
            )
