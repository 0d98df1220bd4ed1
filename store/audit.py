"""The audit log: reading it, and the hash chain that makes changes to it evident.

Rows are written only by `Transaction.audit` (store/db.py), inside each mutation. Each row's
`hash` is SHA-256 over the previous row's hash and the row's own content (`entry_hash`),
computed in that same transaction, so a row changed, inserted or deleted with other tools no
longer matches and `verify` names it. Whoever can write the file can also recompute the whole
chain: the chain makes tampering evident to `opsdesk audit --verify`, it does not prevent it
(docs/operations.md says what it proves and what it cannot).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from opsdesk.store.records import AuditBreak, AuditCheck, AuditEntry
from opsdesk.store.timefmt import from_db, to_db

if TYPE_CHECKING:
    from opsdesk.store.db import Database

CHAIN_PREFIX = b"opsdesk audit chain 1\n"
# An entry's content as stored, text as its UTF-8 bytes (so nothing anyone wrote into the
# file can fail to decode), then its stored hash.
CHAIN_COLUMNS = (
    "id, CAST(at AS BLOB), CAST(actor AS BLOB), CAST(action AS BLOB), CAST(entity AS BLOB),"
    " CAST(entity_key AS BLOB), CAST(before AS BLOB), CAST(after AS BLOB), CAST(hash AS BLOB)"
)
# The same on PostgreSQL, which has no BLOB: text as its UTF-8 bytes with convert_to.
PG_CHAIN_COLUMNS = (
    "id, convert_to(at, 'UTF8'), convert_to(actor, 'UTF8'), convert_to(action, 'UTF8'),"
    " convert_to(entity, 'UTF8'), convert_to(entity_key, 'UTF8'), convert_to(before, 'UTF8'),"
    " convert_to(after, 'UTF8'), convert_to(hash, 'UTF8')"
)
VERIFY_BATCH = 5000

Field = int | str | bytes | None


def entry_hash(previous: str | bytes | None, fields: Sequence[Field]) -> str:
    """The hash an audit entry must hold: SHA-256 (hex) over the previous entry's hash (None
    for the first entry) and this entry's id, at, actor, action, entity, entity_key, before
    and after as stored, each as `<length>:<UTF-8 bytes>,` (NULL as `-,`), so that no two
    different contents are hashed alike."""
    parts = [CHAIN_PREFIX]
    for value in (previous, *fields):
        if value is None:
            parts.append(b"-,")
            continue
        data = value if isinstance(value, bytes) else str(value).encode("utf-8")
        parts.append(b"%d:%b," % (len(data), data))
    return hashlib.sha256(b"".join(parts)).hexdigest()


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
        clause, params = _entries_where(since, entity_key, entity)
        order = "DESC" if newest_first else "ASC"
        sql = (
            "SELECT id, at, actor, action, entity, entity_key, before, after FROM audit "
            f"{clause} ORDER BY id {order} LIMIT ?"
        )
        async with self._db.conn.execute(sql, (*params, limit)) as cursor:
            return [_entry(row) for row in await cursor.fetchall()]

    async def count(
        self,
        *,
        since: datetime | None = None,
        entity_key: str | None = None,
        entity: str | None = None,
        at_most: int | None = None,
    ) -> int:
        """How many rows `entries` would return without a limit; counting stops at
        `at_most` (a long log need not be walked to say a list was cut)."""
        clause, params = _entries_where(since, entity_key, entity)
        return await self._db.count(f"audit {clause}", params, at_most)

    async def verify(self) -> AuditCheck:
        """Walk the whole chain in one snapshot, oldest first: each entry's stored hash must
        be `entry_hash` of the previous entry's stored hash and its own content. Reports
        the first entry that does not match (the rest are still counted), and whether the
        triggers that refuse UPDATE and DELETE are there as opsdesk made them."""
        guards = await self._db.audit_guards_intact()
        entries, last_id, previous, broken = 0, 0, None, None
        columns = PG_CHAIN_COLUMNS if self._db.dialect == "postgres" else CHAIN_COLUMNS
        sql = f"SELECT {columns} FROM audit ORDER BY id"
        async with self._db.conn.execute(sql) as cursor:
            while rows := list(await cursor.fetchmany(VERIFY_BATCH)):
                entries += len(rows)
                for row in rows:
                    if broken is None and entry_hash(previous, row[:8]).encode() != row[8]:
                        broken = _break(row, last_id)
                    last_id, previous = row[0], row[8]
        head = None if previous is None else bytes(previous).decode("utf-8", "replace")
        return AuditCheck(entries, guards, broken, last_id or None, head)


def _break(row: Sequence[Any], previous_id: int) -> AuditBreak:
    missing = (previous_id + 1, row[0] - 1) if row[0] > previous_id + 1 else None
    return AuditBreak(id=row[0], at=_text(row[1]), entity_key=_text(row[5]), missing=missing)


def _text(value: bytes | None) -> str:
    return "" if value is None else bytes(value).decode("utf-8", "replace")


def _entries_where(
    since: datetime | None, entity_key: str | None, entity: str | None
) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if since is not None:
        where.append("at >= ?")
        params.append(to_db(since))
    if entity_key is not None:
        where.append("entity_key = ?")
        params.append(entity_key.upper())
    if entity is not None:
        where.append("entity = ?")
        params.append(entity)
    return (f"WHERE {' AND '.join(where)}" if where else ""), params
