"""The id of a row just inserted, read the one way both backends give it: `INSERT ...
RETURNING id` (SQLite's `cursor.lastrowid` has no PostgreSQL counterpart)."""

from __future__ import annotations

from typing import Any

from opsdesk.store.errors import StoreError


async def returned_id(cursor: Any) -> int:
    """The `id` an `INSERT ... RETURNING id` handed back on `cursor`."""
    row = await cursor.fetchone()
    if row is None:
        raise StoreError("the insert returned no id")
    return int(row[0])
