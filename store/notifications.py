"""The notification outbox: pages waiting to go out, going out, and what became of them.

Rows are queued in the transaction of whatever caused them (`Store.atomic` around the
incident write and `queue`), so nothing is sent for a change that did not commit and
nothing committed is left unsent. The delivery worker claims due rows with a lease: a
worker that dies mid-send leaves its lease to run out and another claims the row again,
so a notification is sent at most one extra time and never lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opsdesk.store.db import Database
from opsdesk.store.incidents import parse_key
from opsdesk.store.records import Actor, NewNotification, Notification
from opsdesk.store.returning import returned_id
from opsdesk.store.timefmt import from_db, maybe_from_db, to_db

COLUMNS = (
    "id, incident_id, login, method, address, urgency, reason, title, body, created_at,"
    " created_by, not_before, state, attempts, error, receipt, sent_at, acknowledged_at,"
    " acknowledged_via"
)
TEXT_LIMIT = 4000
ERROR_LIMIT = 300


def _notification(row: Any) -> Notification:
    return Notification(
        id=row[0], incident_key=None if row[1] is None else f"INC-{row[1]}", login=row[2],
        method=row[3], address=row[4], urgency=row[5], reason=row[6], title=row[7],
        body=row[8], created_at=from_db(row[9]), created_by=row[10],
        not_before=from_db(row[11]), state=row[12], attempts=row[13], error=row[14],
        receipt=row[15], sent_at=maybe_from_db(row[16]),
        acknowledged_at=maybe_from_db(row[17]), acknowledged_via=row[18],
    )  # fmt: skip


class Notifications:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def queue(self, items: list[NewNotification], now: datetime, by: str) -> list[int]:
        """Add notifications to the outbox (inside the caller's transaction when there is
        one); their ids, in order."""
        ids = []
        async with self._db.observe() as conn:
            for item in items:
                cursor = await conn.execute(
                    "INSERT INTO notifications (incident_id, login, method, address, urgency,"
                    " reason, title, body, created_at, created_by, not_before)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (
                        None if item.incident_key is None else parse_key(item.incident_key),
                        item.login, item.method, item.address, item.urgency,
                        item.reason[:ERROR_LIMIT], item.title[:300], item.body[:TEXT_LIMIT],
                        to_db(now), by, to_db(item.not_before),
                    ),
                )  # fmt: skip
                ids.append(await returned_id(cursor))
        return ids

    async def claim(
        self, owner: str, now: datetime, lease_until: datetime, limit: int = 20
    ) -> list[Notification]:
        """Take up to `limit` due notifications to send: pending ones whose time has come,
        and ones another worker claimed whose lease ran out (it died mid-send).

        On SQLite the write lock makes the claim whole. On PostgreSQL several `serve`
        processes on several hosts claim at once: the rows are locked as they are picked
        and rows another worker is picking are skipped (FOR UPDATE SKIP LOCKED), so no
        notification is claimed, and sent, twice."""
        stamp = to_db(now)
        lock = " FOR UPDATE SKIP LOCKED" if self._db.dialect == "postgres" else ""
        async with self._db.observe() as conn:
            cursor = await conn.execute(
                "UPDATE notifications SET state = 'sending', claimed_by = ?, claimed_until = ?,"
                " attempts = attempts + 1 WHERE id IN (SELECT id FROM notifications"
                " WHERE state IN ('pending', 'sending') AND not_before <= ?"
                " AND (state = 'pending' OR claimed_until <= ?)"
                f" ORDER BY not_before, id LIMIT ?{lock})"
                f" RETURNING {COLUMNS}",
                (owner, to_db(lease_until), stamp, stamp, limit),
            )
            rows = await cursor.fetchall()
        return sorted((_notification(row) for row in rows), key=lambda n: n.id)

    async def delivered(self, id: int, owner: str, receipt: str, now: datetime) -> bool:
        """Record a send; False when the claim was lost (the lease ran out and another
        worker took the row): that worker records it instead."""
        async with self._db.observe() as conn:
            cursor = await conn.execute(
                "UPDATE notifications SET state = 'delivered', receipt = ?, sent_at = ?,"
                " error = NULL, claimed_by = NULL, claimed_until = NULL"
                " WHERE id = ? AND claimed_by = ? AND state = 'sending'",
                (receipt[:ERROR_LIMIT], to_db(now), id, owner),
            )
            return cursor.rowcount == 1

    async def attempt_failed(
        self, id: int, owner: str, error: str, now: datetime, retry_at: datetime | None
    ) -> Notification | None:
        """Record a failed try: back to pending until `retry_at`, or (None) failed for
        good, which also goes on the incident's timeline. The row as it now is, or None
        when the claim was lost."""
        state = "pending" if retry_at is not None else "failed"
        async with self._db.observe() as conn:
            cursor = await conn.execute(
                "UPDATE notifications SET state = ?, error = ?, not_before = ?,"
                " claimed_by = NULL, claimed_until = NULL"
                " WHERE id = ? AND claimed_by = ? AND state = 'sending'"
                f" RETURNING {COLUMNS}",
                (state, error[:ERROR_LIMIT], to_db(retry_at or now), id, owner),
            )
            row = await cursor.fetchone()
            if row is None:
                return None
            failed = _notification(row)
            if state == "failed" and row[1] is not None:
                detail = (
                    f"notifying {failed.login} by {failed.method} failed after "
                    f"{failed.attempts} attempt{'s' if failed.attempts != 1 else ''}: "
                    f"{failed.error}"
                )
                await conn.execute(
                    "INSERT INTO incident_events (incident_id, at, actor, kind, state, detail)"
                    " VALUES (?, ?, 'opsdesk', 'notify_failed', NULL, ?)",
                    (row[1], to_db(now), detail[:TEXT_LIMIT]),
                )
        return failed

    async def cancel_pending(self, incident_key: str, now: datetime) -> int:
        """Acknowledged or resolved: what has not gone out yet need not go."""
        async with self._db.observe() as conn:
            cursor = await conn.execute(
                "UPDATE notifications SET state = 'cancelled', error = 'acknowledged before it"
                " was sent', claimed_by = NULL, claimed_until = NULL"
                " WHERE incident_id = ? AND state = 'pending'",
                (parse_key(incident_key),),
            )
            return cursor.rowcount

    async def mark_acknowledged(self, id: int, via: str, now: datetime) -> bool:
        """Spend a notification's acknowledgement link; False when it was spent already."""
        async with self._db.observe() as conn:
            cursor = await conn.execute(
                "UPDATE notifications SET acknowledged_at = ?, acknowledged_via = ?"
                " WHERE id = ? AND acknowledged_at IS NULL",
                (to_db(now), via, id),
            )
            return cursor.rowcount == 1

    async def get(self, id: int) -> Notification | None:
        sql = f"SELECT {COLUMNS} FROM notifications WHERE id = ?"
        async with self._db.conn.execute(sql, (id,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _notification(row)

    async def list(
        self, incident_key: str | None = None, *, limit: int = 200, state: str | None = None
    ) -> list[Notification]:
        """Newest first; for one incident, oldest first (its log reads down)."""
        clause, params = _list_where(incident_key, state)
        order = "id" if incident_key is not None else "id DESC"
        sql = f"SELECT {COLUMNS} FROM notifications{clause} ORDER BY {order} LIMIT ?"
        async with self._db.conn.execute(sql, (*params, limit)) as cursor:
            return [_notification(row) for row in await cursor.fetchall()]

    async def count(
        self,
        incident_key: str | None = None,
        *,
        state: str | None = None,
        at_most: int | None = None,
    ) -> int:
        """How many `list` would return without a limit; counting stops at `at_most`."""
        clause, params = _list_where(incident_key, state)
        return await self._db.count(f"notifications{clause}", params, at_most)

    async def next_due(self) -> datetime | None:
        """When the earliest pending notification may go (what the worker sleeps until)."""
        value = await self._db.scalar(
            "SELECT min(not_before) FROM notifications WHERE state = 'pending'"
        )
        return None if value is None else from_db(value)

    async def audit_page(
        self, actor: Actor, entity_key: str, detail: dict[str, Any], now: datetime
    ) -> None:
        """A page by hand is a person's act: an audit row (automatic pages are audited
        through the escalation that caused them)."""
        async with self._db.write(actor, "engineer", "paging someone", now) as tx:
            await tx.audit("page", "person", entity_key, None, detail)


def _list_where(incident_key: str | None, state: str | None) -> tuple[str, list[object]]:
    where: list[str] = []
    params: list[object] = []
    if incident_key is not None:
        where.append("incident_id = ?")
        params.append(parse_key(incident_key))
    if state is not None:
        where.append("state = ?")
        params.append(state)
    return (f" WHERE {' AND '.join(where)}" if where else ""), params
