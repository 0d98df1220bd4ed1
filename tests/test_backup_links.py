"""The copy made before a migration, in a folder others can write (a shared store's group):
whatever is planted at its predictable name (a link to someone's file, a folder, a dangling
link) is neither followed nor reused, and the upgrade still goes ahead with a copy under
another name. The copy is the whole store, including commits still in the WAL."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from opsdesk.store import Actor, NewIncident, Store, StoreBusy, StoreOpenError
from opsdesk.store import db as db_module
from tests.conftest import FIXED_NOW, mode_of

ENGINEER = Actor("eve")
WINDOW = range(-2, 30)  # seconds around now: the names an attacker would plant


def incident(title: str) -> NewIncident:
    return NewIncident(title=title, service="payments", impact=2, urgency=2, priority="P3")


async def _create(path: Path, titles: list[str]) -> None:
    async with await Store.open(path) as store:
        for title in titles:
            await store.incidents.create(ENGINEER, incident(title), FIXED_NOW)


def make_store(path: Path, *titles: str) -> int:
    asyncio.run(_create(path, list(titles)))
    return db_module.LATEST_SCHEMA


def with_extra_migration(monkeypatch: pytest.MonkeyPatch) -> None:
    current = db_module.migrations()
    number = current[-1][0] + 1
    extra = (number, f"{number:04d}_test.sql", "ALTER TABLE incidents ADD COLUMN extra TEXT;")
    monkeypatch.setattr(db_module, "migrations", lambda: [*current, extra])
    monkeypatch.setattr(db_module, "LATEST_SCHEMA", number)


def predictable_names(store: Path, schema: int) -> list[Path]:
    """`STORE.schemaN-TIMESTAMP.bak` for every second of the window (local time, as made)."""
    now = time.time()
    stamps = {time.strftime("%Y%m%dT%H%M%S", time.localtime(now + s)) for s in WINDOW}
    return [store.with_name(f"{store.name}.schema{schema}-{stamp}.bak") for stamp in stamps]


async def _titles(path: Path) -> list[str]:
    async with await Store.open(path) as store:
        return sorted(i.title for i in await store.incidents.recent())


def upgrade(path: Path) -> list[str]:
    """Open (and so migrate) the store; the titles it holds afterwards."""
    return asyncio.run(_titles(path))


def backup_titles(backup: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        return sorted(r[0] for r in conn.execute("SELECT title FROM incidents"))
    finally:
        conn.close()


def real_backups(folder: Path, store: Path, schema: int) -> list[Path]:
    return [
        p
        for p in folder.glob(f"{store.name}.schema{schema}-*.bak")
        if p.is_file() and not p.is_symlink()
    ]


def test_a_planted_link_to_a_victim_file_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "shared" / "ops.db"
    schema = make_store(store, "keep me")
    victim = tmp_path / "home" / ".bashrc"
    victim.write_text("# my shell\n")
    for name in predictable_names(store, schema):
        name.symlink_to(victim)
    with_extra_migration(monkeypatch)
    assert upgrade(store) == ["keep me"]
    assert victim.read_text() == "# my shell\n"
    [backup] = real_backups(store.parent, store, schema)
    assert backup.name not in {p.name for p in predictable_names(store, schema)}
    assert backup_titles(backup) == ["keep me"]
    assert mode_of(backup) == 0o600


def test_a_planted_folder_or_dangling_link_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "shared" / "ops.db"
    schema = make_store(store, "keep me")
    nowhere = tmp_path / "created-by-following"
    for n, name in enumerate(predictable_names(store, schema)):
        if n % 2:
            name.mkdir()
        else:
            name.symlink_to(nowhere)
    with_extra_migration(monkeypatch)
    assert upgrade(store) == ["keep me"]
    assert not nowhere.exists()
    [backup] = real_backups(store.parent, store, schema)
    assert backup_titles(backup) == ["keep me"]
    folders = [p for p in store.parent.iterdir() if p.is_dir()]
    assert folders and all(list(p.iterdir()) == [] for p in folders)


def test_the_documented_restore_works_with_a_suffixed_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "ops.db"
    schema = make_store(store, "before")
    for name in predictable_names(store, schema):
        name.mkdir()
    with_extra_migration(monkeypatch)
    upgrade(store)
    [backup] = real_backups(tmp_path, store, schema)
    command = f"mv {backup.name} ops.db && rm -f ops.db-wal ops.db-shm"  # docs/operations.md
    subprocess.run(command, shell=True, cwd=tmp_path, check=True)
    assert db_module.peek_schema(store) == schema


def test_the_copy_has_the_stores_mode_and_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import grp

    group = grp.getgrgid(os.getegid()).gr_name
    store = tmp_path / "shared" / "ops.db"

    async def create() -> None:
        async with await Store.open(store, group=group) as opened:
            await opened.incidents.create(ENGINEER, incident("x"), FIXED_NOW)

    asyncio.run(create())
    schema = db_module.LATEST_SCHEMA
    with_extra_migration(monkeypatch)
    upgrade(store)
    [backup] = real_backups(store.parent, store, schema)
    assert mode_of(backup) == 0o660
    assert os.stat(backup).st_gid == os.stat(store).st_gid


def test_the_copy_holds_commits_still_in_the_wal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process has the store open, so the WAL is not checkpointed on close: the
    copy must still hold every commit, and a reader of an older snapshot is waited for."""
    store = tmp_path / "ops.db"
    schema = make_store(store, "first")
    # Keeps the WAL from going away; the timer below ends its read in another thread.
    other = sqlite3.connect(store, isolation_level=None, check_same_thread=False)
    other.execute("SELECT count(*) FROM incidents").fetchone()
    make_store(store, "second")
    wal = store.with_name("ops.db-wal")
    assert wal.exists() and wal.stat().st_size > 0
    other.execute("BEGIN")  # a reader holding the snapshot before "third" was committed
    other.execute("SELECT count(*) FROM incidents").fetchone()
    make_store(store, "third")
    threading.Timer(0.3, lambda: other.execute("COMMIT")).start()
    with_extra_migration(monkeypatch)
    assert upgrade(store) == ["first", "second", "third"]
    [backup] = real_backups(tmp_path, store, schema)
    assert backup_titles(backup) == ["first", "second", "third"]
    other.close()


