"""Action items (ACT-n), the improvement register: what a review or a problem decided to
change, who owns it, by when, and whether it was done. Every write is one transaction
with its version check and its audit row."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from typing import Any

from opsdesk.store.db import Database
from opsdesk.store.errors import InvalidOperation, NotFound, changed_meanwhile
from opsdesk.store.incidents import parse_key
from opsdesk.store.problem_records import (
    ACTION_STATES,
    ACTION_TYPES,
    ActionItem,
    NewActionItem,
    action_key,
)
from opsdesk.store.problems import parse_problem_key
from opsdesk.store.records import Actor
from opsdesk.store.returning import returned_id
from opsdesk.store.timefmt import from_db, maybe_from_db, to_db

COLUMNS = (
    "id, title, type, owner, due, state, incident_id, problem_id, change_id, note,"
    " created_at, created_by, done_at, version, updated_at, updated_by"
)
CHANGEABLE = {"title", "type", "owner", "due", "state", "problem_id", "change_id", "note"}
TITLE_LIMIT = 300
TEXT_LIMIT = 20_000
LOGIN_LIMIT = 64


def parse_action_key(key: str) -> int:
    """ "ACT-7" (any case) or "7" → 7; anything else is a clear error."""
    text = key.strip().upper().removeprefix("ACT-")
    if not text.isdigit():
        raise NotFound(f"{key!r} is not an action item key (expected ACT-<number>)")
    return int(text)


def _action(row: Any) -> ActionItem:
    return ActionItem(
        id=row[0], title=row[1], type=row[2], owner=row[3],
        due=None if row[4] is None else date.fromisoformat(row[4]), state=row[5],
        incident_id=row[6], problem_id=row[7], change_id=row[8], note=row[9],
        created_at=from_db(row[10]), created_by=row[11], done_at=maybe_from_db(row[12]),
        version=row[13], updated_at=from_db(row[14]), updated_by=row[15],
    )  # fmt: skip


def action_json(item: ActionItem) -> dict[str, Any]:
    """The audit/JSON form: the key plus every field, dates ISO, times ISO-8601 UTC."""
    return {
        "key": item.key, "title": item.title, "type": item.type, "owner": item.owner,
        "due": None if item.due is None else item.due.isoformat(), "state": item.state,
        "incident": item.incident_key, "problem": item.problem_key, "change": item.change_key,
        "note": item.note, "created_at": to_db(item.created_at), "created_by": item.created_by,
        "done_at": None if item.done_at is None else to_db(item.done_at),
        "version": item.version, "updated_at": to_db(item.updated_at),
        "updated_by": item.updated_by,
    }  # fmt: skip


def _check(values: dict[str, Any]) -> None:
    for name, limit in (("title", TITLE_LIMIT), ("note", TEXT_LIMIT), ("owner", LOGIN_LIMIT)):
        value = values.get(name)
        if isinstance(value, str) and len(value) > limit:
            raise InvalidOperation(f"{name} is {len(value):,} characters; the limit is {limit:,}")
    if "title" in values and not str(values["title"]).strip():
        raise InvalidOperation("an action item needs a title")
    if "owner" in values and not str(values["owner"]).strip():
        raise InvalidOperation("an action item needs an owner")
    if "type" in values and values["type"] not in ACTION_TYPES:
        raise InvalidOperation(f"an action item's type is one of {', '.join(ACTION_TYPES)}")
    if "state" in values and values["state"] not in ACTION_STATES:
        raise InvalidOperation(f"an action item's state is one of {', '.join(ACTION_STATES)}")
    if "due" in values and values["due"] is not None and not isinstance(values["due"], date):
        raise InvalidOperation("an action item's due date is a date")


def _db_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_db(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


class ActionItems:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, actor: Actor, new: NewActionItem, now: datetime) -> ActionItem:
        """A new open action item, from a review (`incident_id`) or a problem."""
        if new.incident_id is None and new.problem_id is None:
            raise InvalidOperation("an action item comes from a review (an incident) or a problem")
        _check({"title": new.title, "type": new.type, "owner": new.owner, "note": new.note})
        _check({"due": new.due})
        async with self._db.write(actor, "engineer", "adding an action item", now) as tx:
            stamp = to_db(now)
            try:
                cursor = await tx.execute(
                    "INSERT INTO action_items (title, type, owner, due, state, incident_id,"
                    " problem_id, change_id, note, created_at, created_by, updated_at,"
                    " updated_by) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (
                        new.title, new.type, new.owner, _db_value(new.due), new.incident_id,
                        new.problem_id, new.change_id, new.note, stamp, actor.login, stamp,
                        actor.login,
                    ),
                )  # fmt: skip
            except sqlite3.IntegrityError:
                raise NotFound(
                    "the incident, problem or change the action item names does not exist"
                ) from None
            item = await self._fetch(tx.conn, await returned_id(cursor))
            await tx.audit("action.add", "action", item.key, None, action_json(item))
        return item

    async def update(
        self,
        actor: Actor,
        key: str,
        expected_version: int,
        changes: dict[str, Any],
        now: datetime,
    ) -> ActionItem:
        """Change fields of one action item if nobody changed it since `expected_version`;
        moving it to done stamps when (and back to open clears that)."""
        unknown = set(changes) - CHANGEABLE
        if unknown:
            raise InvalidOperation(f"cannot change {', '.join(sorted(unknown))} of an action item")
        _check(changes)
        action_id = parse_action_key(key)
        async with self._db.write(actor, "engineer", "changing an action item", now) as tx:
            before = await self._fetch(tx.conn, action_id)
            if before.version != expected_version:
                raise changed_meanwhile(
                    before.key, before.updated_by, to_db(before.updated_at),
                    expected_version, before.version,
                )  # fmt: skip
            values = {column: _db_value(value) for column, value in changes.items()}
            if changes.get("state", before.state) != before.state:
                values["done_at"] = to_db(now) if changes["state"] == "done" else None
            try:
                await tx.update_versioned("action_items", action_id, expected_version, values)
            except sqlite3.IntegrityError:
                raise NotFound(
                    f"{before.key}: the problem or change named does not exist"
                ) from None
            after = await self._fetch(tx.conn, action_id)
            old, new = action_json(before), action_json(after)
            changed = [k for k in new if old[k] != new[k]]
            await tx.audit(
                "action.update",
                "action",
                after.key,
                {k: old[k] for k in changed},
                {k: new[k] for k in changed},
            )
        return after

    async def _fetch(self, conn: Any, action_id: int) -> ActionItem:
        sql = f"SELECT {COLUMNS} FROM action_items WHERE id = ?"
        async with conn.execute(sql, (action_id,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            raise NotFound(f"{action_key(action_id)}: no such action item")
        return _action(row)

    async def get(self, key: str) -> ActionItem:
        return await self._fetch(self._db.conn, parse_action_key(key))

    async def find(
        self,
        *,
        owner: str | None = None,
        states: tuple[str, ...] | None = ("open",),
        incident_key: str | None = None,
        problem_key: str | None = None,
        due_before: date | None = None,
        limit: int = 1000,
    ) -> list[ActionItem]:
        """Action items matching every filter given (`states` None: any state), earliest
        due first (undated last), then oldest. `due_before`: due strictly before that date."""
        clauses: list[str] = []
        params: list[Any] = []
        if owner is not None:
            clauses.append("owner = ?")
            params.append(owner)
        if states:
            clauses.append(f"state IN ({', '.join('?' for _ in states)})")
            params += list(states)
        if incident_key is not None:
            clauses.append("incident_id = ?")
            params.append(parse_key(incident_key))
        if problem_key is not None:
            clauses.append("problem_id = ?")
            params.append(parse_problem_key(problem_key))
        if due_before is not None:
            clauses.append("due IS NOT NULL AND due < ?")
            params.append(due_before.isoformat())
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {COLUMNS} FROM action_items {where} ORDER BY due IS NULL, due, id LIMIT ?"
        async with self._db.conn.execute(sql, (*params, limit)) as cursor:
            return [_action(row) for row in await cursor.fetchall()]
