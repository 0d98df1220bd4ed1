"""`opsdesk store copy SRC DST`: whole stores moved between SQLite and PostgreSQL, every
row and id as it was, the audit chain verifying on the copy, refusals that write nothing,
and a failure midway that leaves DST as it was."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from opsdesk.console.cli import run
from opsdesk.store.copy import NOT_COPIED, _same_metrics
from opsdesk.store.store import Store
from tests.pg_cluster import PgCluster

ROOT = Path(__file__).resolve().parent.parent


def copy(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(["store", "copy", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sqlite_tables(path: Path) -> dict[str, list[str]]:
    """Every table a copy carries (name -> columns), as the SQLite schema has them."""
    conn = sqlite3.connect(path)
    try:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
                " AND name NOT LIKE 'incidents_fts%' ORDER BY name"
            )
        ]
        return {
            name: [row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')]
            for name in names
            if name not in NOT_COPIED
        }
    finally:
        conn.close()


def rows_of(location: str | Path, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    listed = ", ".join(f'"{c}"' for c in columns)
    sql = f'SELECT {listed} FROM "{table}" ORDER BY {listed}'
    if str(location).startswith("postgresql://"):
        import psycopg

        with psycopg.connect(str(location)) as conn:
            return [tuple(row) for row in conn.execute(sql)]
    conn = sqlite3.connect(location)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def assert_same_rows(first: str | Path, second: str | Path, tables: dict[str, list[str]]) -> None:
    for table, columns in tables.items():
        assert rows_of(first, table, columns) == rows_of(second, table, columns), table


def metrics_of(path: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return (
            conn.execute(
                "SELECT kind, day, minute, n, round(total, 3) FROM metrics_durations WHERE n <> 0"
                " ORDER BY kind, day, minute"
            ).fetchall()
            + conn.execute(
                "SELECT day, resolved, met, csat_sum, csat_count FROM metrics_outcomes ORDER BY day"
            ).fetchall()
        )
    finally:
        conn.close()


def new_store(path: Path) -> None:
    """A store as opsdesk creates it: migrated, holding only what a new store holds."""

    async def create() -> None:
        store = await Store.open(path)
        await store.close()

    asyncio.run(create())


def verify(store: str | Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = run(["--store", str(store), "audit", "--verify"])
    return code, capsys.readouterr().out


# -- SQLite -> SQLite -----------------------------------------------------------------------


def test_sqlite_copy_carries_every_row_and_id_and_the_audit_chain(
    demo_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = digest(demo_store)
    target = tmp_path / "copy.db"
    code, out, err = copy(capsys, str(demo_store), str(target), "--json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["ok"] is True
    tables = sqlite_tables(demo_store)
    assert {t["table"] for t in report["tables"]} == set(tables)
    for entry in report["tables"]:
        assert entry["rows"] == entry["source_rows"]
    assert report["audit"]["intact"] and report["audit"]["entries"] > 0
    assert_same_rows(demo_store, target, tables)
    assert metrics_of(target) == metrics_of(demo_store)
    assert digest(demo_store) == before  # SRC read, never written
    code, said = verify(target, capsys)
    assert code == 0 and "chain intact" in said
    # The search index was built by DST: the same incidents match.
    search = "SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH 'payments' ORDER BY rowid"
    found = [sqlite3.connect(p).execute(search).fetchall() for p in (demo_store, target)]
    assert found[0] and found[0] == found[1]
    assert sorted(p.name for p in tmp_path.iterdir() if "copying" in p.name) == []


def test_the_text_report_lists_each_table_and_the_checks(
    demo_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = copy(capsys, str(demo_store), str(tmp_path / "copy.db"))
    assert code == 0
    assert out.splitlines()[0].startswith(f"copied {demo_store} -> ")
    assert "incidents          300" in out
    assert (
        "not copied (computed by the target from the incidents): metrics_dekads,"
        " metrics_durations, metrics_outcomes" in out
    )
    assert "metrics: equal on both sides" in out
    assert "chain intact on DST" in out


def test_a_dst_that_is_not_empty_is_refused_and_left_untouched(
    demo_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "copy.db"
    assert copy(capsys, str(demo_store), str(target))[0] == 0
    before = digest(target)
    code, out, err = copy(capsys, str(demo_store), str(target))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "DST is not empty" in err and "nothing was written" in err
    assert digest(target) == before


def test_an_empty_existing_store_is_a_valid_dst(
    demo_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "empty.db"
    new_store(target)
    code, _, err = copy(capsys, str(demo_store), str(target))
    assert (code, err) == (0, "")
    assert_same_rows(demo_store, target, sqlite_tables(demo_store))


def test_a_table_that_is_not_opsdesks_is_left_out_and_named(
    demo_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = sqlite3.connect(demo_store)
    conn.execute("CREATE TABLE notes_of_mine (x TEXT)")
    conn.execute("INSERT INTO notes_of_mine VALUES ('hello')")
    conn.commit()
    conn.close()
    code, out, _ = copy(capsys, str(demo_store), str(tmp_path / "copy.db"), "--json")
    assert code == 0
    assert json.loads(out)["not_copied"]["notes_of_mine"] == "DST has no such table"


def test_a_copy_that_fails_midway_leaves_no_dst(
    demo_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row DST's CHECK refuses (planted in SRC past its own check): the load fails
    after earlier tables went in, and no store (nor a half-built file) is left."""
    conn = sqlite3.connect(demo_store)
    conn.execute("PRAGMA ignore_check_constraints = ON")
    conn.execute("UPDATE incidents SET priority = 'P9' WHERE id = 7")
    conn.commit()
    conn.close()
    target = tmp_path / "copy.db"
    code, out, err = copy(capsys, str(demo_store), str(target))
    assert code == 1 and out == ""
    assert "loading incidents failed" in err and "CHECK constraint" in err
    assert "Traceback" not in err
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if "copying" in p.name] == []


