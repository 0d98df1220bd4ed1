"""The store: file modes, migrations with backup, refusals, audit, roles, versions.

What people rely on (audit, roles, stale writes, the change token, concurrent writers)
runs on both backends through `store_location`; what is about the SQLite file itself
(modes, groups, foreign files, backups before migrating) stays SQLite's."""

from __future__ import annotations

import asyncio
import grp
import os
import sqlite3
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from opsdesk.store import (
    Actor,
    InvalidOperation,
    NewIncident,
    PermissionDenied,
    ReadOnlyStore,
    StaleWrite,
    Store,
    StoreOpenError,
)
from opsdesk.store import db as db_module
from opsdesk.store.records import Banner, IncidentFilter
from tests.conftest import FIXED_NOW, mode_of
from tests.store_backends import (
    RawRefused,
    is_postgres,
    migrated,
    open_as,
    raw,
    token_after,
    url_as,
)

LEAD = Actor("lena", frozenset({"lead"}))
ENGINEER = Actor("eve")


def incident(title: str = "db down") -> NewIncident:
    return NewIncident(title=title, service="payments", impact=1, urgency=1, priority="P1")


async def test_new_store_is_0600_with_wal_and_shm_alike(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with await Store.open(path) as store:
        await store.incidents.create(ENGINEER, incident(), FIXED_NOW)
        assert mode_of(path) == 0o600
        for suffix in ("-wal", "-shm"):
            assert mode_of(Path(f"{path}{suffix}")) == 0o600
        info = await store.info()
        assert info.schema_version == db_module.LATEST_SCHEMA


async def test_group_store_is_0660_and_owned_by_the_group(tmp_path: Path) -> None:
    group = grp.getgrgid(os.getegid()).gr_name
    path = tmp_path / "shared" / "s.db"
    async with await Store.open(path, group=group) as store:
        await store.incidents.create(ENGINEER, incident(), FIXED_NOW)
        assert mode_of(path) == 0o660
        assert os.stat(path).st_gid == os.getegid()
        assert mode_of(Path(f"{path}-wal")) == 0o660


async def test_unknown_group_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(StoreOpenError, match="store.group: no such group 'no-such-group-x'"):
        await Store.open(tmp_path / "s.db", group="no-such-group-x")


async def test_store_written_by_newer_version_is_refused(store_location: str) -> None:
    await (await Store.open(store_location)).close()  # create it
    if is_postgres(store_location):
        raw(store_location, "INSERT INTO opsdesk_schema_migrations VALUES (99, '0099_x.sql')")
    else:
        raw(store_location, "PRAGMA user_version = 99")
    with pytest.raises(StoreOpenError, match=r"written by a newer opsdesk \(schema 99"):
        await Store.open(store_location)


async def test_foreign_sqlite_file_and_garbage_file_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE x (y)")
    conn.close()
    with pytest.raises(StoreOpenError, match="not an opsdesk store"):
        await Store.open(other)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreOpenError, match="not an opsdesk store"):
        await Store.open(garbage)
    assert garbage.read_bytes().startswith(b"this is not sqlite")


def _with_extra_migration(monkeypatch: pytest.MonkeyPatch, sql: str) -> None:
    current = db_module.migrations()
    extra = (current[-1][0] + 1, f"{current[-1][0] + 1:04d}_test.sql", sql)
    monkeypatch.setattr(db_module, "migrations", lambda: [*current, extra])
    monkeypatch.setattr(db_module, "LATEST_SCHEMA", extra[0])


