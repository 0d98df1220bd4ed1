"""The PostgreSQL schema (store/pg/migrations/0001_schema.sql and the schema migrations
after it) against the SQLite one the SQLite migrations leave: the same tables, columns, keys, indexes and triggers; the metrics
aggregates moved exactly as SQLite's triggers move them by the same statements; the
SQLite functions the repositories call giving SQLite's values; the change counters and
their NOTIFY; and the search column finding words by prefix."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from opsdesk.store.incidents import _order_by, fts_query
from opsdesk.store.pg.search import tsquery_text
from opsdesk.store.records import INCIDENT_SORTS, IncidentOrder
from opsdesk.store.store import Store

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "store" / "pg" / "migrations" / "0001_schema.sql"
# The schema: 0001 and the migrations after it, less 0002_security.sql (roles, grants and
# guards; tests/test_pg_security.py applies it).
SCHEMA_FILES = [
    path for path in sorted(SCHEMA.parent.glob("*.sql")) if path.name != "0002_security.sql"
]

# SQLite objects with no namesake on PostgreSQL, and why.
FTS_TABLES = {
    "incidents_fts",  # FTS5 (and its shadow tables): incidents.search + incidents_search
    "incidents_fts_data",
    "incidents_fts_idx",
    "incidents_fts_docsize",
    "incidents_fts_config",
}
NOT_HERE_TRIGGERS = {
    "incidents_fts_insert": "incidents.search is a generated column",
    "incidents_fts_delete": "incidents.search is a generated column",
    "incidents_fts_update": "incidents.search is a generated column",
    "audit_refuses_update": "0002_security.sql guards the audit table",
    "audit_refuses_delete": "0002_security.sql guards the audit table",
}
COUNTERS_VIEW = "change_counts"  # a view over one sequence per table on PostgreSQL
PG_ONLY_COLUMNS = {("incidents", "search")}
# incidents_open_by_key: the open queue by key (SQLite sorts incidents_open_urgency's rows).
PG_ONLY_INDEXES = {"incidents_search", "incidents_open_by_key"}
# change_counts_move: UPDATE change_counts moves the sequences. incidents_total_*: the
# number of incidents, kept in its own table (SQLite counts a whole table at once).
PG_ONLY_TRIGGERS = {
    "change_counts_move": COUNTERS_VIEW,
    "incidents_total_insert": "incidents",
    "incidents_total_delete": "incidents",
    "incidents_total_truncate": "incidents",
}
PG_ONLY_TABLES = {"incidents_total"}
PG_BOOKKEEPING = {"opsdesk_schema_migrations"}


# -- fixtures ----------------------------------------------------------------------------


def apply_schema(url: str) -> psycopg.Connection[Any]:
    """`url`'s database with the schema applied as store/pg/db.py applies it (one
    transaction, as opsdesk_owner, the file sent whole); an open connection to it."""
    conn = psycopg.connect(url, autocommit=True)
    with conn.transaction():
        conn.execute("SET LOCAL ROLE opsdesk_owner")
        for path in SCHEMA_FILES:
            conn.execute(path.read_bytes())
    return conn


@pytest.fixture
def pg(pg_database: str) -> Iterator[psycopg.Connection[Any]]:
    conn = apply_schema(pg_database)
    with conn:
        yield conn


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A SQLite store as opsdesk makes it (every migration applied), opened raw."""
    path = tmp_path / "store.db"

    async def make() -> None:
        store = await Store.open(str(path))
        await store.close()

    asyncio.run(make())
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    yield conn
    conn.close()


# -- the same schema -------------------------------------------------------------------