def test_a_copy_that_fails_midway_leaves_an_existing_empty_dst_empty(
    demo_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "empty.db"
    new_store(target)
    conn = sqlite3.connect(demo_store)
    conn.execute("PRAGMA ignore_check_constraints = ON")
    conn.execute("UPDATE incidents SET priority = 'P9' WHERE id = 7")
    conn.commit()
    conn.close()
    assert copy(capsys, str(demo_store), str(target))[0] == 1
    conn = sqlite3.connect(target)
    try:
        assert conn.execute("SELECT count(*) FROM audit").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM changes").fetchone() == (0,)
        # The indexes and triggers dropped for the load came back with the rollback.
        triggers = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")
        assert triggers.fetchone()[0] > 10
    finally:
        conn.close()


def test_a_broken_audit_chain_in_src_is_copied_and_reported(
    demo_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check can fail: SRC's log was edited with other tools (guard lifted and put
    back word for word), so DST's chain does not verify and the copy says where."""
    conn = sqlite3.connect(demo_store)
    guard = conn.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'audit_refuses_update'"
    ).fetchone()[0]
    conn.execute("DROP TRIGGER audit_refuses_update")
    conn.execute("UPDATE audit SET actor = 'mallory' WHERE id = 5")
    conn.execute(guard)
    conn.commit()
    conn.close()
    code, out, err = copy(capsys, str(demo_store), str(tmp_path / "copy.db"))
    assert code == 1
    assert "entry 5" in err and "SRC's chain was already broken there" in err
    assert "metrics: equal" in out


def test_the_metrics_check_can_fail() -> None:
    rows = [("ack", "2026-11-01", 3, 2, 400.0), ("outcome", "2026-11-01", 5, 4, 9, 3)]
    assert _same_metrics(iter(rows), iter([*rows]))
    assert _same_metrics(iter(rows), iter([("ack", "2026-11-01", 3, 2, 400.0 + 1e-10), rows[1]]))
    assert not _same_metrics(iter(rows), iter([("ack", "2026-11-01", 3, 3, 400.0), rows[1]]))
    assert not _same_metrics(iter(rows), iter([("ack", "2026-11-01", 3, 2, 401.0), rows[1]]))
    assert not _same_metrics(iter(rows), iter(rows[:1]))


# -- Refusals -------------------------------------------------------------------------------


def test_src_missing_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = copy(capsys, str(tmp_path / "none.db"), str(tmp_path / "copy.db"))
    assert (code, out) == (1, "")
    assert (
        err == f"opsdesk: {tmp_path / 'none.db'}: no store here (SRC must be an existing store)\n"
    )
    assert not (tmp_path / "copy.db").exists()


