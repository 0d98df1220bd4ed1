"""On-call overrides: reads for the on-call screen (adding them lands with its issue)."""

from __future__ import annotations

from datetime import datetime

from opsdesk.store.db import Database
from opsdesk.store.records import Override
from opsdesk.store.timefmt import from_db, to_db


class Overrides:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def not_ended(self, now: datetime) -> list[Override]:
        """Overrides in force now or later, soonest first."""
        sql = (
            "SELECT id, schedule, login, starts_at, ends_at, reason, created_by FROM overrides"
            " WHERE ends_at > ? ORDER BY starts_at"
        )
        async with self._db.conn.execute(sql, (to_db(now),)) as cursor:
            rows = await cursor.fetchall()
        return [Override(r[0], r[1], r[2], from_db(r[3]), from_db(r[4]), r[5], r[6]) for r in rows]