def test_when_every_name_is_taken_the_upgrade_is_refused_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "ops.db"
    schema = make_store(store, "keep me")
    import secrets  # store/db.py imports it when it needs a name, and calls it there

    monkeypatch.setattr(secrets, "token_hex", lambda n: "0" * (2 * n))
    for name in predictable_names(store, schema):
        name.mkdir()
        name.with_name(name.name.removesuffix(".bak") + "-00000000.bak").mkdir()
    with_extra_migration(monkeypatch)
    with pytest.raises(StoreOpenError, match="names for the copy were all taken"):
        upgrade(store)
    monkeypatch.undo()
    assert db_module.peek_schema(store) == schema
    assert upgrade(store) == ["keep me"]


def test_a_reader_that_never_finishes_makes_the_upgrade_wait_then_give_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "ops.db"
    schema = make_store(store, "first")
    other = sqlite3.connect(store, isolation_level=None)
    other.execute("BEGIN")
    other.execute("SELECT count(*) FROM incidents").fetchone()
    make_store(store, "second")
    monkeypatch.setattr(db_module, "WRITE_WAIT_SECONDS", 0.3)
    with_extra_migration(monkeypatch)
    with pytest.raises(StoreBusy, match="kept reading an old snapshot"):
        upgrade(store)
    other.close()
    monkeypatch.undo()
    assert db_module.peek_schema(store) == schema
    assert real_backups(tmp_path, store, schema) == []