def test_the_same_store_twice_is_a_usage_mistake(
    demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = copy(capsys, str(demo_store), str(demo_store))
    assert code == 2 and "SRC and DST are the same store" in err


def test_read_only_is_a_usage_mistake(
    demo_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["--read-only", "store", "copy", str(demo_store), str(tmp_path / "copy.db")])
    assert code == 2 and "drop --read-only" in capsys.readouterr().err
    assert not (tmp_path / "copy.db").exists()


def test_a_folder_as_dst_is_a_usage_mistake(
    demo_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = copy(capsys, str(demo_store), str(tmp_path))
    assert code == 2 and "is a folder" in err


def test_src_from_a_newer_opsdesk_is_refused(
    demo_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = sqlite3.connect(demo_store)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    code, _, err = copy(capsys, str(demo_store), str(tmp_path / "copy.db"))
    assert code == 1 and "written by a newer opsdesk (schema 999" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "copy.db").exists()


def test_src_from_an_older_opsdesk_is_refused_and_not_upgraded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from opsdesk.store.db import APPLICATION_ID, LATEST_SCHEMA, migrations, split_statements

    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    for number, _, script in migrations()[:-1]:
        for statement in split_statements(script):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.commit()
    conn.close()
    before = digest(old)
    code, _, err = copy(capsys, str(old), str(tmp_path / "copy.db"))
    assert code == 1 and err.count("\n") == 1
    assert f"written by an older opsdesk (schema {LATEST_SCHEMA - 1}" in err
    assert f"opsdesk --store {old} store migrate" in err
    assert digest(old) == before
    assert not (tmp_path / "copy.db").exists()
    # What the message says to do works.
    assert run(["--store", str(old), "store", "migrate"]) == 0
    assert copy(capsys, str(old), str(tmp_path / "copy.db"))[0] == 0


def test_an_unreachable_dst_is_one_line(
    demo_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("psycopg")
    url = f"postgresql://nobody@/nothing?host={tmp_path / 'no-server'}"
    code, _, err = copy(capsys, str(demo_store), url)
    assert code == 1 and err.count("\n") == 1
    assert "cannot connect to PostgreSQL" in err and "Traceback" not in err


def test_without_the_driver_the_error_names_the_extra(demo_store: Path) -> None:
    script = (
        "import sys; sys.modules['psycopg'] = None; sys.modules['psycopg_pool'] = None\n"
        "from opsdesk.console.cli import run\n"
        f"sys.exit(run(['store', 'copy', {str(demo_store)!r}, 'postgresql://x@/y?host=/nowhere']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 1
    assert "pip install 'opsdesk[postgres]'" in done.stderr
    assert done.stderr.count("\n") == 1


# -- PostgreSQL -----------------------------------------------------------------------------


def pg_count(url: str, table: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
    assert row is not None
    return int(row[0])


def test_sqlite_to_postgres_and_back_keeps_every_row(
    demo_store: Path, pg_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = copy(capsys, str(demo_store), pg_database, "--json")
    assert (code, err) == (0, ""), err
    there = json.loads(out)
    assert there["ok"] and there["audit"]["intact"]
    tables = sqlite_tables(demo_store)
    assert_same_rows(demo_store, pg_database, tables)  # ids, actors, hashes included
    code, said = verify(pg_database, capsys)
    assert code == 0 and "chain intact" in said

    back = tmp_path / "back.db"
    code, out, err = copy(capsys, pg_database, str(back), "--json")
    assert (code, err) == (0, ""), err
    report = json.loads(out)
    assert report["ok"]
    assert "audit.txid" in report["not_copied"]  # PostgreSQL's own forensic columns
    assert_same_rows(demo_store, back, tables)
    assert metrics_of(back) == metrics_of(demo_store)
    assert verify(back, capsys)[0] == 0

    import psycopg

    with psycopg.connect(pg_database) as conn:
        # The next id after the copy's explicit ones, and the triggers back on.
        nxt = conn.execute("SELECT nextval(pg_get_serial_sequence('audit', 'id'))").fetchone()
        top = conn.execute("SELECT max(id) FROM audit").fetchone()
        assert nxt is not None and top is not None and nxt[0] == top[0] + 1
        off = conn.execute(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'O'"
        ).fetchone()
        assert off == (0,)
        # What DST derives itself: the search column, and counters that moved (so a
        # console open on it reloads).
        found = conn.execute(
            "SELECT id FROM incidents WHERE search @@ to_tsquery('simple', 'payments') ORDER BY id"
        ).fetchall()
        moved = conn.execute("SELECT n FROM change_counts WHERE name = 'incidents'").fetchone()
    search = "SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH 'payments' ORDER BY rowid"
    assert found and found == sqlite3.connect(back).execute(search).fetchall()
    assert moved is not None and moved[0] > 0


def test_a_postgres_dst_that_is_not_empty_is_refused_and_untouched(
    demo_store: Path, pg_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert copy(capsys, str(demo_store), pg_database)[0] == 0
    audit = rows_of(pg_database, "audit", ["id", "hash"])
    code, out, err = copy(capsys, str(demo_store), pg_database)
    assert code == 1 and out == "" and "DST is not empty" in err
    assert rows_of(pg_database, "audit", ["id", "hash"]) == audit


def test_a_postgres_copy_that_fails_midway_leaves_dst_empty(
    demo_store: Path, pg_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite keeps a NUL in text; PostgreSQL refuses it. incident_events go in after
    the audit log, the incidents and more: all of it is rolled back."""
    clean = tmp_path / "clean.db"
    clean.write_bytes(demo_store.read_bytes())
    conn = sqlite3.connect(demo_store)
    conn.execute("UPDATE incident_events SET detail = 'a' || char(0) || 'b' WHERE id = 3")
    conn.commit()
    conn.close()
    code, _, err = copy(capsys, str(demo_store), pg_database)
    assert code == 1 and "loading incident_events failed" in err and "Traceback" not in err
    for table in ("audit", "incidents", "changes", "meta"):
        assert pg_count(pg_database, table) == (1 if table == "meta" else 0), table
    import psycopg

    with psycopg.connect(pg_database) as conn:
        off = conn.execute(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'O'"
        ).fetchone()
    assert off == (0,)
    assert copy(capsys, str(clean), pg_database)[0] == 0  # still an empty store


def test_only_the_owner_restores_the_audit_log_verbatim(
    demo_store: Path, pg_cluster: PgCluster, pg_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name = pg_database.split("/")[3].split("?")[0]
    capsys.readouterr()
    assert verify(pg_database, capsys)[0] == 0  # opens it once: migrated, empty
    pg_cluster.create_role("copy_engineer", member_of=["opsdesk_engineer"])
    code, _, err = copy(capsys, str(demo_store), pg_cluster.url(name, user="copy_engineer"))
    assert code == 1 and "needs the database's owner" in err
    assert pg_count(pg_database, "audit") == 0

    pg_cluster.create_role("copy_keeper", member_of=["opsdesk_owner"])
    code, _, err = copy(capsys, str(demo_store), pg_cluster.url(name, user="copy_keeper"))
    assert (code, err) == (0, "")
    columns = ["id", "actor", "hash"]
    assert rows_of(demo_store, "audit", columns) == rows_of(pg_database, "audit", columns)


def test_postgres_to_postgres_keeps_rows_but_not_the_source_transaction_ids(
    demo_store: Path, pg_cluster: PgCluster, pg_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert copy(capsys, str(demo_store), pg_database)[0] == 0
    import psycopg

    with psycopg.connect(pg_database) as conn:  # as if the rows had been written there
        conn.execute("ALTER TABLE audit DISABLE TRIGGER audit_refuses_update")
        conn.execute("UPDATE audit SET txid = txid_current()")
        conn.execute("ALTER TABLE audit ENABLE TRIGGER audit_refuses_update")
    assert set(rows_of(pg_database, "audit", ["txid"])) != {(None,)}
    other = pg_cluster.create_database()
    try:
        target = pg_cluster.url(other)
        code, out, err = copy(capsys, pg_database, target, "--json")
        assert (code, err) == (0, ""), err
        report = json.loads(out)
        assert report["ok"] and report["not_copied"]["audit.txid"].startswith("transaction ids")
        tables = sqlite_tables(demo_store)
        assert_same_rows(pg_database, target, tables)
        assert pg_count(target, "audit") == pg_count(pg_database, "audit") > 0
        assert set(rows_of(target, "audit", ["txid"])) == {(None,)}
    finally:
        pg_cluster.drop_database(other)
