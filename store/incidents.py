"""Incidents: create, change (version-checked), notes, timeline, listing. Every write is
one transaction with its timeline event and its audit row."""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from opsdesk.store.db import Database, Transaction
from opsdesk.store.errors import (
    InvalidOperation,
    NotFound,
    SearchInterrupted,
    StoreError,
    changed_meanwhile,
)
from opsdesk.store.pg.search import tsquery_text
from opsdesk.store.records import (
    INCIDENT_SORTS,
    Actor,
    Incident,
    IncidentEvent,
    IncidentFilter,
    IncidentOrder,
    NewIncident,
)
from opsdesk.store.returning import returned_id
from opsdesk.store.timefmt import from_db, maybe_from_db, to_db

if TYPE_CHECKING:
    from opsdesk.store.stats_records import QueueStats

COLUMNS = (
    "id, title, description, service, impact, urgency, priority, state, hold_reason, assignee,"
    " reporter, source, dedup_key, created_at, acknowledged_at, resolved_at, closed_at,"
    " resolution_code, resolution_note, csat, version, updated_at, updated_by, response_due,"
    " resolve_due, response_met, resolve_met, escalation_level, escalation_at, escalation_round"
)
TIME_COLUMNS = {13, 21}
OPTIONAL_TIME_COLUMNS = {14, 15, 16, 23, 24, 28}
OPEN_STATES = ("new", "acknowledged", "in_progress", "on_hold")
# Written out literally (constants, not input) so SQLite can use the partial index
# incidents_open_urgency, whose WHERE is this same list.
OPEN_SQL = "state IN ('new', 'acknowledged', 'in_progress', 'on_hold')"
# Columns an operation may change through `apply`; everything else is fixed or bookkeeping.
CHANGEABLE = {
    "state", "hold_reason", "assignee", "impact", "urgency", "priority", "acknowledged_at",
    "resolved_at", "closed_at", "resolution_code", "resolution_note", "csat", "response_due",
    "resolve_due", "response_met", "resolve_met", "escalation_level", "escalation_at",
    "escalation_round",
}  # fmt: skip
URGENCY = "coalesce(min(response_due, resolve_due), response_due, resolve_due)"
# What each sort means in SQL, as terms that all turn round for descending; ties go
# newest first (oldest first descending), so a descending order is the exact reverse.
SORT_TERMS = {
    # What is burning first, as PagerDuty and Opsgenie list it: by priority, within one
    # the unacknowledged (new) before the rest, then breached (due earliest, so already
    # past) before nearest due, then those without a running clock.
    "triage": ("priority", "state <> 'new'", f"{URGENCY} IS NULL", URGENCY),
    "urgency": (f"{URGENCY} IS NULL", URGENCY),
    "key": (),
    "priority": ("priority",),
    "state": (
        "CASE state WHEN 'new' THEN 0 WHEN 'acknowledged' THEN 1 WHEN 'in_progress' THEN 2"
        " WHEN 'on_hold' THEN 3 WHEN 'resolved' THEN 4 ELSE 5 END",
    ),
    "title": ("title COLLATE NOCASE",),
    "service": ("service",),
    "assignee": ("assignee IS NULL", "assignee"),
    "age": ("created_at DESC",),  # youngest first
}
PG_SORT_TERMS = {"title COLLATE NOCASE": "lower(title)"}
"""Sort terms PostgreSQL spells otherwise (see _order_by)."""
# The index each order walks over all incidents (store/migrations 0005 and 0012): named in
# the query, so a store that was never analysed still walks it instead of sorting a
# million rows per page, and a search over every incident probes the words' matches
# along it (stopping at the window's end) instead of sorting every match.
SORT_INDEX = {
    "urgency": "incidents_urgency",
    "priority": "incidents_by_priority",
    "state": "incidents_by_state",
    "title": "incidents_by_title",
    "service": "incidents_by_service",
    "assignee": "incidents_by_assignee",
    "age": "incidents_by_age",
}
URGENT_FIRST = IncidentOrder()
TRIAGE_SORTED = 2000
"""A triage bucket up to this size is sorted; a larger one walks the open SLA index."""
KEY_PATTERN = re.compile(r"(?i)(?:inc-?)?(\d{1,12})")
WORD = re.compile(r"\w+")
MAX_SEARCH_WORDS = 16
TITLE_LIMIT = 300
TEXT_LIMIT = 20_000