def sqlite_shape(conn: sqlite3.Connection) -> dict[str, Any]:
    tables = {
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    } - FTS_TABLES
    columns = {
        t: [(r[1], bool(r[3]) or bool(r[5])) for r in conn.execute(f"PRAGMA table_info({t})")]
        for t in tables
    }
    indexes = {
        name: (table, bool(unique), partial)
        for t in tables
        for (_, name, unique, origin, partial) in conn.execute(f"PRAGMA index_list({t})")
        for table in [t]
        if origin == "c"  # created by CREATE INDEX, not a key's own index
    }
    triggers = {
        name: table
        for name, table in conn.execute(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'"
        )
    }
    foreign = {
        (t, r[3], r[2], r[4], r[6])  # (table, column, references, its column, on delete)
        for t in tables
        for r in conn.execute(f"PRAGMA foreign_key_list({t})")
    }
    return {
        "tables": tables,
        "columns": columns,
        "indexes": indexes,
        "triggers": triggers,
        "foreign": foreign,
    }


def pg_shape(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    tables = (
        {
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        }
        - PG_BOOKKEEPING
        - PG_ONLY_TABLES
    )
    columns: dict[str, list[tuple[str, bool]]] = {t: [] for t in tables}
    for table, column, notnull in conn.execute(
        "SELECT c.relname, a.attname, a.attnotnull FROM pg_attribute a"
        " JOIN pg_class c ON c.oid = a.attrelid"
        " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'"
        " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum"
    ):
        if table in columns and (table, column) not in PG_ONLY_COLUMNS:
            columns[table].append((column, notnull))
    indexes = {
        name: (table, unique, partial)
        for name, table, unique, partial in conn.execute(
            "SELECT i.relname, t.relname, x.indisunique, x.indpred IS NOT NULL FROM pg_index x"
            " JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid"
            " WHERE t.relnamespace = current_schema()::regnamespace"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)"
        )
        if name not in PG_ONLY_INDEXES
    }
    triggers = {
        name: table
        for name, table in conn.execute(
            "SELECT g.tgname, c.relname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid"
            " WHERE NOT g.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
        )
    }
    actions = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL"}
    foreign = {
        (table, column, ref, ref_column, actions[action])
        for table, column, ref, ref_column, action in conn.execute(
            "SELECT c.relname, a.attname, r.relname, ra.attname, k.confdeltype"
            " FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
            " JOIN pg_class r ON r.oid = k.confrelid"
            " JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]"
            " JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[1]"
            " WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace"
        )
    }
    return {
        "tables": tables,
        "columns": columns,
        "indexes": indexes,
        "triggers": triggers,
        "foreign": foreign,
    }


def test_every_table_column_index_trigger_and_key_of_sqlite_has_its_counterpart(
    pg: psycopg.Connection[Any], lite: sqlite3.Connection
) -> None:
    want, got = sqlite_shape(lite), pg_shape(pg)
    assert got["tables"] == want["tables"] - {COUNTERS_VIEW}
    views = pg.execute(
        "SELECT viewname FROM pg_views WHERE schemaname = current_schema()"
    ).fetchall()
    assert views == [(COUNTERS_VIEW,)]
    for table in got["tables"]:
        assert got["columns"][table] == want["columns"][table], table
    assert got["indexes"] == want["indexes"]
    expected_triggers = {n: t for n, t in want["triggers"].items() if n not in NOT_HERE_TRIGGERS}
    expected_triggers.update(PG_ONLY_TRIGGERS)
    assert got["triggers"] == expected_triggers
    assert got["foreign"] == want["foreign"]
    # The rows the migrations insert.
    for sql in ("SELECT name, n FROM change_counts ORDER BY name", "SELECT * FROM banner"):
        assert list(pg.execute(sql)) == list(lite.execute(sql)), sql


def test_the_shape_check_fails_on_a_missing_index(
    pg: psycopg.Connection[Any], lite: sqlite3.Connection
) -> None:
    pg.execute("DROP INDEX incidents_by_age")
    assert pg_shape(pg)["indexes"] != sqlite_shape(lite)["indexes"]


