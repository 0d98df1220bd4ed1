"""Post-incident reviews: one per incident, written as a draft by anyone, accepted by the
role the caller names (config decides which), never edited once accepted. Every write is
one transaction with its version check and its audit row."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from opsdesk.store.db import Database, Transaction
from opsdesk.store.errors import InvalidOperation, NotFound, StaleWrite, changed_meanwhile
from opsdesk.store.incidents import COLUMNS as INCIDENT_COLUMNS
from opsdesk.store.incidents import _incident, parse_key
from opsdesk.store.problem_records import REVIEW_FIELDS, REVIEW_TEXT_FIELDS, Review
from opsdesk.store.records import Actor, Incident, Role
from opsdesk.store.timefmt import from_db, maybe_from_db, to_db

COLUMNS = (
    "id, incident_id, state, summary, customers, duration_minutes, sla_breached, root_cause,"
    " contributing_factors, went_well, lucky, created_at, created_by, accepted_by, accepted_at,"
    " version, updated_at, updated_by"
)
TEXT_LIMIT = 20_000
MAX_DURATION_MINUTES = 60 * 24 * 366


def _review(row: Any) -> Review:
    return Review(
        id=row[0], incident_id=row[1], state=row[2], summary=row[3], customers=row[4],
        duration_minutes=row[5], sla_breached=None if row[6] is None else bool(row[6]),
        root_cause=row[7], contributing_factors=row[8], went_well=row[9], lucky=row[10],
        created_at=from_db(row[11]), created_by=row[12], accepted_by=row[13],
        accepted_at=maybe_from_db(row[14]), version=row[15], updated_at=from_db(row[16]),
        updated_by=row[17],
    )  # fmt: skip


def review_json(review: Review) -> dict[str, Any]:
    """The audit/JSON form: every field, times in ISO-8601 UTC."""
    return {
        "incident": review.incident_key, "state": review.state,
        **{name: getattr(review, name) for name in REVIEW_FIELDS},
        "created_at": to_db(review.created_at), "created_by": review.created_by,
        "accepted_by": review.accepted_by,
        "accepted_at": None if review.accepted_at is None else to_db(review.accepted_at),
        "version": review.version, "updated_at": to_db(review.updated_at),
        "updated_by": review.updated_by,
    }  # fmt: skip


def _checked_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(REVIEW_FIELDS)
    if unknown:
        raise InvalidOperation(f"a review has no {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name in REVIEW_TEXT_FIELDS:
            if not isinstance(value, str):
                raise InvalidOperation(f"{name.replace('_', ' ')} is text")
            if len(value) > TEXT_LIMIT:
                raise InvalidOperation(
                    f"{name.replace('_', ' ')} is {len(value):,} characters; the limit is "
                    f"{TEXT_LIMIT:,}"
                )
            values[name] = value
        elif name == "duration_minutes":
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 0 <= value <= MAX_DURATION_MINUTES
            ):
                raise InvalidOperation("the impact's duration is a number of minutes, 0 or more")
            values[name] = value
        else:  # sla_breached
            if value is not None and not isinstance(value, bool):
                raise InvalidOperation("whether the SLA was breached is yes, no or unset")
            values[name] = None if value is None else int(value)
    return values


class Reviews:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(
        self,
        actor: Actor,
        incident_key: str,
        expected_version: int | None,
        fields: dict[str, Any],
        now: datetime,
    ) -> Review:
        """Write fields of the incident's review: `expected_version` None starts it (refused
        if someone already did: look at theirs), else the version the writer read. An
        accepted review is final."""
        values = _checked_fields(fields)
        incident_id = parse_key(incident_key)
        async with self._db.write(actor, "engineer", "writing a review", now) as tx:
            await self._incident_exists(tx, incident_id)
            before = await self._fetch(tx.conn, incident_id)
            if expected_version is None:
                if before is not None:
                    raise StaleWrite(
                        f"{before.created_by} already started the review of INC-{incident_id}"
                        f" (version {before.version}); look at it and edit that"
                    )
                stamp = to_db(now)
                columns = ", ".join(values)
                marks = "".join(", ?" for _ in values)
                await tx.execute(
                    f"INSERT INTO reviews (incident_id, created_at, created_by, updated_at,"
                    f" updated_by{', ' if values else ''}{columns}) VALUES (?, ?, ?, ?, ?{marks})",
                    (incident_id, stamp, actor.login, stamp, actor.login, *values.values()),
                )
                after = await self._fetch(tx.conn, incident_id)
                assert after is not None
                await tx.audit(
                    "review.create", "review", f"INC-{incident_id}", None, review_json(after)
                )
                return after
            review = self._current(before, incident_id, expected_version)
            if review.state == "accepted":
                raise InvalidOperation(
                    f"the review of INC-{incident_id} was accepted by {review.accepted_by}; it"
                    " is final"
                )
            await tx.update_versioned("reviews", review.id, expected_version, values)
            after = await self._fetch(tx.conn, incident_id)
            assert after is not None
            await self._audit_change(tx, "review.update", review, after)
        return after

    async def accept(
        self, actor: Actor, incident_key: str, expected_version: int, role: Role, now: datetime
    ) -> Review:
        """Accept the review (the role config names for it, checked here): it is final."""
        incident_id = parse_key(incident_key)
        async with self._db.write(actor, role, "accepting a review", now) as tx:
            review = self._current(
                await self._fetch(tx.conn, incident_id), incident_id, expected_version
            )
            if review.state == "accepted":
                raise InvalidOperation(
                    f"the review of INC-{incident_id} was already accepted by {review.accepted_by}"
                )
            values = {"state": "accepted", "accepted_by": actor.login, "accepted_at": to_db(now)}
            await tx.update_versioned("reviews", review.id, expected_version, values)
            after = await self._fetch(tx.conn, incident_id)
            assert after is not None
            await self._audit_change(tx, "review.accept", review, after)
        return after

    def _current(self, review: Review | None, incident_id: int, version: int) -> Review:
        if review is None:
            raise NotFound(f"INC-{incident_id} has no review yet")
        if review.version != version:
            raise changed_meanwhile(
                f"the review of INC-{incident_id}", review.updated_by,
                to_db(review.updated_at), version, review.version,
            )  # fmt: skip
        return review

    async def _audit_change(
        self, tx: Transaction, action: str, before: Review, after: Review
    ) -> None:
        old, new = review_json(before), review_json(after)
        changed = [k for k in new if old[k] != new[k]]
        await tx.audit(
            action,
            "review",
            after.incident_key,
            {k: old[k] for k in changed},
            {k: new[k] for k in changed},
        )

    async def _incident_exists(self, tx: Transaction, incident_id: int) -> None:
        async with tx.conn.execute("SELECT 1 FROM incidents WHERE id = ?", (incident_id,)) as cur:
            if await cur.fetchone() is None:
                raise NotFound(f"INC-{incident_id}: no such incident")

    async def _fetch(self, conn: Any, incident_id: int) -> Review | None:
        sql = f"SELECT {COLUMNS} FROM reviews WHERE incident_id = ?"
        async with conn.execute(sql, (incident_id,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _review(row)

    async def get(self, incident_key: str) -> Review | None:
        """The incident's review, or None while nobody has started one."""
        return await self._fetch(self._db.conn, parse_key(incident_key))

    async def for_incidents(self, incident_keys: Iterable[str]) -> dict[str, Review]:
        """Reviews of several incidents at once (a screenful of the queue), by incident key."""
        ids = [parse_key(key) for key in incident_keys]
        found: dict[str, Review] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = (
                f"SELECT {COLUMNS} FROM reviews WHERE incident_id IN"
                f" ({', '.join('?' for _ in chunk)})"
            )
            async with self._db.conn.execute(sql, chunk) as cursor:
                for row in await cursor.fetchall():
                    review = _review(row)
                    found[review.incident_key] = review
        return found

    async def awaiting(self, priorities: Iterable[str], limit: int = 500) -> list[Incident]:
        """Resolved incidents of `priorities` whose review is not accepted yet, oldest
        resolution first: the reviews owed (closing needs an accepted one, so a closed
        incident owes nothing any more)."""
        wanted = list(priorities)
        if not wanted:
            return []
        sql = (
            f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE state = 'resolved'"
            f" AND priority IN ({', '.join('?' for _ in wanted)}) AND NOT EXISTS"
            " (SELECT 1 FROM reviews r WHERE r.incident_id = incidents.id"
            " AND r.state = 'accepted') ORDER BY resolved_at, id LIMIT ?"
        )
        async with self._db.conn.execute(sql, (*wanted, limit)) as cursor:
            return [_incident(row) for row in await cursor.fetchall()]
