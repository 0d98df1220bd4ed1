"""The team banner: one notice every console shows in its header, set by a lead."""

from __future__ import annotations

from datetime import datetime

from opsdesk.store.db import Database
from opsdesk.store.errors import InvalidOperation, StaleWrite
from opsdesk.store.records import Actor, Banner
from opsdesk.store.timefmt import maybe_from_db, to_db

MAX_LENGTH = 200


class BannerRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self) -> Banner:
        async with self._db.conn.execute("SELECT text, set_by, set_at, version FROM banner") as cur:
            row = await cur.fetchone()
        assert row is not None, "migration 1 inserts the banner row"
        return Banner(text=row[0], set_by=row[1], set_at=maybe_from_db(row[2]), version=row[3])

    async def set(self, actor: Actor, text: str, expected_version: int, now: datetime) -> Banner:
        """Replace the banner (empty text clears it) unless it changed since `expected_version`."""
        if len(text) > MAX_LENGTH:
            raise InvalidOperation(
                f"banner text is {len(text)} characters; the limit is {MAX_LENGTH}"
            )
        action = "clearing the banner" if not text else "setting the banner"
        async with self._db.write(actor, "lead", action, now) as tx:
            before = await self.get()
            if before.version != expected_version:
                raise _stale(before, expected_version)
            updated = await tx.execute(
                "UPDATE banner SET text = ?, set_by = ?, set_at = ?, version = version + 1"
                " WHERE id = 1 AND version = ?",
                (text, actor.login, to_db(now), expected_version),
            )
            if updated.rowcount != 1:
                # On PostgreSQL another host may commit between the read above and this
                # UPDATE (SQLite's single writer rules that out): the same refusal.
                raise _stale(await self.get(), expected_version)
            after = await self.get()
            await tx.audit(
                "banner.clear" if not text else "banner.set",
                "banner",
                "BANNER",
                {"text": before.text, "version": before.version},
                {"text": after.text, "version": after.version},
            )
        return after


def _stale(now: Banner, expected_version: int) -> StaleWrite:
    when = to_db(now.set_at) if now.set_at else "an unknown time"
    return StaleWrite(
        f"the banner was changed by {now.set_by} at {when} "
        f"(you had version {expected_version}, it is now {now.version}); "
        "look at it again and retry"
    )