def search_key(text: str) -> int | None:
    """The incident number when search text is an incident key ("INC-12", "inc12", "12"):
    such a search finds that one incident (None: the text is words to look for)."""
    found = KEY_PATTERN.fullmatch(text.strip())
    return int(found.group(1)) if found else None


def parse_key(key: str) -> int:
    """ "INC-12" (any case) or "12" → 12; anything else is a clear error."""
    text = key.strip().upper().removeprefix("INC-")
    if not text.isdigit():
        raise NotFound(f"{key!r} is not an incident key (expected INC-<number>)")
    return int(text)


def _incident(row: Any) -> Incident:
    values = list(row)
    for index in TIME_COLUMNS:
        values[index] = from_db(values[index])
    for index in OPTIONAL_TIME_COLUMNS:
        values[index] = maybe_from_db(values[index])
    for index in (25, 26):
        values[index] = None if values[index] is None else bool(values[index])
    return Incident(*values)


def _db_value(value: Any) -> Any:
    return to_db(value) if isinstance(value, datetime) else value


def incident_json(incident: Incident) -> dict[str, Any]:
    """The audit/JSON form: the key plus every field, times in ISO-8601 UTC."""
    data = {"key": incident.key, **dataclasses.asdict(incident)}
    for name, value in data.items():
        if isinstance(value, datetime):
            data[name] = to_db(value)
    return data


# PostgreSQL's search: the incidents' generated tsvector (store/pg/migrations/0001_schema.sql)
# against the words typed, each a prefix (store/pg/search.py).
PG_SEARCH = "search @@ to_tsquery('simple', ?)"


def fts_query(text: str) -> str:
    """What a person typed as an FTS5 query: every word must appear, each as a word prefix
    ("disk ful" finds "Disk full"). Words are quoted, so FTS5 syntax in the input (AND,
    NEAR, column filters, quotes) is only ever text; input without words matches nothing."""
    words = WORD.findall(text)
    if not words:
        return '""'
    return " ".join(f'"{word}"*' for word in words[:MAX_SEARCH_WORDS])


def _order_by(order: IncidentOrder, pg: bool = False) -> str:
    """The ORDER BY terms of `order`. PostgreSQL has no NOCASE collation: its title term
    is lower(title) (ASCII folding under the "C" collation, NOCASE's order), which its
    index incidents_by_title is built on (store/pg/migrations/0001_schema.sql)."""
    if order.by not in SORT_TERMS:
        raise InvalidOperation(
            f"cannot sort incidents by {order.by!r} (one of: {', '.join(INCIDENT_SORTS)})"
        )
    if order.by == "key":
        return "id DESC" if order.descending else "id"
    terms = [*SORT_TERMS[order.by], "id DESC"]
    if pg:
        terms = [PG_SORT_TERMS.get(term, term) for term in terms]
    if order.descending:
        terms = [t.removesuffix(" DESC") if t.endswith(" DESC") else f"{t} DESC" for t in terms]
    return ", ".join(terms)


def _words_only(where: IncidentFilter) -> bool:
    """A search for words (not a key) and nothing else: every incident that matches."""
    text = (where.search or "").strip()
    return bool(text) and search_key(text) is None and where == IncidentFilter(search=where.search)


def _table(where: IncidentFilter, clauses: str, order: IncidentOrder, pg: bool) -> str:
    """The table with the index a window should walk, whatever the planner's statistics
    say. The open queue (a few thousand rows of a million) reads its own small index and
    sorts those rows; every incident, or every one matching some words, walks the order's
    own index and stops at the window's end; other filters are left to the planner.
    PostgreSQL has no INDEXED BY: its planner picks from its statistics."""
    if pg:
        return "incidents"
    if OPEN_SQL in clauses:
        return "incidents INDEXED BY incidents_open_urgency"
    if (not clauses or _words_only(where)) and order.by in SORT_INDEX:
        return f"incidents INDEXED BY {SORT_INDEX[order.by]}"
    return "incidents"