async def test_old_store_is_backed_up_then_upgraded(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "s.db"
    async with await Store.open(path) as store:
        await store.incidents.create(ENGINEER, incident("before upgrade"), FIXED_NOW)
    old = db_module.LATEST_SCHEMA
    _with_extra_migration(monkeypatch, "ALTER TABLE incidents ADD COLUMN extra TEXT;")
    async with await Store.open(path) as store:
        assert (await store.info()).schema_version == old + 1
        assert (await store.incidents.get("INC-1")).title == "before upgrade"
    backups = list(tmp_path.glob(f"s.db.schema{old}-*.bak"))
    assert len(backups) == 1
    assert mode_of(backups[0]) == 0o600
    conn = sqlite3.connect(backups[0])
    assert conn.execute("PRAGMA user_version").fetchone()[0] == old
    assert conn.execute("SELECT title FROM incidents").fetchall() == [("before upgrade",)]
    conn.close()


async def test_failed_migration_leaves_the_old_store_usable(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "s.db"
    async with await Store.open(path) as store:
        await store.incidents.create(ENGINEER, incident("keep me"), FIXED_NOW)
    old = db_module.LATEST_SCHEMA
    _with_extra_migration(
        monkeypatch, "ALTER TABLE incidents ADD COLUMN extra TEXT;\nTHIS IS NOT SQL;"
    )
    with pytest.raises(StoreOpenError, match=r"migration \d{4}_test.sql failed"):
        await Store.open(path)
    monkeypatch.undo()
    async with await Store.open(path) as store:
        assert (await store.info()).schema_version == old
        assert (await store.incidents.get("INC-1")).title == "keep me"


async def test_audit_rows_cannot_be_changed_or_deleted(store_location: str) -> None:
    async with await open_as(store_location, "eve") as store:
        await store.incidents.create(ENGINEER, incident(), FIXED_NOW)
        [entry] = await store.audit.entries()
        assert (entry.actor, entry.action, entry.entity_key) == ("eve", "incident.create", "INC-1")
        assert entry.before is None and entry.after is not None
        assert entry.after["title"] == "db down"
    # Behind the store's back: the file's owner, or PostgreSQL's superuser (who bypasses
    # privileges, not triggers).
    with pytest.raises(RawRefused, match="append-only"):
        raw(store_location, "UPDATE audit SET actor = 'mallory'")
    with pytest.raises(RawRefused, match="append-only"):
        raw(store_location, "DELETE FROM audit")
    assert raw(store_location, "SELECT actor FROM audit") == [("eve",)]


async def test_role_refusal_names_the_role_and_writes_nothing(store_location: str) -> None:
    async with await open_as(store_location, "eve") as store:
        with pytest.raises(PermissionDenied, match="setting the banner needs the lead role; eve"):
            await store.banner.set(ENGINEER, "hello", 0, FIXED_NOW)
        assert (await store.banner.get()).text == ""
        assert await store.audit.entries() == []
    admin = Actor("root", frozenset({"admin"}))
    async with await open_as(store_location, "root", {"admin"}) as store:
        assert (await store.banner.set(admin, "admins hold every role", 0, FIXED_NOW)).version == 1


async def test_stale_write_is_refused_with_who_and_when(store_location: str) -> None:
    async with (
        await open_as(store_location, "lena", {"lead"}) as first,
        await open_as(store_location, "dana", {"lead"}) as second,
    ):
        seen_by_second = await second.banner.get()
        later = FIXED_NOW + timedelta(minutes=5)
        await first.banner.set(LEAD, "bridge open", seen_by_second.version, later)
        with pytest.raises(StaleWrite) as caught:
            await second.banner.set(
                Actor("dana", frozenset({"lead"})), "other", seen_by_second.version, later
            )
        assert str(caught.value).startswith(
            "the banner was changed by lena at 2026-11-25T12:05:00Z (you had version 0, it is now 1)"
        )
        assert (await second.banner.get()).text == "bridge open"


async def test_stale_change_edit_says_who_and_when(store_location: str) -> None:
    from opsdesk.store.records import ChangeEvent, NewChange

    start = FIXED_NOW + timedelta(days=1)
    plan = NewChange("Patch db", "normal", "low", ("db",), start, start + timedelta(hours=1))
    ana, bob = Actor("ana", frozenset()), Actor("bob", frozenset())
    async with (
        await open_as(store_location, "ana") as store,
        await open_as(store_location, "bob") as bobs,
    ):
        draft = await store.changes.create(ana, plan, FIXED_NOW)
        later = FIXED_NOW + timedelta(minutes=7)
        edit = ChangeEvent(later, "bob", "edited", None, "title")
        await bobs.changes.apply(
            bob, draft.key, draft.version, {"title": "P"}, edit, "change.edit", later
        )
        with pytest.raises(StaleWrite) as caught:
            await store.changes.apply(
                ana, draft.key, draft.version, {"title": "Q"}, edit, "change.edit", later
            )
    assert str(caught.value).startswith(
        f"{draft.key} was changed by bob at 2026-11-25T12:07:00Z (you had version 1, it is now 2)"
    )


async def test_read_only_store_refuses_writes(store_location: str) -> None:
    await (await Store.open(store_location)).close()  # create it
    async with await Store.open(store_location, read_only=True) as store:
        with pytest.raises(ReadOnlyStore, match="read-only"):
            await store.incidents.create(ENGINEER, incident(), FIXED_NOW)
        assert await store.audit.entries() == []


async def test_a_missing_store_is_not_made_read_only(tmp_path: Path) -> None:
    with pytest.raises(StoreOpenError, match="no store here"):
        await Store.open(tmp_path / "missing.db", read_only=True)


async def test_change_token_moves_on_commits_from_any_connection(store_location: str) -> None:
    async with await Store.open(store_location) as watcher:
        start = await watcher.change_token()
        assert await watcher.change_token() == start
        async with await Store.open(store_location) as writer:
            await writer.incidents.create(ENGINEER, incident(), FIXED_NOW)
        after_other = await token_after(watcher, start)
        assert after_other != start
        await watcher.incidents.create(ENGINEER, incident(), FIXED_NOW)
        assert await token_after(watcher, after_other) != after_other


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import datetime, UTC
    from opsdesk.store import Actor, NewIncident, Store

    async def main(location, who, count):
        async with await Store.open(location) as store:
            for n in range(count):
                new = NewIncident(f"{who} {n}", "payments", 2, 2, "P3")
                await store.incidents.create(Actor(who), new, datetime.now(UTC))
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


def test_two_processes_write_at_once_and_nothing_is_lost(store_location: str) -> None:
    asyncio.run(migrated(store_location))  # on PostgreSQL the owner migrates, not alpha
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url_as(store_location, who), who, "150"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("alpha", "beta")
    ]
    errors = [w.communicate(timeout=120)[1] for w in writers]
    assert [w.returncode for w in writers] == [0, 0], errors
    assert not any("locked" in e for e in errors)
    rows = raw(store_location, "SELECT title, reporter FROM incidents")
    assert set(rows) == {(f"{who} {n}", who) for who in ("alpha", "beta") for n in range(150)}
    audit = raw(store_location, "SELECT actor, count(*) FROM audit GROUP BY actor ORDER BY actor")
    assert audit == [("alpha", 150), ("beta", 150)]
    if not is_postgres(store_location):
        assert raw(store_location, "PRAGMA integrity_check") == [("ok",)]


async def test_oversized_text_is_refused_clearly(store_location: str) -> None:
    async with await Store.open(store_location) as store:
        with pytest.raises(InvalidOperation, match="title is 100,000 characters; the limit is 300"):
            await store.incidents.create(ENGINEER, incident("x" * 100_000), FIXED_NOW)
        assert await store.audit.entries() == []


async def test_real_migrations_upgrade_a_schema_1_store(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "old.db"
    first = db_module.migrations()[:1]
    monkeypatch.setattr(db_module, "migrations", lambda: first)
    monkeypatch.setattr(db_module, "LATEST_SCHEMA", 1)
    await (await Store.open(path)).close()
    monkeypatch.undo()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO incidents (title, service, impact, urgency, priority, state, reporter,"
        " created_at, updated_at, updated_by) VALUES ('from schema 1', 'payments', 1, 1, 'P1',"
        " 'new', 'eve', '2026-11-01T10:00:00Z', '2026-11-01T10:00:00Z', 'eve')"
    )
    conn.commit()
    conn.close()
    async with await Store.open(path) as store:
        info = await store.info()
        assert info.schema_version == db_module.LATEST_SCHEMA >= 3
        old = await store.incidents.get("INC-1")
        assert (old.title, old.response_due, old.resolve_met) == ("from schema 1", None, None)
        assert await store.incidents.events("INC-1") == []
        await store.incidents.add_note(ENGINEER, "INC-1", "still works", FIXED_NOW)
        assert [e.detail for e in await store.incidents.events("INC-1")] == ["still works"]
        found = await store.incidents.find(IncidentFilter(search="schema"))
        assert [i.key for i in found] == ["INC-1"]  # the search index was built from old rows
    assert len(list(tmp_path.glob("old.db.schema1-*.bak"))) == 1


async def test_a_versioned_write_racing_another_commit_is_refused_on_postgres(
    pg_database: str,
) -> None:
    """PostgreSQL runs writers side by side, so another host may commit between a
    repository's version check and its UPDATE (on SQLite the single writer rules that out).
    The UPDATE then matches no row, and the write is refused with who changed it, not
    reported done and audited as if it had been made."""
    from opsdesk.store.records import IncidentEvent

    later = FIXED_NOW + timedelta(minutes=3)
    async with (
        await open_as(pg_database, "eve") as store,
        await open_as(pg_database, "ana") as other,
    ):
        created = await store.incidents.create(ENGINEER, incident(), FIXED_NOW)
        event = IncidentEvent(later, "ana", "assigned", None, "to ana")
        ana = Actor("ana")
        await other.incidents.apply(
            ana, created.key, 1, {"assignee": "ana"}, event, "incident.assign", later
        )

        async def eves_write() -> None:
            # eve's write had checked version 1 before ana's commit: its UPDATE comes now.
            async with store._db.write(ENGINEER, "engineer", "assigning", later) as tx:
                await tx.update_versioned("incidents", created.id, 1, {"assignee": "eve"})
                await tx.audit("incident.assign", "incident", created.key, {}, {"assignee": "eve"})

        with pytest.raises(StaleWrite, match=r"INC-1 was changed by ana at 2026-11-25T12:03:00Z"):
            await eves_write()
        assert (await store.incidents.get(created.key)).assignee == "ana"
        audited = [(e.actor, e.action) for e in await store.audit.entries()]
        assert audited == [("eve", "incident.create"), ("ana", "incident.assign")]


async def test_a_banner_set_racing_another_commit_is_refused_on_postgres(
    pg_database: str,
) -> None:
    """The banner's own version check has the same gap on PostgreSQL: dana commits between
    lena's read and her UPDATE, and lena is told, instead of her text being audited as set."""
    later = FIXED_NOW + timedelta(minutes=4)
    dana = Actor("dana", frozenset({"lead"}))
    async with (
        await open_as(pg_database, "lena", {"lead"}) as store,
        await open_as(pg_database, "dana", {"lead"}) as other,
    ):
        read = store.banner.get
        raced: list[int] = []

        async def read_then_dana_commits() -> Banner:
            seen = await read()
            if not raced:
                raced.append(seen.version)
                await other.banner.set(dana, "from dana", seen.version, later)
            return seen

        store.banner.get = read_then_dana_commits  # type: ignore[method-assign]
        with pytest.raises(StaleWrite, match=r"changed by dana at 2026-11-25T12:04:00Z \(you had"):
            await store.banner.set(LEAD, "from lena", 0, later)
        assert raced == [0]
        assert (await other.banner.get()).text == "from dana"
        assert [e.actor for e in await store.audit.entries()] == ["dana"]
