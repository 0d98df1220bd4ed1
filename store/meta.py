"""Store metadata: creation facts, the demo flag, and a config embedded in demo stores."""

from __future__ import annotations

from opsdesk.store.db import Database

EMBEDDED_CONFIG = "embedded_config"
DEMO = "demo"
CREATED_AT = "created_at"


class Meta:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        value = await self._db.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    async def is_demo(self) -> bool:
        return await self.get(DEMO) == "1"

    async def embedded_config(self) -> str | None:
        """TOML a demo store carries so that `--store demo.db` works with no config file."""
        return await self.get(EMBEDDED_CONFIG)
