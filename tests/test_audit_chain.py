"""The audit log's hash chain and guards: normal writes verify; a row rewritten, deleted or
forged with other tools is named by `opsdesk audit --verify`; a store whose append-only
triggers were dropped or altered opens but refuses writes; and the known limit: whoever can
write the file can recompute the whole chain, which no check inside the file can notice.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from opsdesk.console.cli import run
from opsdesk.store import Actor, NewIncident, Store
from opsdesk.store import db as db_module
from opsdesk.store.audit import CHAIN_COLUMNS, entry_hash
from opsdesk.store.errors import GUARDS_MISSING, AuditGuardsMissing
from tests.conftest import FIXED_NOW

Cli = Callable[..., tuple[int, Any]]
Capture = pytest.CaptureFixture[str]
ENGINEER = Actor("eve")
LEAD = Actor("lena", frozenset({"lead"}))
GUARDS_LINE = f"audit: {GUARDS_MISSING}"


def incident(title: str) -> NewIncident:
    return NewIncident(title=title, service="payments", impact=2, urgency=2, priority="P3")


async def _five_incidents(path: Path) -> None:
    async with await Store.open(path) as store:
        for n in range(1, 6):
            await store.incidents.create(ENGINEER, incident(f"disk {n} full"), FIXED_NOW)


def five_incidents(path: Path) -> None:
    """A store whose audit log is entries 1-5, one per incident INC-1..INC-5."""
    asyncio.run(_five_incidents(path))


def guard_sql() -> list[str]:
    """The two triggers as 0001_initial.sql writes them: what a person restores by hand."""
    return list(db_module.audit_guards(1).values())


def raw(path: Path, *statements: str, params: tuple[Any, ...] = ()) -> None:
    """Change the store as someone with the sqlite3 shell would (one transaction)."""
    conn = sqlite3.connect(path)
    with conn:
        for statement in statements:
            conn.execute(statement, params if "?" in statement else ())
    conn.close()


def drop_guards(path: Path) -> None:
    raw(path, "DROP TRIGGER audit_refuses_update", "DROP TRIGGER audit_refuses_delete")


def restore_guards(path: Path) -> None:
    raw(path, *guard_sql())


def verify_cli(capsys: Capture, path: Path, *extra: str) -> tuple[int, str]:
    """`opsdesk audit --verify`: its exit code and what it printed (stdout, even when the
    chain is broken: that is its finding, not a failure to run)."""
    code = run(["--store", str(path), "audit", "--verify", *extra])
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, captured.out


def verify(path: Path) -> Any:
    async def go() -> Any:
        async with await Store.open(path) as store:
            return await store.audit.verify()

    return asyncio.run(go())


def test_normal_writes_verify(cli: Cli, tmp_path: Path) -> None:
    assert cli("incident", "new", "--title", "db down", "--service", "payments")[0] == 0
    assert cli("incident", "ack", "INC-1")[0] == 0
    assert cli("incident", "note", "INC-1", "failing over")[0] == 0
    assert cli("incident", "new", "--title", "wiki slow", "--service", "wiki")[0] == 0
    assert cli("incident", "assign", "INC-2", "ana")[0] == 0
    assert cli("audit", "--verify") == (0, "audit: 5 entries, chain intact\n")
    code, found = cli("audit", "--verify", "--json")
    assert code == 0
    assert found["entries"] == 5 and found["intact"] and found["guards_intact"]
    assert found["broken"] is None
    conn = sqlite3.connect(tmp_path / "s.db")
    rows = conn.execute(f"SELECT {CHAIN_COLUMNS} FROM audit ORDER BY id").fetchall()
    conn.close()
    assert found["head"] == {"id": 5, "hash": rows[-1][8].decode()}
    previous = None  # the chain is exactly what docs/operations.md says it is
    for row in rows:
        assert row[8].decode() == entry_hash(previous, row[:8])
        previous = row[8]


async def test_writes_verify_and_a_refused_one_leaves_no_link(
    tmp_path: Path,
) -> None:
    async with await Store.open(tmp_path / "s.db") as store:
        created = await store.incidents.create(ENGINEER, incident("db down"), FIXED_NOW)
        await store.banner.set(LEAD, "bridge open", expected_version=0, now=FIXED_NOW)
        with pytest.raises(Exception, match="needs the lead role"):
            await store.banner.set(ENGINEER, "nope", expected_version=1, now=FIXED_NOW)
        await store.incidents.add_note(ENGINEER, created.key, "failing over", FIXED_NOW)
        check = await store.audit.verify()
    assert (check.entries, check.intact, check.head_id) == (3, True, 3)


def test_writers_in_several_processes_keep_one_chain(tmp_path: Path) -> None:
    """Three processes (two CLI callers, one headless console) writing at once."""
    from tests.reliability import run_concurrent

    run = run_concurrent(tmp_path, processes=3, operations=40, app_workers=1)
    assert run.findings.problems == []
    check = verify(tmp_path / "ops.db")
    assert check.intact, check
    assert check.entries == run.findings.audit_rows > 100


def test_a_row_rewritten_after_dropping_the_guards(
    cli: Cli, capsys: Capture, tmp_path: Path
) -> None:
    store = tmp_path / "s.db"
    five_incidents(store)
    drop_guards(store)
    raw(store, "UPDATE audit SET after = replace(after, 'disk 3', 'disk 9') WHERE id = 3")

    # The store opens, reads work, every write is refused in one line.
    code, err = cli("incident", "new", "--title", "x", "--service", "payments")
    assert (code, err) == (1, f"opsdesk: {store}: {GUARDS_MISSING}\n")
    assert cli("incident", "ack", "INC-1") == (1, err)
    code, listed = cli("incident", "list", "--json")
    assert code == 0 and len(listed) == 5
    assert cli("audit", "--json", "--limit", "1")[0] == 0
    code, out = verify_cli(capsys, store)
    assert code == 1
    assert out.startswith(f"{GUARDS_LINE}\naudit: entry 3 ")  # verify says so too

    async def refused() -> None:
        async with await Store.open(store) as opened:
            assert opened.read_only and opened.read_only_reason == GUARDS_MISSING
            with pytest.raises(AuditGuardsMissing):
                await opened.incidents.create(ENGINEER, incident("x"), FIXED_NOW)

    asyncio.run(refused())

    # Someone puts the triggers back by hand: writes work again, and verify names the row.
    restore_guards(store)
    assert verify_cli(capsys, store) == (
        1,
        "audit: entry 3 (2026-11-25 12:00Z, INC-3) does not match its hash: "
        "changed or inserted outside opsdesk\n",
    )
    assert cli("incident", "ack", "INC-1")[0] == 0
    code, out = verify_cli(capsys, store, "--json")
    found = json.loads(out)
    assert code == 1 and found["broken"]["id"] == 3 and found["entries"] == 6
    assert found["guards_intact"] and not found["intact"]


def test_a_deleted_row_is_named_by_the_next_one(capsys: Capture, tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    five_incidents(store)
    drop_guards(store)
    raw(store, "DELETE FROM audit WHERE id = 3")
    restore_guards(store)
    assert verify_cli(capsys, store) == (
        1,
        "audit: entry 4 (2026-11-25 12:00Z, INC-4) does not match its hash: "
        "entry 3 was deleted before it, outside opsdesk\n",
    )
    drop_guards(store)
    raw(store, "DELETE FROM audit WHERE id IN (1, 2)")
    restore_guards(store)
    code, out = verify_cli(capsys, store, "--json")
    found = json.loads(out)
    assert code == 1 and found["broken"]["id"] == 4 and found["broken"]["missing"] == [1, 3]


def test_a_forged_row_is_named(cli: Cli, capsys: Capture, tmp_path: Path) -> None:
    """No trigger guards INSERT: a row added with the shell, with no hash or a made-up one."""
    store = tmp_path / "s.db"
    five_incidents(store)
    insert = (
        "INSERT INTO audit (at, actor, action, entity, entity_key, before, after, hash)"
        " VALUES ('2026-11-25T13:00:00Z', 'eve', 'incident.close', 'incident', 'INC-2',"
        ' NULL, \'{"state": "closed"}\', ?)'
    )
    raw(store, insert, params=("0" * 64,))
    assert verify_cli(capsys, store) == (
        1,
        "audit: entry 6 (2026-11-25 13:00Z, INC-2) does not match its hash: "
        "changed or inserted outside opsdesk\n",
    )
    # opsdesk chains its next row onto whatever is newest; the forged one stays named.
    assert cli("incident", "ack", "INC-1")[0] == 0
    raw(store, insert, params=(None,))
    code, out = verify_cli(capsys, store, "--json")
    found = json.loads(out)
    assert (code, found["broken"]["id"], found["entries"]) == (1, 6, 8)


def test_a_forged_row_inserted_between_two_entries_is_named(
    capsys: Capture, tmp_path: Path
) -> None:
    store = tmp_path / "s.db"
    five_incidents(store)
    drop_guards(store)
    # Make room: move entries 4 and 5 up one id, keeping their hashes, and forge entry 4.
    raw(store, "UPDATE audit SET id = 6 WHERE id = 5", "UPDATE audit SET id = 5 WHERE id = 4")
    raw(
        store,
        "INSERT INTO audit (id, at, actor, action, entity, entity_key, before, after, hash)"
        " SELECT 4, at, 'mallory', action, entity, 'INC-9', before, after, hash"
        " FROM audit WHERE id = 3",
    )
    restore_guards(store)
    code, out = verify_cli(capsys, store, "--json")
    found = json.loads(out)
    assert code == 1 and found["broken"]["id"] == 4 and found["broken"]["entity_key"] == "INC-9"


def test_rewriting_the_whole_chain_is_not_detected(capsys: Capture, tmp_path: Path) -> None:
    """The known limit, documented in docs/operations.md and README: the hash is over
    what is in the file, with no secret, so someone who can write the file can rewrite an
    entry and recompute every hash after it. Verify then finds a consistent chain. Only
    a copy of the head kept elsewhere (or the PostgreSQL store) catches this."""
    store = tmp_path / "s.db"
    five_incidents(store)
    before = json.loads(verify_cli(capsys, store, "--json")[1])
    drop_guards(store)
    conn = sqlite3.connect(store)
    with conn:
        conn.execute("UPDATE audit SET actor = 'mallory' WHERE id = 2")
        previous = None
        for row in conn.execute(f"SELECT {CHAIN_COLUMNS} FROM audit ORDER BY id").fetchall():
            previous = entry_hash(previous, row[:8])
            conn.execute("UPDATE audit SET hash = ? WHERE id = ?", (previous, row[0]))
    conn.close()
    restore_guards(store)
    assert verify_cli(capsys, store) == (0, "audit: 5 entries, chain intact\n")
    after = json.loads(verify_cli(capsys, store, "--json")[1])
    assert after["head"]["hash"] != before["head"]["hash"]  # what a copy kept elsewhere shows


@pytest.mark.parametrize(
    "change",
    [
        ["DROP TRIGGER audit_refuses_delete"],
        # Same name, but it lets every UPDATE through.
        [
            "DROP TRIGGER audit_refuses_update",
            "CREATE TRIGGER audit_refuses_update BEFORE UPDATE ON audit WHEN 0"
            " BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END",
        ],
        # An extra trigger that silently drops every new audit row.
        ["CREATE TRIGGER audit_quiet BEFORE INSERT ON audit BEGIN SELECT RAISE(IGNORE); END"],
    ],
    ids=["dropped", "altered", "added"],
)
def test_missing_altered_or_extra_triggers_refuse_writes(
    cli: Cli, tmp_path: Path, change: list[str]
) -> None:
    store = tmp_path / "s.db"
    five_incidents(store)
    raw(store, *change)
    code, err = cli("incident", "ack", "INC-1")
    assert (code, err) == (1, f"opsdesk: {store}: {GUARDS_MISSING}\n")
    assert cli("incident", "show", "INC-1")[0] == 0


def test_the_check_ignores_whitespace_only(tmp_path: Path) -> None:
    """Guards put back with other line breaks (pasted from docs) count as intact."""
    store = tmp_path / "s.db"
    five_incidents(store)
    drop_guards(store)
    raw(store, *(" ".join(sql.split()) for sql in guard_sql()))
    assert verify(store).intact


def test_read_only_opens_do_not_refuse_and_verify_still_reports(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    five_incidents(store)
    drop_guards(store)

    async def go() -> None:
        async with await Store.open(store, read_only=True) as opened:
            assert opened.read_only_reason is None
            check = await opened.audit.verify()
            assert not check.guards_intact and check.broken is None and not check.intact

    asyncio.run(go())


def test_verify_takes_the_whole_log(cli: Cli) -> None:
    assert cli("incident", "new", "--title", "db down", "--service", "payments")[0] == 0
    code, err = cli("audit", "--verify", "--entity", "INC-1")
    assert code == 2 and "--verify checks the whole log" in err


def test_a_demo_store_verifies(demo_store: Path) -> None:
    """The demo builder loads audit rows in bulk (store/bulk.py); they are chained too."""
    check = verify(demo_store)
    assert check.intact and check.entries > 100


async def _open_and_close(path: Path) -> None:
    await (await Store.open(path)).close()


def _schema8_store(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store as opsdesk before schema 9 left it: audit rows without hashes."""
    first = [m for m in db_module.migrations() if m[0] < db_module.AUDIT_CHAIN_SCHEMA]
    with monkeypatch.context() as patch:
        patch.setattr(db_module, "migrations", lambda: first)
        patch.setattr(db_module, "LATEST_SCHEMA", first[-1][0])
        asyncio.run(_open_and_close(path))
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO audit (at, actor, action, entity, entity_key, before, after)"
            " VALUES (?, 'eve', 'incident.create', 'incident', ?, NULL, ?)",
            [(f"2026-10-0{n}T09:00:00Z", f"INC-{n}", f'{{"n": {n}}}') for n in range(1, 8)],
        )
    conn.close()


def test_upgrading_chains_the_rows_written_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "s.db"
    _schema8_store(store, monkeypatch)
    check = verify(store)  # opening migrates
    assert check.intact and check.entries == 7
    [backup] = tmp_path.glob("s.db.schema8-*.bak")
    conn = sqlite3.connect(backup)
    assert conn.execute("SELECT count(*) FROM audit").fetchone()[0] == 7
    conn.close()
    conn = sqlite3.connect(store)  # the guard lifted for the chaining is back as it was
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit SET hash = NULL")
    conn.close()


def test_a_store_with_missing_guards_is_not_upgraded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upgrading would chain, and so bless, whatever was done to it: refused, untouched."""
    store = tmp_path / "s.db"
    _schema8_store(store, monkeypatch)
    drop_guards(store)
    with pytest.raises(AuditGuardsMissing, match="guards are missing"):
        verify(store)
    assert db_module.peek_schema(store) == 8
    assert list(tmp_path.glob("*.bak")) == []
