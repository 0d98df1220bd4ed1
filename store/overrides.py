"""On-call overrides: someone covers a schedule for a time range. Records are never edited,
only added and removed, each audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from opsdesk.store.db import Database
from opsdesk.store.errors import InvalidOperation, NotFound, PermissionDenied
from opsdesk.store.records import Actor, Override, Role
from opsdesk.store.returning import returned_id
from opsdesk.store.timefmt import from_db, to_db

COLUMNS = "id, schedule, login, starts_at, ends_at, reason, created_by"
REASON_LIMIT = 200


def _override(row: Any) -> Override:
    return Override(row[0], row[1], row[2], from_db(row[3]), from_db(row[4]), row[5], row[6])


def _json(override: Override) -> dict[str, Any]:
    return {
        "schedule": override.schedule,
        "login": override.login,
        "starts_at": to_db(override.starts_at),
        "ends_at": to_db(override.ends_at),
        "reason": override.reason,
    }


class Overrides:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def not_ended(self, now: datetime) -> list[Override]:
        """Overrides in force now or later, soonest first."""
        sql = f"SELECT {COLUMNS} FROM overrides WHERE ends_at > ? ORDER BY starts_at"
        async with self._db.conn.execute(sql, (to_db(now),)) as cursor:
            return [_override(row) for row in await cursor.fetchall()]

    async def add(
        self,
        actor: Actor,
        schedule: str,
        login: str,
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
        now: datetime,
    ) -> Override:
        """Anyone may cover a schedule themselves; putting someone else on call needs a lead."""
        if ends_at <= starts_at:
            raise InvalidOperation("an override must end after it starts")
        if len(reason) > REASON_LIMIT:
            raise InvalidOperation(
                f"reason is {len(reason)} characters; the limit is {REASON_LIMIT}"
            )
        role: Role = "engineer" if login == actor.login else "lead"
        async with self._db.write(actor, role, "putting someone else on call", now) as tx:
            cursor = await tx.execute(
                "INSERT INTO overrides (schedule, login, starts_at, ends_at, reason, created_by,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    schedule,
                    login,
                    to_db(starts_at),
                    to_db(ends_at),
                    reason,
                    actor.login,
                    to_db(now),
                ),
            )
            override = Override(
                await returned_id(cursor),
                schedule,
                login,
                starts_at.astimezone(UTC),
                ends_at.astimezone(UTC),
                reason,
                actor.login,
            )
            await tx.audit(
                "override.create", "override", f"OVR-{override.id}", None, _json(override)
            )
        return override

    async def add_imported(
        self, actor: Actor, items: list[ImportedOverride], now: datetime
    ) -> tuple[list[Override], int]:
        """Overrides read from another product (see `add_imported` below)."""
        return await add_imported(self._db, actor, items, now)

    async def remove(self, actor: Actor, override_id: int, now: datetime) -> Override:
        """Whoever created an override, or the person it puts on call, or a lead."""
        async with self._db.write(actor, "engineer", "removing an override", now) as tx:
            sql = f"SELECT {COLUMNS} FROM overrides WHERE id = ?"
            async with tx.conn.execute(sql, (override_id,)) as cursor:
                row = await cursor.fetchone()
            if row is None:
                raise NotFound(f"OVR-{override_id}: no such override")
            override = _override(row)
            if actor.login not in (override.created_by, override.login) and not actor.has("lead"):
                raise PermissionDenied(
                    f"removing someone else's override needs the lead role; {actor.login} "
                    "does not have it"
                )
            await tx.execute("DELETE FROM overrides WHERE id = ?", (override_id,))
            await tx.audit(
                "override.remove", "override", f"OVR-{override_id}", _json(override), None
            )
        return override


ImportedOverride = tuple[str, str, datetime, datetime, str]
"""(schedule, login, starts_at, ends_at, reason) of an override brought in by an import."""


async def add_imported(
    db: Database, actor: Actor, items: list[ImportedOverride], now: datetime
) -> tuple[list[Override], int]:
    """Add overrides read from another product, in one transaction, each audited as
    `override.import`. One identical to an override already there (same schedule, login
    and times) is not added again, so running an import twice adds nothing twice.
    Putting others on call needs a lead. Returns (added, how many were already there)."""
    added: list[Override] = []
    already = 0
    async with db.write(actor, "lead", "importing overrides", now) as tx:
        for schedule, login, starts_at, ends_at, reason in items:
            if ends_at <= starts_at:
                raise InvalidOperation("an override must end after it starts")
            found = tx.conn.execute(
                "SELECT 1 FROM overrides WHERE schedule = ? AND login = ? AND starts_at = ?"
                " AND ends_at = ?",
                (schedule, login, to_db(starts_at), to_db(ends_at)),
            )
            async with found as cursor:
                if await cursor.fetchone() is not None:
                    already += 1
                    continue
            cursor = await tx.execute(
                "INSERT INTO overrides (schedule, login, starts_at, ends_at, reason, created_by,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (schedule, login, to_db(starts_at), to_db(ends_at), reason[:REASON_LIMIT],
                 actor.login, to_db(now)),
            )  # fmt: skip
            override = Override(
                await returned_id(cursor), schedule, login, starts_at.astimezone(UTC),
                ends_at.astimezone(UTC), reason[:REASON_LIMIT], actor.login,
            )  # fmt: skip
            await tx.audit(
                "override.import", "override", f"OVR-{override.id}", None, _json(override)
            )
            added.append(override)
    return added, already
