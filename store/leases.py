"""Leases (one process at a time does a job) and per-table change counters (schema 14).

A lease is held until `expires_at`; its holder renews it while it works, and anyone may
take it once it has run out, so a holder that died hands the job on within one lease.
The change counters are moved by triggers on every row written to a table the console
shows: comparing them tells a console which tables moved since it last looked.

A store whose schema predates these tables (or has them missing) answers as it did
before they existed: every claim succeeds and the counters are unknown.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from opsdesk.store.db import Database
from opsdesk.store.timefmt import to_db


class Leases:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._missing = False

    async def claim(
        self, name: str, holder: str, now: datetime, ttl: timedelta, *, take: bool = False
    ) -> bool:
        """Hold (or renew) lease `name` until `now + ttl` if nobody else holds it
        unexpired; `take` takes it whoever holds it (`opsdesk serve` over consoles).
        True when `holder` holds it afterwards. Someone else's live lease is seen with
        one read and no write, so the consoles that do not hold it write nothing."""
        if self._missing or self._db.read_only:
            return not self._db.read_only
        stamp = to_db(now)
        try:
            async with self._db.conn.execute(
                "SELECT holder, expires_at FROM leases WHERE name = ?", (name,)
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None and not take and row[0] != holder and row[1] > stamp:
                return False
            async with self._db.observe() as conn:
                cursor = await conn.execute(
                    "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
                    " expires_at = excluded.expires_at"
                    " WHERE ? = 1 OR leases.holder = excluded.holder OR leases.expires_at <= ?",
                    (name, holder, to_db(now + ttl), int(take), stamp),
                )
                return bool(cursor.rowcount == 1)
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                raise
            self._missing = True
            return True

    async def release(self, name: str, holder: str) -> None:
        """Give lease `name` up, if `holder` holds it (a console closing)."""
        if self._missing or self._db.read_only:
            return
        try:
            async with self._db.observe() as conn:
                await conn.execute(
                    "DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder)
                )
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                raise
            self._missing = True

    async def holder(self, name: str, now: datetime) -> str | None:
        """Who holds lease `name` unexpired at `now` (None: nobody)."""
        if self._missing:
            return None
        try:
            async with self._db.conn.execute(
                "SELECT holder FROM leases WHERE name = ? AND expires_at > ?", (name, to_db(now))
            ) as cursor:
                row = await cursor.fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                raise
            self._missing = True
            return None
        return None if row is None else str(row[0])

    async def change_counts(self) -> dict[str, int] | None:
        """How many rows were ever written to each counted table (None: this store
        keeps no counters). One read of a dozen rows: cheap enough for every change."""
        if self._missing:
            return None
        try:
            async with self._db.conn.execute("SELECT name, n FROM change_counts") as cursor:
                rows = await cursor.fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                raise
            self._missing = True
            return None
        return {str(name): int(n) for name, n in rows}