def test_checks_and_keys_refuse_what_sqlite_refuses(
    pg: psycopg.Connection[Any], lite: sqlite3.Connection
) -> None:
    incident = (
        "INSERT INTO incidents (id, title, service, impact, urgency, priority, state, reporter,"
        " created_at, updated_at, updated_by) VALUES (1, 't', 's', 1, 1, {p!r}, 'new', 'me',"
        " '2026-12-01T10:00:00Z', '2026-12-01T10:00:00Z', 'me')"
    )
    refused = [
        incident.format(p="P9"),
        "INSERT INTO banner (id) VALUES (2)",
        "INSERT INTO changes (title, type, risk, planned_start, planned_end, requester, state,"
        " created_at, updated_at, updated_by) VALUES ('c', 'normal', 'low',"
        " '2026-12-02T00:00:00Z', '2026-12-01T00:00:00Z', 'me', 'draft', 'x', 'x', 'me')",
        "INSERT INTO incident_events (incident_id, at, actor, kind) VALUES (99, 'x', 'me', 'k')",
        "INSERT INTO action_items (title, type, owner, created_at, created_by, updated_at,"
        " updated_by) VALUES ('a', 'prevent', 'me', 'x', 'me', 'x', 'me')",
    ]
    for sql in refused:
        with pytest.raises(sqlite3.IntegrityError):
            lite.execute(sql)
        with pytest.raises(psycopg.errors.IntegrityError), pg.transaction():
            pg.execute(sql)
    # Explicit ids are insertable (store copy, the demo builder); whoever inserts them
    # moves the identity past them (setval), as SQLite's rowid moves by itself.
    for conn in (lite, pg):
        conn.execute(incident.format(p="P1").replace("(1, 't'", "(41, 't'"))
    pg.execute("SELECT setval(pg_get_serial_sequence('incidents', 'id'), max(id)) FROM incidents")
    default_id = incident.format(p="P2").replace("(id, ", "(").replace("(1, 't'", "('t'")
    for conn in (lite, pg):
        conn.execute(default_id)
    sql = "SELECT id, priority FROM incidents ORDER BY id"
    assert list(pg.execute(sql)) == list(lite.execute(sql)) == [(41, "P1"), (42, "P2")]


# -- the metrics aggregates ------------------------------------------------------------

DAY0 = datetime(2026, 11, 1, tzinfo=UTC)
COLUMNS = (
    "title, service, impact, urgency, priority, state, reporter, created_at, updated_at,"
    " updated_by, acknowledged_at, resolved_at, response_met, resolve_met, csat"
)


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def metric_statements(seed: int, count: int) -> list[tuple[str, tuple[Any, ...]]]:
    """Inserts, updates (acknowledge, resolve, reopen, CSAT, outcome, a moved creation
    time, several rows at once, a no-op) and deletes of incidents, with `?` parameters."""
    rng = random.Random(seed)
    statements: list[tuple[str, tuple[Any, ...]]] = []
    ids: list[int] = []
    next_id = 1

    def when(hours: float = 24 * 10) -> datetime:
        return DAY0 + timedelta(seconds=rng.randint(0, int(hours * 3600)))

    for _ in range(count):
        roll = rng.random()
        if roll < 0.4 or not ids:
            created = when()
            acked = created + timedelta(seconds=rng.choice([0, 30, 59, 60, 61, 3599, 7200]))
            resolved = acked + timedelta(seconds=rng.randint(0, 3 * 86400))
            shape = rng.choice(["new", "acked", "resolved", "resolved", "odd"])
            values: tuple[Any, ...] = (
                f"incident {next_id}",
                rng.choice(["db", "web"]),
                1,
                1,
                "P2",
                "new",
                "me",
                stamp(created) if shape != "odd" else "not a time",
                stamp(created),
                "me",
                stamp(acked) if shape in ("acked", "resolved", "odd") else None,
                stamp(resolved) if shape in ("resolved", "odd") else None,
                rng.choice([None, 0, 1]) if shape == "resolved" else None,
                rng.choice([0, 1]) if shape in ("resolved", "odd") else None,
                rng.choice([None, 1, 3, 5]) if shape == "resolved" else None,
            )
            statements.append(
                (f"INSERT INTO incidents (id, {COLUMNS}) VALUES ({next_id}, {'?, ' * 14}?)", values)
            )
            ids.append(next_id)
            next_id += 1
        elif roll < 0.85:
            target = rng.choice(ids)
            kind = rng.choice(
                ["ack", "resolve", "reopen", "csat", "met", "created", "many", "noop"]
            )
            t = when()
            if kind == "ack":
                statements.append(
                    ("UPDATE incidents SET acknowledged_at = ? WHERE id = ?", (stamp(t), target))
                )
            elif kind == "resolve":
                statements.append(
                    (
                        "UPDATE incidents SET resolved_at = ?, resolve_met = ?, response_met = ?"
                        " WHERE id = ?",
                        (stamp(t), rng.choice([0, 1]), rng.choice([None, 0, 1]), target),
                    )
                )
            elif kind == "reopen":
                statements.append(
                    (
                        "UPDATE incidents SET resolved_at = NULL, resolve_met = NULL, csat = NULL"
                        " WHERE id = ?",
                        (target,),
                    )
                )
            elif kind == "csat":
                statements.append(
                    (
                        "UPDATE incidents SET csat = ? WHERE id = ?",
                        (rng.choice([1, 4, None]), target),
                    )
                )
            elif kind == "met":
                statements.append(
                    (
                        "UPDATE incidents SET response_met = 1 - coalesce(response_met, 0) WHERE id = ?",
                        (target,),
                    )
                )
            elif kind == "created":
                statements.append(
                    ("UPDATE incidents SET created_at = ? WHERE id = ?", (stamp(t), target))
                )
            elif kind == "many":
                statements.append(
                    (
                        "UPDATE incidents SET acknowledged_at = ?, resolved_at = ? WHERE id % 7 = ?",
                        (stamp(t), stamp(t + timedelta(minutes=90)), rng.randint(0, 6)),
                    )
                )
            else:
                statements.append(
                    (
                        "UPDATE incidents SET title = title, created_at = created_at WHERE id = ?",
                        (target,),
                    )
                )
        else:
            target = rng.choice(ids)
            ids.remove(target)
            statements.append(("DELETE FROM incidents WHERE id = ?", (target,)))
    return statements


