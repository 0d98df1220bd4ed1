"""Change requests: create, change (version-checked), approvals (nobody approves their own
change, only CAB members and leads approve: enforced here, for the CLI and the UI alike),
links to incidents, the timeline, and the reads the changes screen needs. Every write is
one transaction with its timeline event and its audit row."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from typing import Any

from opsdesk.store.db import Database, Transaction
from opsdesk.store.errors import (
    InvalidOperation,
    NotFound,
    PermissionDenied,
    changed_meanwhile,
)
from opsdesk.store.records import (
    Actor,
    ChangeApproval,
    ChangeEvent,
    ChangeRequest,
    NewChange,
)
from opsdesk.store.returning import returned_id
from opsdesk.store.timefmt import from_db, to_db

COLUMNS = (
    "id, title, type, risk, services, planned_start, planned_end, implementer, requester,"
    " state, version, description, test_plan, backout_plan, risk_justification, risk_answers,"
    " conflicts_ack, review, updated_by, updated_at"
)
CHANGEABLE = {
    "title", "type", "risk", "services", "planned_start", "planned_end", "implementer",
    "description", "test_plan", "backout_plan", "risk_justification", "risk_answers",
    "state", "conflicts_ack", "review",
}  # fmt: skip
TEXT_LIMIT = 20_000


def parse_change_key(key: str) -> int:
    text = key.strip().upper().removeprefix("CHG-")
    if not text.isdigit():
        raise NotFound(f"{key!r} is not a change key (expected CHG-<number>)")
    return int(text)


def _change(row: Any) -> ChangeRequest:
    return ChangeRequest(
        id=row[0], title=row[1], type=row[2], risk=row[3], services=tuple(json.loads(row[4])),
        planned_start=from_db(row[5]), planned_end=from_db(row[6]), implementer=row[7],
        requester=row[8], state=row[9], version=row[10], description=row[11],
        test_plan=row[12], backout_plan=row[13], risk_justification=row[14],
        risk_answers=json.loads(row[15] or "{}"),
        conflicts_ack=None if row[16] is None else tuple(json.loads(row[16])),
        review=row[17], updated_by=row[18], updated_at=from_db(row[19]),
    )  # fmt: skip


def _db_value(name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return to_db(value)
    if name in ("services", "conflicts_ack") and value is not None:
        return json.dumps(list(value))
    if name == "risk_answers":
        return json.dumps(value)
    return value


def _json(change: ChangeRequest) -> dict[str, Any]:
    return {
        "key": change.key, "title": change.title, "type": change.type, "risk": change.risk,
        "services": list(change.services), "planned_start": to_db(change.planned_start),
        "planned_end": to_db(change.planned_end), "implementer": change.implementer,
        "state": change.state, "version": change.version,
    }  # fmt: skip


def decider_refusal(actor: Actor, change: ChangeRequest | None = None) -> str:
    """Why `actor` may not approve or reject `change` at all ("" when they may): only CAB
    members and leads decide, and never on a change they requested. `decide` refuses
    with this reason, and the console asks it before offering the keys."""
    if not (actor.has("cab") or actor.has("lead")):
        return f"approving changes needs the cab or lead role; {actor.login} has neither"
    if change is not None and change.requester == actor.login:
        return f"{change.key} is your own change; someone else decides"
    return ""


def _find_where(
    states: tuple[str, ...] | None,
    requester: str | None,
    services: tuple[str, ...] | None,
    window_from: datetime | None,
    window_before: datetime | None,
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if states:
        clauses.append(f"state IN ({', '.join('?' for _ in states)})")
        params += list(states)
    if requester:
        clauses.append("(requester = ? OR implementer = ?)")
        params += [requester, requester]
    if services:
        marks = ", ".join("?" for _ in services)
        clauses.append(
            f"EXISTS (SELECT 1 FROM json_each(changes.services) WHERE value IN ({marks}))"
        )
        params += list(services)
    if window_before is not None:
        clauses.append("planned_start < ?")
        params.append(to_db(window_before))
    if window_from is not None:
        clauses.append("planned_end > ?")
        params.append(to_db(window_from))
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


class Changes:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, actor: Actor, new: NewChange, now: datetime) -> ChangeRequest:
        if not new.title.strip():
            raise InvalidOperation("a change needs a title")
        for name in ("description", "test_plan", "backout_plan", "risk_justification"):
            if len(getattr(new, name)) > TEXT_LIMIT:
                raise InvalidOperation(f"{name} is longer than {TEXT_LIMIT:,} characters")
        async with self._db.write(actor, "engineer", "creating a change", now) as tx:
            stamp = to_db(now)
            try:
                cursor = await tx.execute(
                    "INSERT INTO changes (title, description, type, risk, services, planned_start,"
                    " planned_end, implementer, requester, test_plan, backout_plan, state,"
                    " created_at, updated_at, updated_by, risk_justification, risk_answers)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?)"
                    " RETURNING id",
                    (
                        new.title.strip()[:300], new.description, new.type, new.risk,
                        json.dumps(list(new.services)), to_db(new.planned_start),
                        to_db(new.planned_end), new.implementer, actor.login, new.test_plan,
                        new.backout_plan, stamp, stamp, actor.login, new.risk_justification,
                        json.dumps(new.risk_answers),
                    ),
                )  # fmt: skip
            except sqlite3.IntegrityError as exc:
                raise InvalidOperation(f"change refused: {exc}") from None
            change = await self._fetch(tx.conn, await returned_id(cursor))
            await self._event(tx, change.id, ChangeEvent(now, actor.login, "created", "draft"))
            await tx.audit("change.create", "change", change.key, None, _json(change))
        return change

    async def apply(
        self,
        actor: Actor,
        key: str,
        expected_version: int,
        changes: dict[str, Any],
        event: ChangeEvent,
        action: str,
        now: datetime,
    ) -> ChangeRequest:
        unknown = set(changes) - CHANGEABLE
        if unknown:
            raise InvalidOperation(f"cannot change {', '.join(sorted(unknown))} of a change")
        change_id = parse_change_key(key)
        async with self._db.write(actor, "engineer", action.replace(".", " "), now) as tx:
            before = await self._checked(tx, change_id, expected_version)
            values = {column: _db_value(column, value) for column, value in changes.items()}
            await tx.update_versioned("changes", change_id, expected_version, values)
            after = await self._fetch(tx.conn, change_id)
            await self._event(tx, change_id, event)
            await tx.audit(action, "change", after.key, _json(before), _json(after))
        return after

    async def decide(
        self,
        actor: Actor,
        key: str,
        expected_version: int,
        decision: str,
        comment: str,
        new_state: str | None,
        now: datetime,
    ) -> ChangeRequest:
        """Record an approval, rejection or after-the-fact review, and the state it leads
        to. Only CAB members and leads decide, and never on their own change."""
        if why := decider_refusal(actor):
            raise PermissionDenied(why)
        change_id = parse_change_key(key)
        async with self._db.write(actor, "engineer", f"{decision} a change", now) as tx:
            before = await self._checked(tx, change_id, expected_version)
            if why := decider_refusal(actor, before):
                raise PermissionDenied(why)
            roles = sorted(r for r in ("cab", "lead") if actor.has(r))
            await tx.execute(
                "INSERT INTO change_approvals (change_id, actor, roles, decision, comment, at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (change_id, actor.login, json.dumps(roles), decision, comment, to_db(now)),
            )
            values = {"state": new_state} if new_state else {}
            await tx.update_versioned("changes", change_id, expected_version, values)
            after = await self._fetch(tx.conn, change_id)
            detail = f"{'/'.join(roles)}: {comment}" if comment else "/".join(roles)
            await self._event(
                tx, change_id, ChangeEvent(now, actor.login, decision, new_state, detail)
            )
            await tx.audit(f"change.{decision}", "change", after.key, _json(before), _json(after))
        return after

    async def link(self, actor: Actor, key: str, incident_id: int, now: datetime) -> None:
        change_id = parse_change_key(key)
        async with self._db.write(actor, "engineer", "linking a change", now) as tx:
            change = await self._fetch(tx.conn, change_id)
            try:
                await tx.execute(
                    "INSERT INTO change_links (change_id, incident_id, linked_by, at)"
                    " VALUES (?, ?, ?, ?)",
                    (change_id, incident_id, actor.login, to_db(now)),
                )
            except sqlite3.IntegrityError:
                raise InvalidOperation(
                    f"{change.key} and INC-{incident_id} are already linked (or INC-{incident_id}"
                    " does not exist)"
                ) from None
            detail = f"INC-{incident_id}"
            await self._event(tx, change_id, ChangeEvent(now, actor.login, "linked", None, detail))
            await tx.audit("change.link", "change", change.key, None, {"incident": detail})

    async def _checked(self, tx: Transaction, change_id: int, version: int) -> ChangeRequest:
        before = await self._fetch(tx.conn, change_id)
        if before.version != version:
            when = to_db(before.updated_at) if before.updated_at else "an unknown time"
            raise changed_meanwhile(before.key, before.updated_by, when, version, before.version)
        return before

    async def _event(self, tx: Transaction, change_id: int, event: ChangeEvent) -> None:
        await tx.execute(
            "INSERT INTO change_events (change_id, at, actor, kind, state, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (change_id, to_db(event.at), event.actor, event.kind, event.state, event.detail),
        )

    async def _fetch(self, conn: Any, change_id: int) -> ChangeRequest:
        async with conn.execute(f"SELECT {COLUMNS} FROM changes WHERE id = ?", (change_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"CHG-{change_id}: no such change")
        return _change(row)

    async def get(self, key: str) -> ChangeRequest:
        return await self._fetch(self._db.conn, parse_change_key(key))

    async def approvals(self, key: str) -> list[ChangeApproval]:
        sql = (
            "SELECT actor, roles, decision, comment, at FROM change_approvals WHERE change_id = ?"
            " ORDER BY id"
        )
        async with self._db.conn.execute(sql, (parse_change_key(key),)) as cursor:
            rows = await cursor.fetchall()
        return [
            ChangeApproval(r[0], frozenset(json.loads(r[1])), r[2], r[3], from_db(r[4]))
            for r in rows
        ]

    async def events(self, key: str) -> list[ChangeEvent]:
        sql = (
            "SELECT at, actor, kind, state, detail FROM change_events WHERE change_id = ?"
            " ORDER BY id"
        )
        async with self._db.conn.execute(sql, (parse_change_key(key),)) as cursor:
            rows = await cursor.fetchall()
        return [ChangeEvent(from_db(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    async def linked_incidents(self, key: str) -> list[str]:
        sql = "SELECT incident_id FROM change_links WHERE change_id = ? ORDER BY incident_id"
        async with self._db.conn.execute(sql, (parse_change_key(key),)) as cursor:
            return [f"INC-{row[0]}" for row in await cursor.fetchall()]

    async def for_incident(self, incident_id: int) -> list[str]:
        sql = "SELECT change_id FROM change_links WHERE incident_id = ? ORDER BY change_id"
        async with self._db.conn.execute(sql, (incident_id,)) as cursor:
            return [f"CHG-{row[0]}" for row in await cursor.fetchall()]

    async def overlapping(self, start: datetime, end: datetime) -> list[ChangeRequest]:
        """Changes whose planned window overlaps [start, end)."""
        sql = (
            f"SELECT {COLUMNS} FROM changes WHERE planned_start < ? AND planned_end > ?"
            " ORDER BY planned_start"
        )
        async with self._db.conn.execute(sql, (to_db(end), to_db(start))) as cursor:
            return [_change(row) for row in await cursor.fetchall()]

    async def find(
        self,
        states: tuple[str, ...] | None = None,
        requester: str | None = None,
        limit: int | None = 200,
        *,
        services: tuple[str, ...] | None = None,
        window_from: datetime | None = None,
        window_before: datetime | None = None,
    ) -> list[ChangeRequest]:
        """Changes, latest planned start first: in `states`, requested or implemented by
        `requester`, touching any of `services`, with a planned window that overlaps
        [window_from, window_before); `limit` None is every one."""
        where, params = _find_where(states, requester, services, window_from, window_before)
        sql = f"SELECT {COLUMNS} FROM changes {where} ORDER BY planned_start DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        async with self._db.conn.execute(sql, params) as cursor:
            return [_change(row) for row in await cursor.fetchall()]

    async def count(
        self,
        states: tuple[str, ...] | None = None,
        requester: str | None = None,
        *,
        services: tuple[str, ...] | None = None,
        window_from: datetime | None = None,
        window_before: datetime | None = None,
    ) -> int:
        """How many changes `find` would list without a limit."""
        where, params = _find_where(states, requester, services, window_from, window_before)
        return await self._db.count(f"changes {where}", params)

    async def around(self, now: datetime, limit: int = 200) -> list[ChangeRequest]:
        """Changes still to finish or ending in the last week, by planned start."""
        sql = f"SELECT {COLUMNS} FROM changes WHERE planned_end >= ? ORDER BY planned_start LIMIT ?"
        since = to_db(now - timedelta(days=7))
        async with self._db.conn.execute(sql, (since, limit)) as cursor:
            return [_change(row) for row in await cursor.fetchall()]

    async def metrics(self, since: datetime, until: datetime) -> tuple[int, int, int, int, int]:
        """For changes planned to start in [since, until): (all, finished, failed or
        rolled back, emergency, linked to an incident). A closed change counts as failed
        if it ever was failed or rolled back (its timeline says so)."""
        sql = (
            "SELECT count(*),"
            " coalesce(sum(state IN ('completed', 'failed', 'rolled_back', 'closed')), 0),"
            " coalesce(sum(state IN ('failed', 'rolled_back') OR EXISTS (SELECT 1 FROM"
            " change_events e WHERE e.change_id = changes.id AND e.state IN"
            " ('failed', 'rolled_back'))), 0),"
            " coalesce(sum(type = 'emergency'), 0),"
            " coalesce(sum(EXISTS (SELECT 1 FROM change_links l"
            " WHERE l.change_id = changes.id)), 0)"
            " FROM changes WHERE planned_start >= ? AND planned_start < ?"
        )
        async with self._db.conn.execute(sql, (to_db(since), to_db(until))) as cursor:
            row = await cursor.fetchone()
        return tuple(int(v) for v in row) if row else (0, 0, 0, 0, 0)  # type: ignore[return-value]

    async def count_by_state(self) -> dict[str, int]:
        async with self._db.conn.execute(
            "SELECT state, count(*) FROM changes GROUP BY state"
        ) as cur:
            return {row[0]: row[1] for row in await cur.fetchall()}
