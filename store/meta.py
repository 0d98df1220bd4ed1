"""Store metadata: creation facts and the demo flag.

Demo stores made by older versions also carry an `embedded_config` row; it is never read
(whoever can write the store could put anything there, such as a plugin file to load).
"""

from __future__ import annotations

from opsdesk.store.db import Database

DEMO = "demo"
CREATED_AT = "created_at"


class Meta:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        value = await self._db.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    async def is_demo(self) -> bool:
        """A flag only: it picks the demo team built into opsdesk, never config from here."""
        return await self.get(DEMO) == "1"
