"""The fast demo build (issue 15: a million incidents in under 45 s) stores exactly what the
slow, obvious way would: the SLA columns as the domain's clocks compute them, instants as
strftime formats them, and a store like any other (WAL, every index and trigger of the
migrations, a search index and metrics that match the rows)."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from opsdesk.console.config.loader import parse_sources
from opsdesk.console.ops import demo
from opsdesk.console.ops.demo import build_demo
from opsdesk.console.ops.demo_team import demo_config
from opsdesk.store.db import Database
from tests.conftest import FIXED_NOW

# Business hours are America/New_York 09-17 on weekdays, holidays 2026-12-25 and 2027-01-01.
NOWS = [
    FIXED_NOW,  # a Wednesday, in business hours
    datetime(2026, 11, 29, 3, tzinfo=UTC),  # a Sunday night
    datetime(2026, 3, 9, 14, tzinfo=UTC),  # the day after New York moved to summer time
    datetime(2026, 11, 2, 13, tzinfo=UTC),  # the day after it moved back
    datetime(2026, 12, 26, 16, tzinfo=UTC),  # the day after a holiday
    datetime(2027, 1, 1, 15, tzinfo=UTC),  # a holiday, in what would be business hours
    datetime(2026, 7, 3, 20, 59, 59, tzinfo=UTC),  # a second before closing time
]


def _generator(now: datetime, seed: int = 1) -> Any:
    config = parse_sources([("demo config", demo_config("me"))])
    return demo._Generator(config, seed, now, "me")


def _checked(generator: Any) -> Iterator[tuple[Any, ...]]:
    """Each incident's SLA columns from the fast path and from the domain's clocks."""
    fast = generator._sla_columns
    domain = generator._domain_sla_columns

    def both(priority: str, state: str, hold: Any, created: float, *rest: Any) -> Any:
        got = fast(priority, state, hold, created, *rest)
        want = domain(priority, state, hold, int(created), *rest)
        assert got == want, (priority, state, created, rest)
        return got

    generator._sla_columns = both
    return generator.incidents(6000)


@pytest.mark.parametrize("now", NOWS, ids=lambda now: now.strftime("%Y-%m-%dT%H%M%S"))
def test_fast_sla_columns_are_the_domain_clocks(now: datetime) -> None:
    generator = _generator(now, seed=now.day)
    assert generator.fast_sla is not None
    rows = list(_checked(generator))
    # The interesting cases are all there: due times stored, clocks met and breached.
    assert any(row[23] is not None for row in rows) and any(row[24] is not None for row in rows)
    assert {row[25] for row in rows} >= {0, 1} and {row[26] for row in rows} >= {0, 1}
    assert {row[7] for row in rows} >= {"new", "on_hold", "in_progress", "closed"}


def test_a_now_between_seconds_takes_the_domain_path() -> None:
    generator = _generator(FIXED_NOW + timedelta(microseconds=250))
    assert generator.fast_sla is None
    rows = list(generator.incidents(300))
    assert len(rows) == 300


def test_the_fast_path_does_not_fall_back_for_the_demo() -> None:
    generator = _generator(FIXED_NOW)
    calls = 0
    domain = generator._domain_sla_columns

    def counted(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        return domain(*args)

    generator._domain_sla_columns = counted
    assert len(list(generator.incidents(5000))) == 5000
    assert calls == 0


def test_instants_format_as_strftime_does() -> None:
    rng = random.Random(5)
    for index in range(200_000):
        seconds = rng.uniform(0, 4e9) if index % 2 else float(rng.randrange(4_000_000_000))
        expected = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
        assert demo._iso(seconds) == expected


def _schema(path: Path) -> set[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return set(
            conn.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name != 'sqlite_stat1'"
            ).fetchall()
        )
    finally:
        conn.close()


async def _fresh(path: Path) -> None:
    await (await Database.open(path)).close()


def test_a_bulk_built_demo_is_a_store_like_any_other(tmp_path: Path) -> None:
    built, fresh = tmp_path / "demo.db", tmp_path / "fresh.db"
    result = asyncio.run(build_demo(built, incidents=3000, seed=2, now=FIXED_NOW, creator="me"))
    asyncio.run(_fresh(fresh))
    # Every index and trigger the migrations make, recreated word for word.
    assert _schema(built) == _schema(fresh)
    assert {"generate", "insert_incidents", "insert_events", "fts_rebuild"} <= set(result.phases)
    assert any(name.startswith("index:") for name in result.phases)
    assert not list(tmp_path.glob(".demo.db.building-*"))
    conn = sqlite3.connect(built)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.execute("INSERT INTO incidents_fts (incidents_fts) VALUES ('integrity-check')")
        # The search index finds what the rows hold.
        titles = conn.execute(
            "SELECT count(*) FROM incidents WHERE title LIKE '%webhook%'"
        ).fetchone()[0]
        found = conn.execute(
            "SELECT count(*) FROM incidents_fts WHERE incidents_fts MATCH 'title:webhook'"
        ).fetchone()[0]
        assert titles == found > 0
        _timelines_follow_the_incidents(conn)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        if "metrics_outcomes" in tables:  # schema 13: rebuilt after the load
            resolved = conn.execute(
                "SELECT count(*) FROM incidents WHERE resolved_at IS NOT NULL"
                " AND resolve_met IS NOT NULL"
            ).fetchone()[0]
            counted = conn.execute("SELECT sum(resolved) FROM metrics_outcomes").fetchone()[0]
            assert counted == resolved > 0
    finally:
        conn.close()


def _timelines_follow_the_incidents(conn: sqlite3.Connection) -> None:
    """Each incident's timeline: created, then acknowledged, in progress or on hold,
    resolved and closed as its columns say, in time order, by its people."""
    events: dict[int, list[tuple[Any, ...]]] = {}
    for row in conn.execute(
        "SELECT incident_id, at, actor, kind, state, detail FROM incident_events ORDER BY id"
    ):
        events.setdefault(row[0], []).append(row[1:])
    incidents = conn.execute(
        "SELECT id, created_at, acknowledged_at, resolved_at, closed_at, state, hold_reason,"
        " assignee, reporter, updated_at, resolution_code, resolution_note FROM incidents"
    ).fetchall()
    assert len(events) == len(incidents)
    for (
        number,
        created,
        acked,
        resolved,
        closed,
        state,
        hold,
        assignee,
        reporter,
        *rest,
    ) in incidents:
        updated, code, note = rest
        actor = assignee or reporter
        expected = [(created, reporter, "created", "new", "")]
        if acked:
            expected.append((acked, actor, "state", "acknowledged", ""))
        if state in ("in_progress", "on_hold"):
            expected.append((updated, actor, "state", state, hold or ""))
        if resolved:
            expected.append((resolved, actor, "state", "resolved", f"{code}: {note}"))
        if closed:
            expected.append((closed, actor, "state", "closed", ""))
        assert events[number] == expected
        assert [e[0] for e in expected] == sorted(e[0] for e in expected)
