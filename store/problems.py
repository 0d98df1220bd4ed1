"""Problems (PRB-n): create (with the incidents that make it, in one transaction), change
(version-checked, with the role the operation needs), link and unlink incidents, notes,
timeline, and the reads the problems screen and the candidate rules need. Every write is
one transaction with its timeline event and its audit row.

An incident belongs to at most one problem (a unique link), so "the problem of this
incident" has one answer and accepting a candidate twice cannot split its incidents."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from opsdesk.store.db import Database, Transaction
from opsdesk.store.errors import InvalidOperation, NotFound, changed_meanwhile
from opsdesk.store.incidents import COLUMNS as INCIDENT_COLUMNS
from opsdesk.store.incidents import _incident, parse_key
from opsdesk.store.problem_records import (
    PROBLEM_STATES,
    NewProblem,
    Problem,
    ProblemEvent,
    ProblemSummary,
)
from opsdesk.store.records import Actor, Incident, Role
from opsdesk.store.returning import returned_id
from opsdesk.store.timefmt import from_db, maybe_from_db, to_db

COLUMNS = (
    "id, title, description, services, state, owner, root_cause, workaround, fix_change_id,"
    " created_at, created_by, resolved_at, closed_at, version, updated_at, updated_by"
)
CHANGEABLE = {
    "title", "description", "services", "state", "owner", "root_cause", "workaround",
    "fix_change_id", "resolved_at", "closed_at",
}  # fmt: skip
TITLE_LIMIT = 300
TEXT_LIMIT = 20_000
MAX_SERVICES = 50
MAX_LINKS = 1000  # incidents linked in one step (accepting a candidate)


def parse_problem_key(key: str) -> int:
    """ "PRB-3" (any case) or "3" → 3; anything else is a clear error."""
    text = key.strip().upper().removeprefix("PRB-")
    if not text.isdigit():
        raise NotFound(f"{key!r} is not a problem key (expected PRB-<number>)")
    return int(text)


def _problem(row: Any) -> Problem:
    return Problem(
        id=row[0], title=row[1], description=row[2], services=tuple(json.loads(row[3])),
        state=row[4], owner=row[5], root_cause=row[6], workaround=row[7],
        fix_change_id=row[8], created_at=from_db(row[9]), created_by=row[10],
        resolved_at=maybe_from_db(row[11]), closed_at=maybe_from_db(row[12]),
        version=row[13], updated_at=from_db(row[14]), updated_by=row[15],
    )  # fmt: skip


def problem_json(problem: Problem) -> dict[str, Any]:
    """The audit/JSON form: the key plus every field, times in ISO-8601 UTC."""
    return {
        "key": problem.key, "title": problem.title, "description": problem.description,
        "services": list(problem.services), "state": problem.state, "owner": problem.owner,
        "root_cause": problem.root_cause, "workaround": problem.workaround,
        "fix_change": problem.fix_change, "created_at": to_db(problem.created_at),
        "created_by": problem.created_by,
        "resolved_at": None if problem.resolved_at is None else to_db(problem.resolved_at),
        "closed_at": None if problem.closed_at is None else to_db(problem.closed_at),
        "version": problem.version, "updated_at": to_db(problem.updated_at),
        "updated_by": problem.updated_by,
    }  # fmt: skip


def _check_text(name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise InvalidOperation(f"{name} is {len(value):,} characters; the limit is {limit:,}")


def _check_services(services: Iterable[str]) -> list[str]:
    services = list(services)
    if len(services) > MAX_SERVICES:
        raise InvalidOperation(f"a problem names at most {MAX_SERVICES} services")
    for service in services:
        _check_text("a service name", service, TITLE_LIMIT)
    return services


def _db_value(name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return to_db(value)
    if name == "services":
        return json.dumps(_check_services(value))
    return value


class Problems:
    def __init__(self, db: Database) -> None:
        self._db = db

    # Writing ---------------------------------------------------------------------------

    async def create(
        self,
        actor: Actor,
        new: NewProblem,
        now: datetime,
        *,
        incident_keys: Iterable[str] = (),
        detail: str = "",
    ) -> Problem:
        """A new problem in state new, with `incident_keys` linked in the same transaction
        (all or none: an incident already in another problem refuses the whole). `detail`
        is what its "created" timeline event says (why it was proposed, say)."""
        if not new.title.strip():
            raise InvalidOperation("a problem needs a title")
        _check_text("title", new.title, TITLE_LIMIT)
        _check_text("description", new.description, TEXT_LIMIT)
        _check_text("detail", detail, TEXT_LIMIT)
        services = _check_services(new.services)
        keys = list(dict.fromkeys(incident_keys))
        if len(keys) > MAX_LINKS:
            raise InvalidOperation(f"a problem is created with at most {MAX_LINKS} incidents")
        ids = [parse_key(key) for key in keys]
        async with self._db.write(actor, "engineer", "creating a problem", now) as tx:
            stamp = to_db(now)
            cursor = await tx.execute(
                "INSERT INTO problems (title, description, services, state, owner, created_at,"
                " created_by, updated_at, updated_by) VALUES (?, ?, ?, 'new', ?, ?, ?, ?, ?)"
                " RETURNING id",
                (
                    new.title, new.description, json.dumps(services), new.owner, stamp,
                    actor.login, stamp, actor.login,
                ),
            )  # fmt: skip
            problem = await self._fetch(tx.conn, await returned_id(cursor))
            await self._event(
                tx, problem.id, ProblemEvent(now, actor.login, "created", "new", detail)
            )
            for incident_id in ids:
                await self._insert_link(tx, problem, incident_id)
            linked = [f"INC-{i}" for i in ids]
            await tx.audit(
                "problem.create",
                "problem",
                problem.key,
                None,
                {**problem_json(problem), "incidents": linked},
            )
        return problem

    async def apply(
        self,
        actor: Actor,
        key: str,
        expected_version: int,
        changes: dict[str, Any],
        event: ProblemEvent,
        action: str,
        now: datetime,
        *,
        role: Role = "engineer",
    ) -> Problem:
        """Change fields of one problem if nobody changed it since `expected_version`.
        `role` is what this change needs (closing a problem: the role config names), so
        the check runs here, in the transaction, for every face alike."""
        unknown = set(changes) - CHANGEABLE
        if unknown:
            raise InvalidOperation(f"cannot change {', '.join(sorted(unknown))} of a problem")
        if "state" in changes and changes["state"] not in PROBLEM_STATES:
            raise InvalidOperation(f"{changes['state']!r} is not a problem state")
        for name, limit in (("title", TITLE_LIMIT), ("description", TEXT_LIMIT)):
            if isinstance(changes.get(name), str):
                _check_text(name, changes[name], limit)
        for name in ("root_cause", "workaround"):
            if isinstance(changes.get(name), str):
                _check_text(name.replace("_", " "), changes[name], TEXT_LIMIT)
        _check_text("detail", event.detail, TEXT_LIMIT)
        problem_id = parse_problem_key(key)
        async with self._db.write(actor, role, action.replace(".", " "), now) as tx:
            before = await self._checked(tx, problem_id, expected_version)
            values = {column: _db_value(column, value) for column, value in changes.items()}
            try:
                await tx.update_versioned("problems", problem_id, expected_version, values)
            except sqlite3.IntegrityError:
                raise InvalidOperation(f"{before.key}: no such change to link as its fix") from None
            after = await self._fetch(tx.conn, problem_id)
            await self._event(tx, problem_id, event)
            old, new = problem_json(before), problem_json(after)
            changed = [k for k in new if old[k] != new[k]]
            await tx.audit(
                action,
                "problem",
                after.key,
                {k: old[k] for k in changed},
                {k: new[k] for k in changed},
            )
        return after

    async def link(self, actor: Actor, key: str, incident_key: str, now: datetime) -> None:
        """Link an incident to this problem; an incident already in a problem is refused
        with that problem's key (unlink it there first)."""
        problem_id, incident_id = parse_problem_key(key), parse_key(incident_key)
        async with self._db.write(actor, "engineer", "linking an incident", now) as tx:
            problem = await self._fetch(tx.conn, problem_id)
            if problem.state == "closed":
                raise InvalidOperation(f"{problem.key} is closed; link to an open problem")
            await self._insert_link(tx, problem, incident_id)
            detail = f"INC-{incident_id}"
            await self._event(
                tx, problem_id, ProblemEvent(now, actor.login, "linked", None, detail)
            )
            await tx.audit("problem.link", "problem", problem.key, None, {"incident": detail})

    async def unlink(self, actor: Actor, key: str, incident_key: str, now: datetime) -> None:
        problem_id, incident_id = parse_problem_key(key), parse_key(incident_key)
        async with self._db.write(actor, "engineer", "unlinking an incident", now) as tx:
            problem = await self._fetch(tx.conn, problem_id)
            cursor = await tx.execute(
                "DELETE FROM problem_incidents WHERE problem_id = ? AND incident_id = ?",
                (problem_id, incident_id),
            )
            if cursor.rowcount != 1:
                raise InvalidOperation(f"INC-{incident_id} is not linked to {problem.key}")
            detail = f"INC-{incident_id}"
            await self._event(
                tx, problem_id, ProblemEvent(now, actor.login, "unlinked", None, detail)
            )
            await tx.audit("problem.unlink", "problem", problem.key, {"incident": detail}, None)

    async def add_note(self, actor: Actor, key: str, text: str, now: datetime) -> ProblemEvent:
        """Append a note to the timeline. Notes never conflict, so no version is needed."""
        if not text.strip():
            raise InvalidOperation("a note needs some text")
        _check_text("note", text, TEXT_LIMIT)
        problem_id = parse_problem_key(key)
        event = ProblemEvent(now, actor.login, "note", None, text)
        async with self._db.write(actor, "engineer", "adding a note", now) as tx:
            problem = await self._fetch(tx.conn, problem_id)
            await self._event(tx, problem_id, event)
            await tx.audit("problem.note", "problem", problem.key, None, {"note": text})
        return event

    async def _insert_link(self, tx: Transaction, problem: Problem, incident_id: int) -> None:
        async with tx.conn.execute(
            "SELECT problem_id FROM problem_incidents WHERE incident_id = ?", (incident_id,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is not None:
            where = "this problem" if row[0] == problem.id else f"PRB-{row[0]}"
            raise InvalidOperation(f"INC-{incident_id} is already linked to {where}")
        try:
            await tx.execute(
                "INSERT INTO problem_incidents (problem_id, incident_id, linked_by, at)"
                " VALUES (?, ?, ?, ?)",
                (problem.id, incident_id, tx.actor.login, to_db(tx.now)),
            )
        except sqlite3.IntegrityError:
            raise NotFound(f"INC-{incident_id}: no such incident") from None

    async def _checked(self, tx: Transaction, problem_id: int, version: int) -> Problem:
        before = await self._fetch(tx.conn, problem_id)
        if before.version != version:
            raise changed_meanwhile(
                before.key, before.updated_by, to_db(before.updated_at), version, before.version
            )
        return before

    async def _event(self, tx: Transaction, problem_id: int, event: ProblemEvent) -> None:
        await tx.execute(
            "INSERT INTO problem_events (problem_id, at, actor, kind, state, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (problem_id, to_db(event.at), event.actor, event.kind, event.state, event.detail),
        )

    # Reading ---------------------------------------------------------------------------

    async def _fetch(self, conn: Any, problem_id: int) -> Problem:
        sql = f"SELECT {COLUMNS} FROM problems WHERE id = ?"
        async with conn.execute(sql, (problem_id,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            raise NotFound(f"PRB-{problem_id}: no such problem")
        return _problem(row)

    async def get(self, key: str) -> Problem:
        return await self._fetch(self._db.conn, parse_problem_key(key))

    async def count(self, states: tuple[str, ...] | None = None) -> int:
        """How many problems `find` would list without a limit."""
        where, params = "", []
        if states:
            where = f"WHERE state IN ({', '.join('?' for _ in states)})"
            params = list(states)
        return await self._db.count(f"problems {where}", params)

    async def find(
        self, states: tuple[str, ...] | None = None, limit: int = 500
    ) -> list[ProblemSummary]:
        """Problems in `states` (None: all), newest first, each with its incident count
        (`limit` -1: every one)."""
        where, params = "", []
        if states:
            where = f"WHERE state IN ({', '.join('?' for _ in states)})"
            params = list(states)
        sql = (
            f"SELECT {COLUMNS}, (SELECT count(*) FROM problem_incidents l"
            f" WHERE l.problem_id = problems.id) FROM problems {where} ORDER BY id DESC LIMIT ?"
        )
        async with self._db.conn.execute(sql, (*params, limit)) as cursor:
            return [ProblemSummary(_problem(r), int(r[16])) for r in await cursor.fetchall()]

    async def events(self, key: str) -> list[ProblemEvent]:
        sql = (
            "SELECT at, actor, kind, state, detail FROM problem_events WHERE problem_id = ?"
            " ORDER BY id"
        )
        async with self._db.conn.execute(sql, (parse_problem_key(key),)) as cursor:
            rows = await cursor.fetchall()
        return [ProblemEvent(from_db(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    async def incidents(self, key: str) -> list[Incident]:
        """The incidents linked to a problem, oldest first."""
        sql = (
            f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id IN"
            " (SELECT incident_id FROM problem_incidents WHERE problem_id = ?) ORDER BY id"
        )
        async with self._db.conn.execute(sql, (parse_problem_key(key),)) as cursor:
            return [_incident(row) for row in await cursor.fetchall()]

    async def for_incident(self, incident_key: str) -> Problem | None:
        """The problem an incident belongs to, if any."""
        sql = (
            f"SELECT {COLUMNS} FROM problems WHERE id ="
            " (SELECT problem_id FROM problem_incidents WHERE incident_id = ?)"
        )
        async with self._db.conn.execute(sql, (parse_key(incident_key),)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _problem(row)

    async def unlinked_incidents(self, since: datetime, limit: int = 5000) -> list[Incident]:
        """Incidents opened since `since` that belong to no problem, oldest first: what the
        candidate rules look at."""
        sql = (
            f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE created_at >= ? AND NOT EXISTS"
            " (SELECT 1 FROM problem_incidents l WHERE l.incident_id = incidents.id)"
            " ORDER BY created_at, id LIMIT ?"
        )
        async with self._db.conn.execute(sql, (to_db(since), limit)) as cursor:
            return [_incident(row) for row in await cursor.fetchall()]

    async def count_by_state(self) -> dict[str, int]:
        async with self._db.conn.execute(
            "SELECT state, count(*) FROM problems GROUP BY state"
        ) as cursor:
            return {row[0]: row[1] for row in await cursor.fetchall()}
