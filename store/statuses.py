"""Status of each configured source as the poller last saw it, its level history, and
the claims that make several consoles poll a source once per interval between them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from opsdesk.store.db import Database
from opsdesk.store.records import LevelChange, Outcome, SourceState
from opsdesk.store.timefmt import maybe_from_db, to_db

COLUMNS = (
    "source, level, summary, report, error, checked_at, last_ok_at, level_since, failures,"
    " validators, next_due"
)


_ENCODE = json.JSONEncoder(default=str).encode
"""`json.dumps(report, default=str)`, without making an encoder for every report."""


def _state(row: Any) -> SourceState:
    return SourceState(
        source=row[0], level=row[1], summary=row[2],
        report=json.loads(row[3]) if row[3] else None, error=row[4],
        checked_at=maybe_from_db(row[5]), last_ok_at=maybe_from_db(row[6]),
        level_since=maybe_from_db(row[7]), failures=int(row[8]),
        validators=json.loads(row[9]) if row[9] else {}, next_due=maybe_from_db(row[10]),
    )  # fmt: skip


class SourceStatuses:
    def __init__(self, db: Database) -> None:
        self._db = db
        # Each source's last recorded report and its JSON text: most polls find a page
        # as it was, and the poller then hands over the very same report object, whose
        # text need not be made again (a report is never changed once recorded).
        self._texts: dict[str, tuple[dict[str, Any], str]] = {}

    async def claim(self, sources: dict[str, datetime], owner: str, now: datetime) -> set[str]:
        """Take the next poll of each source (name → claim expiry) that is due and that
        no one else holds, in one transaction; exactly one of several consoles asking at
        once gets each source. One statement per 300 sources, not one per source: each
        await is a trip to the connection's thread (500 of them were ~10 ms a round)."""
        stamp, rows = to_db(now), list(sources.items())
        taken: set[str] = set()
        async with self._db.observe() as conn:
            for start in range(0, len(rows), 300):  # 3 parameters each: under SQLite's 999
                chunk = rows[start : start + 300]
                sql = (
                    "INSERT INTO source_status (source, claimed_by, claimed_until) VALUES "
                    + ", ".join(["(?, ?, ?)"] * len(chunk))
                    + " ON CONFLICT (source) DO UPDATE SET claimed_by = excluded.claimed_by,"
                    " claimed_until = excluded.claimed_until"
                    " WHERE (source_status.claimed_until IS NULL"
                    " OR source_status.claimed_until <= ?)"
                    " AND (source_status.next_due IS NULL OR source_status.next_due <= ?)"
                    " RETURNING source"
                )
                params = [v for source, until in chunk for v in (source, owner, to_db(until))]
                async with conn.execute(sql, [*params, stamp, stamp]) as cursor:
                    taken.update(row[0] for row in await cursor.fetchall())
        return taken

    @asynccontextmanager
    async def round(self) -> AsyncIterator[None]:
        """One transaction for a round of polls and everything done because of it: the
        reports `record` writes and the incidents their alerts open, reopen, note or
        resolve (those writes keep their role check and audit rows) commit together or
        not at all. A report is what the next round compares its alerts with, so it must
        never be stored without what it caused, nor the other way round. Rounds nested
        in a round (one per source, say) are savepoints: each can fail alone."""
        async with self._db.observe():
            yield

    async def record(self, outcomes: list[Outcome]) -> None:
        """What a round of polls found, in one transaction. A report (level given)
        replaces the last good one and adds a history row when the level changed; an
        error keeps the last good report and says why; "not modified" (neither) only
        moves the clocks on. Claims are released. One statement per kind of outcome for
        the whole round (executemany), not several awaits per source: each await is a
        trip to the connection's thread, and 500 sources made ~2,000 of them (46 ms of
        a round's CPU; then 12). Statements with nothing to do are not sent, rows are
        inserted only for sources that have none, and a report object recorded again
        (the poller hands back the same one for a page as it was) keeps the JSON text
        made of it the first time: ~5 ms for a round of 500 unchanged reports."""
        if not outcomes:
            return
        release = "claimed_by = NULL, claimed_until = NULL, next_due = ?"
        failed, unchanged, reports = [], [], []
        for o in outcomes:
            stamp, due = to_db(o.at), to_db(o.next_due)
            if o.error is not None:
                failed.append((o.error, stamp, due, o.source))
            elif o.level is None:
                unchanged.append((stamp, stamp, due, o.source))
            else:
                reports.append((o, stamp, due))
        async with self._db.observe() as conn:
            # Each source's level and last good poll before the round's writes (for the
            # history), which also says which sources have no row yet: only those are
            # inserted (a round's sources were all claimed, so usually none is).
            names = list(dict.fromkeys(o.source for o in outcomes))
            before = await self._levels(conn, names)
            missing = [(name,) for name in names if name not in before]
            if missing:
                await conn.executemany(
                    "INSERT INTO source_status (source) VALUES (?) ON CONFLICT DO NOTHING",
                    missing,
                )
            if failed:
                await conn.executemany(
                    f"UPDATE source_status SET error = ?, checked_at = ?, failures = failures + 1,"
                    f" {release} WHERE source = ?",
                    failed,
                )
            if unchanged:
                await conn.executemany(
                    "UPDATE source_status SET error = NULL, checked_at = ?, last_ok_at = ?,"
                    f" failures = 0, {release} WHERE source = ?",
                    unchanged,
                )
            if not reports:
                return
            rows, history = [], []
            for o, stamp, due in reports:
                was = before.get(o.source)
                changed = was is None or was[0] != o.level or was[1] is None
                rows.append((
                    o.level, o.summary, self._text(o.source, o.report), stamp, stamp,
                    json.dumps(o.validators) if o.validators else "{}", changed, stamp, due,
                    o.source,
                ))  # fmt: skip
                if changed:
                    history.append((o.source, stamp, o.level, o.summary))
            await conn.executemany(
                "UPDATE source_status SET level = ?, summary = ?, report = ?, error = NULL,"
                " checked_at = ?, last_ok_at = ?, failures = 0, validators = ?,"
                # `? = 1`: a flag is sent as the integer 0 or 1 to both backends, and
                # PostgreSQL's CASE wants a boolean.
                f" level_since = CASE WHEN ? = 1 THEN ? ELSE level_since END, {release}"
                " WHERE source = ?",
                rows,
            )
            if history:
                await conn.executemany(
                    "INSERT INTO status_history (source, at, level, summary) VALUES (?, ?, ?, ?)",
                    history,
                )

    def _text(self, source: str, report: dict[str, Any] | None) -> str:
        """`report` as the JSON text stored, made once per report object and source."""
        last = self._texts.get(source)
        if last is not None and last[0] is report:
            return last[1]
        text = _ENCODE(report)
        if report is not None:
            self._texts[source] = (report, text)
        return text

    @staticmethod
    async def _levels(conn: Any, sources: list[str]) -> dict[str, tuple[Any, Any]]:
        """Each source's stored level and last good poll, read before the round's writes."""
        found: dict[str, tuple[Any, Any]] = {}
        for start in range(0, len(sources), 500):  # under SQLite's limit on parameters
            chunk = sources[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT source, level, last_ok_at FROM source_status WHERE source IN ({marks})"
            async with conn.execute(sql, chunk) as cursor:
                for row in await cursor.fetchall():
                    found[row[0]] = (row[1], row[2])
        return found

    async def levels_and_validators(self) -> dict[str, tuple[str | None, dict[str, str]]]:
        """Each source's stored level and conditional-request validators: what a poll
        round needs, without parsing every stored report as `all` does."""
        sql = "SELECT source, level, validators FROM source_status"
        async with self._db.conn.execute(sql) as cursor:
            rows = await cursor.fetchall()
        return {
            row[0]: (row[1], json.loads(row[2]) if row[2] and row[2] != "{}" else {})
            for row in rows
        }

    async def all(self) -> list[SourceState]:
        sql = f"SELECT {COLUMNS} FROM source_status ORDER BY source"
        async with self._db.conn.execute(sql) as cursor:
            return [_state(row) for row in await cursor.fetchall()]

    async def get(self, source: str) -> SourceState | None:
        sql = f"SELECT {COLUMNS} FROM source_status WHERE source = ?"
        async with self._db.conn.execute(sql, (source,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _state(row)

    async def history(self, source: str, since: datetime) -> list[LevelChange]:
        """Level changes of `source` since `since`, plus the one in force at `since`."""
        sql = (
            "SELECT source, at, level, summary FROM status_history WHERE source = ? AND"
            " (at >= ? OR id = (SELECT max(id) FROM status_history WHERE source = ? AND at < ?))"
            " ORDER BY at, id"
        )
        stamp = to_db(since)
        async with self._db.conn.execute(sql, (source, stamp, source, stamp)) as cursor:
            rows = await cursor.fetchall()
        return [LevelChange(r[0], maybe_from_db(r[1]), r[2], r[3]) for r in rows]  # type: ignore[arg-type]