AGGREGATES = (
    "SELECT kind, day, minute, n, total FROM metrics_durations ORDER BY kind, day, minute",
    "SELECT day, resolved, met, csat_sum, csat_count FROM metrics_outcomes ORDER BY day",
    "SELECT kind, dekad, minute, n, total FROM metrics_dekads ORDER BY kind, dekad, minute",
)


def run_both(
    lite: sqlite3.Connection, pg: psycopg.Connection[Any], statements: list[tuple[str, Any]]
) -> None:
    for sql, params in statements:
        lite.execute(sql, params)
        pg.execute(sql.replace("%", "%%").replace("?", "%s"), params)


def test_metrics_aggregates_move_exactly_as_on_sqlite(
    pg: psycopg.Connection[Any], lite: sqlite3.Connection
) -> None:
    run_both(lite, pg, metric_statements(seed=20, count=1500))
    for sql in AGGREGATES:
        want = list(lite.execute(sql))
        assert want, "the statements made no aggregate rows: the test proves nothing"
        assert [tuple(r) for r in pg.execute(sql)] == want, sql  # totals bit for bit
    # And they are what a full scan (store/stats.py REBUILD's SQL) gives.
    durations = (
        "SELECT kind, day, minute, n, total FROM metrics_durations"
        " WHERE n > 0 ORDER BY kind, day, minute"
    )
    assert [tuple(r) for r in pg.execute(durations)] == list(lite.execute(durations))


def test_the_metrics_comparison_fails_when_a_trigger_is_missing(
    pg: psycopg.Connection[Any], lite: sqlite3.Connection
) -> None:
    pg.execute("DROP TRIGGER metrics_outcome_update ON incidents")
    pg.execute("DROP TRIGGER metrics_dekads_resolve_update ON incidents")
    run_both(lite, pg, metric_statements(seed=20, count=300))
    assert [tuple(r) for r in pg.execute(AGGREGATES[1])] != list(lite.execute(AGGREGATES[1]))
    assert [tuple(r) for r in pg.execute(AGGREGATES[2])] != list(lite.execute(AGGREGATES[2]))


# -- the SQLite functions the repositories call ------------------------------------------


