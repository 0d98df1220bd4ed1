"""The queue over every incident on PostgreSQL (issue 20): the count the database keeps
(0001_schema.sql incidents_total, read by store/incidents.py Incidents.count), exact
across inserts, deletes, a rollback, writers on several connections and `store copy`;
and the pages past the first read ids first (store/incidents.py _ids_first), which must
be exactly the rows the plain query gives, in every sort, both ways, with filters, and
the rows SQLite gives for the same store."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from opsdesk.store.copy import copy_store
from opsdesk.store.incidents import OPEN_STATES
from opsdesk.store.records import (
    INCIDENT_SORTS,
    Actor,
    IncidentFilter,
    IncidentOrder,
    NewIncident,
)
from opsdesk.store.store import Store
from tests.conftest import FIXED_NOW
from tests.pg_cluster import PgCluster

AT = "2026-12-01T10:00:00Z"
AUDIT = (
    "INSERT INTO audit (at, actor, action, entity, entity_key, before, after)"
    f" VALUES ('{AT}', 'x', 'test.write', 'test', 'TEST-1', NULL, '{{}}')"
)


def insert(rows: int, title: str = "disk full") -> str:
    """One statement inserting `rows` incidents."""
    return (
        "INSERT INTO incidents (title, service, impact, urgency, priority, state, reporter,"
        f" created_at, updated_at, updated_by) SELECT '{title} ' || g, 'web', 2, 2, 'P3',"
        f" 'new', 'x', '{AT}', '{AT}', 'x' FROM generate_series(1, {rows}) AS g"
    )


def write(conn: psycopg.Connection[Any], *statements: str) -> None:
    """Statements and an audit row in one committed transaction (0002_security.sql
    refuses a change to incidents without one)."""
    with conn.transaction():
        for statement in statements:
            conn.execute(statement)
        conn.execute(AUDIT)


def exact(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM incidents").fetchone()
    assert row is not None
    return int(row[0])


async def counted(url: str, where: IncidentFilter | None = None) -> int:
    store = await Store.open(url)
    try:
        return await store.incidents.count(where or IncidentFilter())
    finally:
        await store.close()


@pytest.fixture
def pg(pg_database: str) -> Iterator[psycopg.Connection[Any]]:
    """The database migrated (by opening it), and a superuser connection to it."""
    asyncio.run(counted(pg_database))
    with psycopg.connect(pg_database, autocommit=True) as conn:
        yield conn


# -- the count of every incident -----------------------------------------------------------


def test_the_count_of_every_incident_stays_exact(
    pg: psycopg.Connection[Any], pg_database: str
) -> None:
    def agree(expected: int) -> None:
        assert exact(pg) == expected
        assert asyncio.run(counted(pg_database)) == expected

    agree(0)
    write(pg, insert(250))  # one statement, many rows
    agree(250)
    write(pg, insert(3), insert(4))  # two statements of one transaction
    agree(257)
    pg.execute("BEGIN")
    pg.execute(insert(40))
    assert pg.execute("SELECT sum(n) FROM incidents_total").fetchone() == (297,)  # its own
    assert asyncio.run(counted(pg_database)) == 257  # others': not committed
    pg.execute("ROLLBACK")
    agree(257)  # rolled back with its rows
    write(pg, "DELETE FROM incidents WHERE id % 10 = 0")
    agree(232)
    write(pg, "DELETE FROM incidents WHERE id < 0")  # deletes nothing
    agree(232)

    # Through the store, as a console creates one.
    async def create() -> None:
        store = await Store.open(pg_database)
        try:
            new = NewIncident("card auth failing", "payments", 1, 1, "P1")
            await store.incidents.create(Actor("x"), new, FIXED_NOW)
        finally:
            await store.close()

    asyncio.run(create())
    agree(233)
    # A filter is still counted from the rows.
    open_count = asyncio.run(counted(pg_database, IncidentFilter(states=OPEN_STATES)))
    assert open_count == 233
    # An owner's TRUNCATE (nobody else may) empties the count too.
    pg.execute("TRUNCATE incidents CASCADE")
    agree(0)


def test_writers_on_other_connections_each_move_a_slot_and_the_sum_is_exact(
    pg: psycopg.Connection[Any], pg_database: str
) -> None:
    """Eight connections (eight backends, so several slots) inserting and deleting, two
    of them inside transactions still open while the others commit."""
    # A wait on a lock fails (after 5 s) instead of hanging this one thread.
    others = [psycopg.connect(pg_database, options="-c lock_timeout=5s") for _ in range(8)]
    try:
        for n, conn in enumerate(others, start=1):
            write(conn, insert(n, f"from {n}"))
        assert exact(pg) == 36
        # Two writers on different slots (on one slot the second would wait for the
        # first's commit, which this single thread would never get to).
        first = others[0]
        second = next(c for c in others if c.info.backend_pid % 16 != first.info.backend_pid % 16)
        first.execute(insert(5))
        first.execute(AUDIT)
        # Not waiting for `first` (its audit row, appended to the one chain, would be
        # waited for: `second` writes its own once `first` commits).
        second.execute("DELETE FROM incidents WHERE title LIKE 'from 8 %'")  # 8 rows
        assert asyncio.run(counted(pg_database)) == 36  # neither has committed
        first.commit()
        assert asyncio.run(counted(pg_database)) == 41
        second.execute(AUDIT)
        second.commit()
        assert asyncio.run(counted(pg_database)) == 33 == exact(pg)
        slots = pg.execute("SELECT count(*) FROM incidents_total WHERE n <> 0").fetchone()
        assert slots is not None and slots[0] > 1  # spread over several slots
    finally:
        for conn in others:
            conn.close()


def test_the_count_comes_from_the_slots_the_triggers_move(
    pg: psycopg.Connection[Any], pg_database: str
) -> None:
    """The check above can fail: with the trigger off, the store's count is not the rows'."""
    write(pg, insert(10))
    pg.execute("ALTER TABLE incidents DISABLE TRIGGER incidents_total_insert")
    write(pg, insert(5))
    assert exact(pg) == 15
    assert asyncio.run(counted(pg_database)) == 10


def test_an_engineer_reads_the_count_but_cannot_move_it(
    pg: psycopg.Connection[Any], pg_cluster: PgCluster, pg_database: str
) -> None:
    """Creating incidents moves it (the trigger function runs as the owner); writing it
    directly is refused."""
    name = pg_database.split("/")[3].split("?")[0]
    pg_cluster.create_role("count_engineer", member_of=["opsdesk_engineer"])
    with psycopg.connect(pg_cluster.url(name, user="count_engineer")) as ana:
        write(ana, insert(2))
        assert asyncio.run(counted(pg_cluster.url(name, user="count_engineer"))) == 2
        for attempt in (
            "UPDATE incidents_total SET n = n + 100",
            "INSERT INTO incidents_total VALUES (16, 1)",
            "DELETE FROM incidents_total",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                ana.execute(attempt)
            ana.rollback()
    assert asyncio.run(counted(pg_database)) == 2


def test_store_copy_sets_the_count_and_vacuums_what_it_loaded(
    demo_store: Path, pg_cluster: PgCluster, pg_database: str
) -> None:
    """SQLite to PostgreSQL, then PostgreSQL to PostgreSQL (the source's slots are not
    copied: the target sets its own), each target's count exact, its tables vacuumed
    (so index-only scans need not visit the table) and analysed."""
    report = copy_store(demo_store, pg_database)
    assert report.ok
    assert "incidents_total" not in {t.table for t in report.tables}
    with psycopg.connect(pg_database, autocommit=True) as conn:
        assert exact(conn) == 300
        assert asyncio.run(counted(pg_database)) == 300
        done = conn.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE relname IN ('incidents', 'audit')"
            " AND last_vacuum IS NOT NULL AND last_analyze IS NOT NULL ORDER BY 1"
        ).fetchall()
        assert done == [("audit",), ("incidents",)]
        # Every page visible to all (0 until a VACUUM after the load, and still 0 if it
        # runs before the load's commit is flushed: index-only scans visit the table).
        visible = conn.execute(
            "SELECT relname, relallvisible = relpages AND relpages > 0 FROM pg_class"
            " WHERE relname IN ('incidents', 'audit') ORDER BY 1"
        ).fetchall()
        assert visible == [("audit", True), ("incidents", True)]
        # Writes after the copy move it from there.
        write(conn, insert(7))
    assert asyncio.run(counted(pg_database)) == 307

    other = pg_cluster.create_database()
    try:
        target = pg_cluster.url(other)
        report = copy_store(pg_database, target)
        assert report.ok
        with psycopg.connect(target) as conn:
            assert exact(conn) == 307
            slots = conn.execute("SELECT slot, n FROM incidents_total WHERE n <> 0").fetchall()
            assert slots == [(0, 307)]
        assert asyncio.run(counted(target)) == 307
    finally:
        pg_cluster.drop_database(other)


# -- pages past the first, ids first -------------------------------------------------------

FILTERS = {
    "every": IncidentFilter(),
    "open": IncidentFilter(states=OPEN_STATES),
    "urgent open": IncidentFilter(states=OPEN_STATES, priorities=("P1", "P2")),
    "closed since": IncidentFilter(
        states=("resolved", "closed"), opened_from=FIXED_NOW - timedelta(days=20)
    ),
    "unassigned": IncidentFilter(unassigned=True),
    "words": IncidentFilter(search="payments"),
    "breached": IncidentFilter(breached_by=FIXED_NOW),
}
WINDOW = 23
OFFSETS = (1, 22, 97, 150, 299)


async def pages(
    url: str, where: IncidentFilter, order: IncidentOrder
) -> tuple[list[int], dict[int, list[int]]]:
    """Every matching id in `order` (one window from 0: the plain query), and the window
    of ids at each of OFFSETS."""
    store = await Store.open(url)
    try:
        everything = [i.id for i in await store.incidents.find(where, 10_000, 0, order)]
        windows = {
            offset: [i.id for i in await store.incidents.find(where, WINDOW, offset, order)]
            for offset in OFFSETS
        }
    finally:
        await store.close()
    return everything, windows


@pytest.fixture
def copied(demo_store: Path, pg_database: str) -> str:
    """The demo store (300 incidents) copied into PostgreSQL."""
    assert copy_store(demo_store, pg_database).ok
    return pg_database


@pytest.mark.parametrize("by", INCIDENT_SORTS)
def test_pages_read_ids_first_are_the_plain_querys_rows_and_sqlites(
    demo_store: Path, copied: str, by: str
) -> None:
    for descending in (False, True):
        order = IncidentOrder(by, descending)
        for name, where in FILTERS.items():
            everything, windows = asyncio.run(pages(copied, where, order))
            lite_everything, lite_windows = asyncio.run(pages(str(demo_store), where, order))
            assert everything == lite_everything, (by, descending, name)
            assert len(set(everything)) == len(everything)
            if name == "every":  # windows that are not empty, deep in the order
                assert len(everything) == 300
            for offset, window in windows.items():
                assert window == everything[offset : offset + WINDOW], (offset, name, order)
                assert window == lite_windows[offset], (offset, name, order)
