"""Reading the audit log. Rows are written only by `Transaction.audit`, inside each mutation."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from opsdesk.store.db import Database
from opsdesk.store.records import AuditEntry
from opsdesk.store.timefmt import from_db, to_db


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row[0],
        at=from_db(row[1]),
        actor=row[2],
        action=row[3],
        entity=row[4],
        entity_key=row[5],
        before=None if row[6] is None else json.loads(row[6]),
        after=None if row[7] is None else json.loads(row[7]),
    )


class AuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def entries(
        self,
        *,
        since: datetime | None = None,
        entity_key: str | None = None,
        entity: str | None = None,
        limit: int = 1000,
        newest_first: bool = False,
    ) -> list[AuditEntry]:
        """Audit rows, oldest first unless `newest_first`, filtered by time and entity."""
        where, params = [], []
        if since is not None:
            where.append("at >= ?")
            params.append(to_db(since))
        if entity_key is not None:
            where.append("entity_key = ?")
            params.append(entity_key.upper())
        if entity is not None:
            where.append("entity = ?")
            params.append(entity)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        order = "DESC" if newest_first else "ASC"
        sql = (
            "SELECT id, at, actor, action, entity, entity_key, before, after FROM audit "
            f"{clause} ORDER BY id {order} LIMIT ?"
        )
        async with self._db.conn.execute(sql, (*params, limit)) as cursor:
            return [_entry(row) for row in await cursor.fetchall()]
