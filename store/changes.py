"""Change requests: reads for the changes screen (the workflow lands with its issue)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from opsdesk.store.db import Database
from opsdesk.store.records import ChangeRequest
from opsdesk.store.timefmt import from_db, to_db

COLUMNS = (
    "id, title, type, risk, services, planned_start, planned_end, implementer, requester,"
    " state, version"
)


def _change(row: Any) -> ChangeRequest:
    return ChangeRequest(
        id=row[0],
        title=row[1],
        type=row[2],
        risk=row[3],
        services=tuple(json.loads(row[4])),
        planned_start=from_db(row[5]),
        planned_end=from_db(row[6]),
        implementer=row[7],
        requester=row[8],
        state=row[9],
        version=row[10],
    )


class Changes:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def around(self, now: datetime, limit: int = 200) -> list[ChangeRequest]:
        """Changes still to finish or ending in the last week, by planned start."""
        sql = f"SELECT {COLUMNS} FROM changes WHERE planned_end >= ? ORDER BY planned_start LIMIT ?"
        since = to_db(now - timedelta(days=7))
        async with self._db.conn.execute(sql, (since, limit)) as cursor:
            return [_change(row) for row in await cursor.fetchall()]

    async def count_by_state(self) -> dict[str, int]:
        async with self._db.conn.execute(
            "SELECT state, count(*) FROM changes GROUP BY state"
        ) as cur:
            return {row[0]: row[1] for row in await cur.fetchall()}