def test_julianday_gives_sqlites_doubles_bit_for_bit(
    pg: psycopg.Connection[Any], lite: sqlite3.Connection
) -> None:
    rng = random.Random(5)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    stamps = [
        stamp(epoch + timedelta(seconds=rng.randint(-1_900_000_000, 4_000_000_000)))
        for _ in range(3000)
    ]
    stamps += ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2024-02-29T23:59:59Z"]
    stamps += ["2026-02-30T12:00:00Z", "2026-12-01T24:00:00Z"]  # SQLite computes these too
    want = [lite.execute("SELECT julianday(?)", (s,)).fetchone()[0] for s in stamps]
    got = [
        r[0]
        for r in pg.execute(
            "SELECT julianday(s) FROM unnest(%s::text[]) WITH ORDINALITY AS u(s, i) ORDER BY i",
            (stamps,),
        )
    ]
    assert got == want
    # Not the store's form: NULL (SQLite reads some of these; no store SQL passes them).
    for text in ("not a time", "", "2026-13-01T00:00:00Z", "now", "2026-12-01 10:00:00"):
        assert pg.execute("SELECT julianday(%s)", (text,)).fetchone() == (None,)


def test_scalar_min_max_boolean_sum_group_concat_and_json_each_behave_as_sqlite(
    pg: psycopg.Connection[Any], lite: sqlite3.Connection
) -> None:
    queries = [
        "SELECT min('b', 'a'), min('a', NULL), max('2026-12-01', '2026-11-30'), max(NULL, 'x')",
        "SELECT min(3, 5), max(3, 5)",
        "SELECT coalesce(min(response_due, resolve_due), response_due, resolve_due)"
        " FROM (SELECT '2026-12-02' AS response_due, NULL AS resolve_due"
        " UNION ALL SELECT '2026-12-03', '2026-12-01') AS t",
        "SELECT sum(x > 1), sum(x IN (1, 3) OR x = 2), sum(NULL = x)"
        " FROM (SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT 3) AS t",
        "SELECT sum(x > 1) FROM (SELECT 1 AS x) AS t WHERE x > 5",
        "SELECT group_concat(x) FROM (SELECT 7 AS x UNION ALL SELECT NULL UNION ALL SELECT 9) AS t",
        "SELECT value FROM json_each('[\"db\", \"web\"]') WHERE value IN ('web', 'x')",
    ]
    for sql in queries:
        assert [tuple(r) for r in pg.execute(sql)] == list(lite.execute(sql)), sql


def test_the_urgency_and_title_sorts_walk_their_indexes(pg: psycopg.Connection[Any]) -> None:
    """The expressions indexed are the ones store/incidents.py orders by (min() inlines)."""
    pg.execute("SET enable_seqscan = off")
    pg.execute("SET enable_sort = off")
    urgency = "coalesce(min(response_due, resolve_due), response_due, resolve_due)"
    for order, index in (
        (f"{urgency} IS NULL, {urgency}, id DESC", "incidents_urgency"),
        ("lower(title), id DESC", "incidents_by_title"),
        ("assignee IS NULL, assignee, id DESC", "incidents_by_assignee"),
        ("created_at DESC, id DESC", "incidents_by_age"),
    ):
        plan = "\n".join(
            r[0] for r in pg.execute(f"EXPLAIN SELECT id FROM incidents ORDER BY {order} LIMIT 50")
        )
        assert f" using {index} on incidents" in plan, plan


@pytest.mark.parametrize("by", INCIDENT_SORTS)
def test_a_deep_pages_ids_are_read_from_the_sorts_index_alone(
    pg: psycopg.Connection[Any], by: str
) -> None:
    """store/incidents.py reads a page past the first ids first; the skipped entries cost
    little only if that id query never visits the table: an index-only scan, which on the
    expression indexes (title, state, urgency) needs the columns they read INCLUDEd.
    Without those it is an "Index Scan" and this fails."""
    pg.execute("SET enable_seqscan = off")
    pg.execute("SET enable_sort = off")
    pg.execute(
        f"INSERT INTO incidents ({COLUMNS}) SELECT 'x' || g, 'db', 1, 1, 'P3', 'new', 'me',"
        " '2026-12-01T10:00:00Z', '2026-12-01T10:00:00Z', 'me', NULL, NULL, NULL, NULL, NULL"
        " FROM generate_series(1, 50) AS g"
    )
    pg.execute("VACUUM (ANALYZE) incidents")
    for descending in (False, True):
        order = _order_by(IncidentOrder(by, descending), pg=True)
        plan = "\n".join(
            r[0]
            for r in pg.execute(
                f"EXPLAIN SELECT id FROM incidents ORDER BY {order} LIMIT 10 OFFSET 20"
            )
        )
        assert "Index Only Scan" in plan, (by, descending, plan)