def _ids_first(clauses: str, order_by: str) -> str:
    """PostgreSQL's window past the first page: the window's ids first, then only those
    rows. OFFSET fetches every row it skips on PostgreSQL (SQLite steps over index
    entries), so the page at offset 499,900 of 1,000,000 incidents took 120-640 ms by
    sort (title worst); the id query walks the sort's index without visiting the table
    (an index-only scan: 0001_schema.sql covers the columns of the expression sorts),
    then 100 rows are fetched by key: 15-33 ms. The open queue's deep pages gain too
    (20-49 ms to 12-20 at offset 9,560). Same rows, same order: the ORDER BY terms end in
    the id, so the window is one and the same whichever way it is read."""
    return (
        f"SELECT {COLUMNS} FROM incidents WHERE id IN (SELECT id FROM incidents {clauses}"
        f" ORDER BY {order_by} LIMIT ? OFFSET ?) ORDER BY {order_by}"
    )


def _check_text(name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise InvalidOperation(f"{name} is {len(value):,} characters; the limit is {limit:,}")


class Incidents:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._pg = db.dialect == "postgres"

    async def create(
        self,
        actor: Actor,
        new: NewIncident,
        now: datetime,
        *,
        response_due: datetime | None = None,
        resolve_due: datetime | None = None,
        detail: str = "",
    ) -> Incident:
        """A new incident; `detail` is what its "created" timeline event says beyond that
        (which alert opened it, say)."""
        if not new.title.strip():
            raise InvalidOperation("an incident needs a title")
        _check_text("title", new.title, TITLE_LIMIT)
        _check_text("description", new.description, TEXT_LIMIT)
        _check_text("detail", detail, TEXT_LIMIT)
        async with self._db.write(actor, "engineer", "creating an incident", now) as tx:
            stamp = to_db(now)
            try:
                cursor = await tx.execute(
                    "INSERT INTO incidents (title, description, service, impact, urgency, priority,"
                    " state, assignee, reporter, source, dedup_key, created_at, updated_at,"
                    " updated_by, response_due, resolve_due)"
                    " VALUES (?, ?, ?, ?, ?, ?, 'new', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (
                        new.title, new.description, new.service, new.impact, new.urgency,
                        new.priority, new.assignee, actor.login, new.source, new.dedup_key,
                        stamp, stamp, actor.login, _db_value(response_due), _db_value(resolve_due),
                    ),
                )  # fmt: skip
            except sqlite3.IntegrityError as exc:
                raise InvalidOperation(f"incident refused: {exc}") from None
            incident = await self._fetch(tx.conn, await returned_id(cursor))
            created = IncidentEvent(now, actor.login, "created", "new", detail)
            await self._event(tx, incident.id, created)
            await tx.audit(
                "incident.create", "incident", incident.key, None, incident_json(incident)
            )
        return incident

    async def apply(
        self,
        actor: Actor,
        key: str,
        expected_version: int,
        changes: dict[str, Any],
        event: IncidentEvent,
        action: str,
        now: datetime,
        *,
        via: str | None = None,
    ) -> Incident:
        """Change fields of one incident if nobody changed it since `expected_version`;
        `via` (an acknowledgement link, say) is recorded in the audit row."""
        unknown = set(changes) - CHANGEABLE
        if unknown:
            raise InvalidOperation(f"cannot change {', '.join(sorted(unknown))} of an incident")
        incident_id = parse_key(key)
        async with self._db.write(actor, "engineer", action.replace(".", " "), now) as tx:
            before = await self._fetch(tx.conn, incident_id)
            if before.version != expected_version:
                raise changed_meanwhile(
                    before.key, before.updated_by, to_db(before.updated_at),
                    expected_version, before.version,
                )  # fmt: skip
            values = {column: _db_value(value) for column, value in changes.items()}
            try:
                await tx.update_versioned("incidents", incident_id, expected_version, values)
            except sqlite3.IntegrityError as exc:
                if "dedup_key" not in str(exc):
                    raise
                raise InvalidOperation(
                    f"{before.key} cannot be open again: another open incident already"
                    f" follows the same alert ({before.source}, {before.dedup_key})"
                ) from None
            after = await self._fetch(tx.conn, incident_id)
            await self._event(tx, incident_id, event)
            old, new = incident_json(before), incident_json(after)
            changed = [k for k in new if old[k] != new[k]]
            extra = {} if via is None else {"via": via}
            await tx.audit(
                action,
                "incident",
                after.key,
                {k: old[k] for k in changed},
                {**{k: new[k] for k in changed}, **extra},
            )
        return after

    async def add_note(self, actor: Actor, key: str, text: str, now: datetime) -> IncidentEvent:
        """Append a note to the timeline. Notes never conflict, so no version is needed."""
        if not text.strip():
            raise InvalidOperation("a note needs some text")
        _check_text("note", text, TEXT_LIMIT)
        incident_id = parse_key(key)
        event = IncidentEvent(now, actor.login, "note", None, text)
        async with self._db.write(actor, "engineer", "adding a note", now) as tx:
            incident = await self._fetch(tx.conn, incident_id)
            await self._event(tx, incident_id, event)
            await tx.audit("incident.note", "incident", incident.key, None, {"note": text})
        return event

    async def log(self, actor: Actor, key: str, kind: str, detail: str, now: datetime) -> None:
        """A timeline line the system writes about an incident (who was paged how); no
        version, no audit row: the change that caused it has one."""
        async with self._db.observe() as conn:
            await conn.execute(
                "INSERT INTO incident_events (incident_id, at, actor, kind, state, detail)"
                " VALUES (?, ?, ?, ?, NULL, ?)",
                (parse_key(key), to_db(now), actor.login, kind, detail[:TEXT_LIMIT]),
            )

    async def _event(self, tx: Transaction, incident_id: int, event: IncidentEvent) -> None:
        await tx.execute(
            "INSERT INTO incident_events (incident_id, at, actor, kind, state, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (incident_id, to_db(event.at), event.actor, event.kind, event.state, event.detail),
        )

    async def events(self, key: str) -> list[IncidentEvent]:
        sql = (
            "SELECT at, actor, kind, state, detail FROM incident_events WHERE incident_id = ?"
            " ORDER BY id"
        )
        async with self._db.conn.execute(sql, (parse_key(key),)) as cursor:
            rows = await cursor.fetchall()
        return [IncidentEvent(from_db(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    async def get(self, key: str) -> Incident:
        return await self._fetch(self._db.conn, parse_key(key))

    async def _fetch(self, conn: Any, incident_id: int) -> Incident:
        async with conn.execute(
            f"SELECT {COLUMNS} FROM incidents WHERE id = ?", (incident_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"INC-{incident_id}: no such incident")
        return _incident(row)

    async def recent(self, limit: int = 50) -> list[Incident]:
        """The most recently created incidents, newest first."""
        sql = f"SELECT {COLUMNS} FROM incidents ORDER BY id DESC LIMIT ?"
        async with self._db.conn.execute(sql, (limit,)) as cursor:
            return [_incident(row) for row in await cursor.fetchall()]

    async def find(
        self,
        where: IncidentFilter,
        limit: int = 100,
        offset: int = 0,
        order: IncidentOrder = URGENT_FIRST,
    ) -> list[Incident]:
        """One window of the incidents matching `where`, in `order`. The default, urgency,
        is earliest SLA due time first (breached ones are the earliest), then those without
        a running clock, newest first; it and most other orders walk an index, so a window
        costs about its own size (deep windows of a text sort cost a scan). Triage is
        read bucket by bucket (see `_find_triage`), unless a search already narrows the
        rows to sort (its word set is then built once, not once per bucket)."""
        if order.by == "triage" and not (where.search and where.search.strip()):
            return await self._find_triage(where, limit, max(offset, 0), order.descending)
        clauses, params = self._where(where)
        sql = (
            f"SELECT {COLUMNS} FROM {_table(where, clauses, order, self._pg)} {clauses}"
            f" ORDER BY {_order_by(order, self._pg)} LIMIT ? OFFSET ?"
        )
        if self._pg and offset > 0:
            sql = _ids_first(clauses, _order_by(order, self._pg))
        window = (*params, limit, max(offset, 0))
        async with self._searching(where) as conn, conn.execute(sql, window) as cursor:
            return [_incident(row) for row in await cursor.fetchall()]

    @asynccontextmanager
    async def _searching(self, where: IncidentFilter) -> AsyncIterator[Any]:
        """The connection a read runs on: a search (text typed into the filter) on the
        store's search connection, where the next keystroke can interrupt it; anything
        else on the main one."""
        if not (where.search and where.search.strip()):
            yield self._db.conn
            return
        conn = await self._db.searcher()
        try:
            yield conn
        except sqlite3.OperationalError as exc:
            if "interrupt" in str(exc).lower():
                raise SearchInterrupted("a newer search replaced this one") from None
            raise

    async def _find_triage(
        self, where: IncidentFilter, limit: int, offset: int, descending: bool
    ) -> list[Incident]:
        """The triage order without sorting every open incident for each window: it is
        eight buckets (P1 new, P1 acknowledged or later, P2 new, ...), each found by the
        (state, priority) index and sorted by SLA clock on its own. One grouped count says
        which buckets the window falls in; only those are read, so the first page of a
        large queue (P1s and P2s) costs what those few rows cost."""
        found: list[Incident] = []
        for (priority, new), size in await self._triage_buckets(where, descending):
            if len(found) >= limit:
                break
            if offset >= size:
                offset -= size
                continue
            sql, params = self._bucket_sql(where, priority, new, size, descending)
            async with self._db.conn.execute(
                f"{sql} LIMIT ? OFFSET ?", (*params, limit - len(found), offset)
            ) as cursor:
                found += [_incident(row) for row in await cursor.fetchall()]
            offset = 0
        return found

    async def _triage_buckets(
        self, where: IncidentFilter, descending: bool
    ) -> list[tuple[tuple[str, bool], int]]:
        """The non-empty triage buckets, (priority, unacknowledged) with their sizes, in
        triage order (or reversed), from one grouped count."""
        clauses, params = self._where(where)
        # Grouping by the (state, priority) index walks every incident; breaches since
        # some time are a small set the two due-time indexes find at once, then grouped
        # (`+` keeps the planner off the grouping index). The unary `+` on text is SQLite's
        # idiom only: PostgreSQL has no `+ text` operator, and its planner costs the
        # indexes itself.
        unindexed = where.breached_by is not None and not self._pg
        group = "+state, +priority" if unindexed else "state, priority"
        sql = f"SELECT state, priority, count(*) FROM incidents {clauses} GROUP BY {group}"
        sizes: dict[tuple[str, bool], int] = {}
        async with self._db.conn.execute(sql, params) as cursor:
            for state, priority, count in await cursor.fetchall():
                key = (priority, state == "new")
                sizes[key] = sizes.get(key, 0) + count
        buckets = sorted(sizes, key=lambda bucket: (bucket[0], not bucket[1]), reverse=descending)
        return [(bucket, sizes[bucket]) for bucket in buckets]

    def _bucket_sql(
        self, where: IncidentFilter, priority: str, new: bool, size: int, descending: bool
    ) -> tuple[str, list[Any]]:
        """The query for one triage bucket in order (without LIMIT): a small bucket is
        found by (state, priority) and sorted; a large open one is read in order from the
        open SLA index, stopping at the window's end."""
        clauses, params = self._where(where)
        terms = [*SORT_TERMS["triage"][2:], "id DESC"]
        if descending:
            terms = [t.removesuffix(" DESC") if t.endswith(" DESC") else f"{t} DESC" for t in terms]
        state = "state = 'new'" if new else "state <> 'new'"
        narrowed = f"{clauses} AND" if clauses else "WHERE"
        walk = OPEN_SQL in clauses and size > TRIAGE_SORTED
        table = (
            "incidents INDEXED BY incidents_open_urgency" if walk and not self._pg else "incidents"
        )
        sql = (
            f"SELECT {COLUMNS} FROM {table} {narrowed} priority = ? AND {state}"
            f" ORDER BY {', '.join(terms)}"
        )
        return sql, [*params, priority]

    async def each(
        self, where: IncidentFilter, order: IncidentOrder = URGENT_FIRST, chunk: int = 2000
    ) -> AsyncIterator[list[Incident]]:
        """Every incident matching `where`, in `order`, `chunk` at a time: what `incident
        list --limit 0` prints, in memory the size of one chunk whatever the store's size
        (each query runs once; a window of `find` per chunk would re-skip the rows before
        it every time)."""
        if order.by == "triage" and not (where.search and where.search.strip()):
            queries = [
                self._bucket_sql(where, priority, new, size, order.descending)
                for (priority, new), size in await self._triage_buckets(where, order.descending)
            ]
        else:
            clauses, params = self._where(where)
            queries = [
                (
                    f"SELECT {COLUMNS} FROM {_table(where, clauses, order, self._pg)} {clauses}"
                    f" ORDER BY {_order_by(order, self._pg)}",
                    params,
                )
            ]
        async with self._searching(where) as conn:
            for sql, params in queries:
                async with conn.execute(sql, params) as cursor:
                    while rows := await cursor.fetchmany(chunk):
                        yield [_incident(row) for row in rows]

    async def count(self, where: IncidentFilter, at_most: int | None = None) -> int:
        """How many incidents match `where`; with `at_most`, counting a filter's matches
        stops there (a list that says "100 of more than 1,000,000" need not visit every
        match of a broad filter). Every incident is counted exactly: SQLite does that
        without visiting them (PostgreSQL: the number its triggers keep)."""
        clauses, params = self._where(where)
        sql = f"SELECT count(*) FROM incidents {clauses}"
        if self._pg and not clauses:
            # PostgreSQL's count(*) reads every index entry; the database keeps the
            # number in 16 slots instead (0001_schema.sql incidents_total).
            sql = "SELECT coalesce(sum(n), 0)::bigint FROM incidents_total"
        if _words_only(where):
            # Every row of the search index is an incident: count the matches there,
            # without looking each one up.
            if self._pg:
                sql = f"SELECT count(*) FROM incidents WHERE {PG_SEARCH}"
                params = [tsquery_text(where.search or "")]
            else:
                sql = "SELECT count(*) FROM incidents_fts WHERE incidents_fts MATCH ?"
                params = [fts_query(where.search or "")]
        if at_most is not None and clauses:  # (without a filter SQLite counts at once)
            sql = sql.replace("SELECT count(*) FROM", "SELECT 1 FROM", 1)
            sql = f"SELECT count(*) FROM ({sql} LIMIT ?) AS bounded"
            params = [*params, max(at_most, 0)]
        async with self._searching(where) as conn, conn.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    def _where(self, where: IncidentFilter) -> tuple[str, list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        if where.states and set(where.states) == set(OPEN_STATES):
            parts.append(OPEN_SQL)
        elif where.states:
            parts.append(f"state IN ({', '.join('?' for _ in where.states)})")
            params += where.states
        if where.priorities:
            parts.append(f"priority IN ({', '.join('?' for _ in where.priorities)})")
            params += where.priorities
        if where.assignee is not None:
            parts.append("assignee = ?")
            params.append(where.assignee)
        if where.unassigned:
            parts.append("assignee IS NULL")
        if where.breached_at is not None:
            stamp = to_db(where.breached_at)
            parts.append(f"{OPEN_SQL} AND (response_due < ? OR resolve_due < ?)")
            params += [stamp, stamp]
        if where.services:
            parts.append(f"service IN ({', '.join('?' for _ in where.services)})")
            params += where.services
        if where.opened_from is not None:
            parts.append("created_at >= ?")
            params.append(to_db(where.opened_from))
        if where.opened_before is not None:
            parts.append("created_at < ?")
            params.append(to_db(where.opened_before))
        if where.breached_by is not None:
            stamp = to_db(where.breached_by)
            parts.append("(response_due < ? OR resolve_due < ?)")
            params += [stamp, stamp]
        if where.search and where.search.strip():
            key = search_key(where.search)
            if key is not None:
                parts.append("id = ?")
                params.append(key)
            elif self._pg:
                parts.append(PG_SEARCH)
                params.append(tsquery_text(where.search))
            else:
                parts.append("id IN (SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH ?)")
                params.append(fts_query(where.search))
        return ("WHERE " + " AND ".join(parts)) if parts else "", params

    async def stats(self, since: datetime, until: datetime) -> QueueStats:
        """Inputs for MTTA, MTTR, SLA attainment and CSAT over [since, until]: ack times of
        incidents created in the window, resolution times and outcomes of those resolved in
        it. Durations come back as one-minute histograms, read on the second connection."""
        from opsdesk.store.stats_records import Durations, QueueStats

        window = (to_db(since), to_db(until))
        histogram = (
            "SELECT count(*), sum(d) FROM (SELECT (julianday({end}) - julianday(created_at))"
            " * 86400 AS d FROM incidents WHERE {where}) AS spans GROUP BY CAST(d / 60 AS INTEGER)"
            " ORDER BY CAST(d / 60 AS INTEGER)"
        )
        ack_sql = histogram.format(
            end="acknowledged_at",
            where="created_at >= ? AND created_at <= ? AND acknowledged_at IS NOT NULL",
        )
        resolve_sql = histogram.format(
            end="resolved_at", where="resolved_at >= ? AND resolved_at <= ?"
        )
        outcome_sql = (
            "SELECT count(*), coalesce(sum(resolve_met = 1 AND coalesce(response_met, 1) = 1), 0),"
            " coalesce(sum(csat), 0), count(csat) FROM incidents"
            " WHERE resolved_at >= ? AND resolved_at <= ? AND resolve_met IS NOT NULL"
        )
        conn = await self._db.reader()
        try:
            async with conn.execute(ack_sql, window) as cursor:
                acks = Durations(tuple((n, total) for n, total in await cursor.fetchall()))
            async with conn.execute(resolve_sql, window) as cursor:
                resolves = Durations(tuple((n, total) for n, total in await cursor.fetchall()))
            async with conn.execute(outcome_sql, window) as cursor:
                resolved, met, csat_sum, csat_count = await cursor.fetchone() or (0, 0, 0, 0)
        except sqlite3.Error as exc:
            raise StoreError(f"{self._db.path}: reading metrics failed: {exc}") from None
        return QueueStats(since, until, acks, resolves, resolved, met, csat_sum, csat_count)

    async def from_source(self, source: str, dedup_keys: list[str] | None = None) -> list[Incident]:
        """Incidents opened from monitoring `source`, oldest first: every one with the
        given dedup keys whatever its state (an alert that fired again after its incident
        was closed has several; at most one of them is open), or (None) every one still
        open."""
        if dedup_keys is None:
            sql = f"SELECT {COLUMNS} FROM incidents WHERE source = ? AND {OPEN_SQL} ORDER BY id"
            params: tuple[Any, ...] = (source,)
        else:
            marks = ", ".join("?" for _ in dedup_keys) or "NULL"
            sql = (
                f"SELECT {COLUMNS} FROM incidents WHERE source = ? AND dedup_key IN ({marks})"
                " ORDER BY id"
            )
            params = (source, *dedup_keys)
        async with self._db.conn.execute(sql, params) as cursor:
            return [_incident(row) for row in await cursor.fetchall()]

    async def unacknowledged(self, since: datetime, limit: int = 1000) -> list[Incident]:
        """Incidents still new (nobody acknowledged them) created since `since`, oldest
        first: the candidates for escalation."""
        sql = (
            f"SELECT {COLUMNS} FROM incidents WHERE state = 'new' AND created_at >= ?"
            " ORDER BY created_at LIMIT ?"
        )
        async with self._db.conn.execute(sql, (to_db(since), limit)) as cursor:
            return [_incident(row) for row in await cursor.fetchall()]

    async def open_ages(self, now: datetime) -> tuple[int, datetime | None, int]:
        """(open count, oldest open creation time, breached open count)."""
        stamp = to_db(now)
        sql = (
            "SELECT count(*), min(created_at),"
            " coalesce(sum(response_due < ? OR resolve_due < ?), 0)"
            f" FROM incidents WHERE {OPEN_SQL}"
        )
        async with self._db.conn.execute(sql, (stamp, stamp)) as cursor:
            count, oldest, breached = await cursor.fetchone() or (0, None, 0)
        return int(count), maybe_from_db(oldest), int(breached)

    async def count_open_by_priority(self) -> dict[str, int]:
        sql = f"SELECT priority, count(*) FROM incidents WHERE {OPEN_SQL} GROUP BY priority"
        async with self._db.conn.execute(sql) as cursor:
            return {row[0]: row[1] for row in await cursor.fetchall()}

    async def count_by_state(self) -> dict[str, int]:
        async with self._db.conn.execute(
            "SELECT state, count(*) FROM incidents GROUP BY state"
        ) as cur:
            return {row[0]: row[1] for row in await cur.fetchall()}