# -- the live feed ---------------------------------------------------------------------


def counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    return dict(conn.execute("SELECT name, n FROM change_counts"))


def test_a_statement_that_moves_rows_moves_its_counter_and_notifies_the_table_name(
    pg: psycopg.Connection[Any], pg_database: str
) -> None:
    with psycopg.connect(pg_database, autocommit=True) as listener:
        listener.execute("LISTEN opsdesk_changes")
        before = counts(pg)
        with pg.transaction():
            pg.execute(
                f"INSERT INTO incidents ({COLUMNS}) SELECT 'x' || g, 'db', 1, 1, 'P3', 'new', 'me',"
                " '2026-12-01T10:00:00Z', '2026-12-01T10:00:00Z', 'me', NULL, NULL, NULL, NULL,"
                " NULL FROM generate_series(1, 3) AS g"
            )
            pg.execute("UPDATE incidents SET state = 'acknowledged' WHERE id = 1")
            pg.execute("UPDATE leases SET holder = 'nobody'")  # matches no row: no move
            pg.execute("DELETE FROM overrides")  # nothing to delete: no move
            pg.execute("UPDATE banner SET text = 'hello'")
        after = counts(pg)
        moved = {name: after[name] - before[name] for name in after if after[name] != before[name]}
        assert moved == {"incidents": 2, "banner": 1}  # one per statement that moved rows
        heard = [n.payload for n in listener.notifies(timeout=5, stop_after=2)]
        assert sorted(heard) == ["banner", "incidents"]  # once each per transaction
        pg.execute("DELETE FROM incidents WHERE id = 3")
        assert [n.payload for n in listener.notifies(timeout=5, stop_after=1)] == ["incidents"]
    # What the bulk copy does after loading with the triggers off: every counter named moves.
    before = counts(pg)
    pg.execute("UPDATE change_counts SET n = n + 1 WHERE name = ANY (%s)", (["leases", "reviews"],))
    after = counts(pg)
    assert {name for name in after if after[name] != before[name]} == {"leases", "reviews"}


def test_writers_of_one_table_do_not_queue_behind_each_others_counter(
    pg: psycopg.Connection[Any], pg_database: str
) -> None:
    """Two open transactions writing incidents and notifications in opposite orders: with
    a counter row per table the second would wait for the first (and the pair deadlock)."""
    insert = (
        f"INSERT INTO incidents ({COLUMNS}) VALUES ('x', 'db', 1, 1, 'P3', 'new', 'me',"
        " '2026-12-01T10:00:00Z', '2026-12-01T10:00:00Z', 'me', NULL, NULL, NULL, NULL, NULL)"
    )
    page = (
        "INSERT INTO notifications (login, method, address, urgency, reason, title, body,"
        " created_at, created_by, not_before) VALUES ('me', 'sms', '1', 'high', 'r', 't', 'b',"
        " 'x', 'me', 'x')"
    )
    before = counts(pg)
    with psycopg.connect(pg_database) as other:
        other.execute("SET lock_timeout = '3s'")
        pg.execute("BEGIN")
        pg.execute(insert)
        pg.execute(page)
        other.execute(page)  # would wait on the notifications counter: lock_timeout error
        other.execute(insert)
        other.commit()
        pg.execute("COMMIT")
    after = counts(pg)
    assert after["incidents"] - before["incidents"] == 2
    assert after["notifications"] - before["notifications"] == 2


# -- search ----------------------------------------------------------------------------

SEARCH = "SELECT id FROM incidents WHERE search @@ to_tsquery('simple', %s) ORDER BY id"


def test_the_search_column_finds_words_by_prefix_in_any_searched_column(
    pg: psycopg.Connection[Any], lite: sqlite3.Connection
) -> None:
    rows = [
        ("Disk full on db-01.example.com", "", "storage", None),
        ("Login page slow", "users see 504s from lb_eu-west", "web", "alice.ng"),
        ("Café menu broken", "DÉJÀ vu", "web", "zoë"),
        ("Unrelated", "nothing here", "misc", "bob"),
    ]
    for conn, mark in ((pg, "%s"), (lite, "?")):
        for i, (title, description, service, assignee) in enumerate(rows, start=1):
            conn.execute(
                "INSERT INTO incidents (id, title, description, service, assignee, impact,"
                " urgency, priority, state, reporter, created_at, updated_at, updated_by)"
                f" VALUES ({i}, {mark}, {mark}, {mark}, {mark}, 1, 1, 'P3', 'new', 'me',"
                " '2026-12-01T10:00:00Z', '2026-12-01T10:00:00Z', 'me')",
                (title, description, service, assignee),
            )
    cases = {
        "disk ful": [1],
        "DB-01": [1],
        "example": [1],  # a hostname's inner part, as FTS5 finds it
        "exam com": [1],
        "504": [2],
        "eu west": [2],
        "alice": [2],
        "ng": [2],
        "web": [2, 3],
        "caf": [3],
        "zoë": [3],
        "déjà": [3],
        "disk slow": [],
        "nothing": [4],
    }
    for text, ids in cases.items():
        assert [r[0] for r in pg.execute(SEARCH, (tsquery_text(text),))] == ids, text
        # FTS5 (store/incidents.py fts_query) agrees.
        fts = "SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH ? ORDER BY rowid"
        assert [r[0] for r in lite.execute(fts, (fts_query(text),))] == ids, text
    # The search follows edits: the column is generated.
    pg.execute("UPDATE incidents SET assignee = 'carol' WHERE id = 2")
    assert list(pg.execute(SEARCH, (tsquery_text("alice"),))) == []
    assert [r[0] for r in pg.execute(SEARCH, (tsquery_text("car"),))] == [2]


@pytest.mark.parametrize(
    "text",
    [
        "'",
        "\\",
        "a'b",
        "x:*",
        "a & b | !c",
        "(",
        ")",
        "<->",
        "'':*",
        "\\'",
        "&",
        "--",
        "    ",
        "a" * 5000,
        "ünïcödé ' & ( \\ :*",
    ],
)
def test_no_typed_text_makes_a_tsquery_syntax_error(pg: psycopg.Connection[Any], text: str) -> None:
    pg.execute(SEARCH, (tsquery_text(text),)).fetchall()


def test_a_sessions_temporary_tables_do_not_capture_the_triggers_writes(
    pg: psycopg.Connection[Any],
) -> None:
    """The aggregates and counters are written by SECURITY DEFINER functions whose
    search_path puts pg_temp last: a person's temporary look-alikes are not written."""
    pg.execute("CREATE TEMP TABLE metrics_outcomes (LIKE public.metrics_outcomes INCLUDING ALL)")
    pg.execute("CREATE TEMP SEQUENCE change_counts_incidents")
    pg.execute(
        f"INSERT INTO incidents ({COLUMNS}) VALUES ('x', 'db', 1, 1, 'P3', 'resolved', 'me',"
        " '2026-12-01T10:00:00Z', 'x', 'me', NULL, '2026-12-01T11:00:00Z', 1, 1, 5)"
    )
    assert pg.execute("SELECT count(*) FROM pg_temp.metrics_outcomes").fetchone() == (0,)
    assert pg.execute("SELECT * FROM public.metrics_outcomes").fetchall() == [
        ("2026-12-01", 1, 1, 5, 1)
    ]
    assert pg.execute("SELECT n FROM public.change_counts WHERE name = 'incidents'").fetchone() == (
        1,
    )
