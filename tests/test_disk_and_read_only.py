"""A full disk and a read-only store, on real filesystems (a small tmpfs, remounted
read-only): one-line errors, nothing half-written, and a console that stays up and says
it is read-only. Mounting needs root (CI runs as root); elsewhere these are skipped."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiosqlite
import pytest
from textual.widgets import Input

from opsdesk.console.cli import run
from opsdesk.console.ops.session import Options
from opsdesk.console.tui.app import OpsdeskApp
from opsdesk.screens.widgets import StatusHeader
from tests.conftest import FIXED_NOW
from tests.waits import Messages, settle

TEAM = '[[services]]\nname = "payments"\n[ui]\nbell = false\n'


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "mnt"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Fill the filesystem to the last byte."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                continue
    finally:
        os.close(fd)
    return filler


def count(store: Path) -> tuple[str, int]:
    conn = sqlite3.connect(f"file:{store}?mode=ro&immutable=1", uri=True)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        return check, conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
    finally:
        conn.close()


def console(config: Path, store: Path) -> OpsdeskApp:
    """The console, its change feed looked at by settle() instead of by its timer."""
    return OpsdeskApp(Options(config=str(config), store=str(store)), clock=lambda: FIXED_NOW,
                      poll_interval=0, handle_hangup=False, feed_interval=3600)  # fmt: skip


def cli(config: Path, store: Path, *argv: str) -> int:
    return run(["--config", str(config), "--store", str(store), *argv])


def one_incident(tmp_path: Path, folder: Path, title: str) -> tuple[Path, Path]:
    """The team config, and a store in `folder` holding INC-1 titled `title`."""
    config, store = tmp_path / "team.toml", folder / "ops.db"
    config.write_text(TEAM)
    assert cli(config, store, "incident", "new", "--title", title, "--service", "payments") == 0
    return config, store


def test_a_full_disk_refuses_writes_in_one_line_and_keeps_reads(
    tmpfs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, store = one_incident(tmp_path, tmpfs, "before")
    filler = fill(tmpfs)
    capsys.readouterr()
    assert cli(config, store, "incident", "new", "--title", "lost?", "--service", "payments") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the disk holding it is full" in err, err
    assert cli(config, store, "incident", "list") == 0  # reading still works
    assert "before" in capsys.readouterr().out
    filler.unlink()
    assert count(store) == ("ok", 1)
    assert cli(config, store, "incident", "new", "--title", "after", "--service", "payments") == 0


async def test_the_console_survives_the_disk_filling_under_it(tmpfs: Path, tmp_path: Path) -> None:
    config, store = await asyncio.to_thread(one_incident, tmp_path, tmpfs, "before")
    app = console(config, store)
    messages = Messages()
    async with app.run_test(size=(100, 30), message_hook=messages) as pilot:
        await settle(app, pilot)
        filler = fill(tmpfs)
        app.screen.table.move_to_key("INC-1")
        await pilot.press("c")  # a note, long enough to need new pages
        await pilot.pause()
        app.screen.query_one(Input).value = "x" * 20_000
        await pilot.press("enter")
        await settle(app, pilot)
        said = messages.said()
        assert any("disk is full; nothing was changed" in m for m in said), said
        assert app.is_running
        filler.unlink()
        await pilot.press("c")
        await pilot.pause()
        await pilot.press(*"space again", "enter")
        await settle(app, pilot)
    conn = sqlite3.connect(store)
    notes = [r[0] for r in conn.execute("SELECT detail FROM incident_events WHERE kind = 'note'")]
    conn.close()
    assert notes == ["space again"]  # the refused note left nothing behind
    assert count(store) == ("ok", 1)


async def test_a_store_on_a_read_only_mount_opens_read_only_and_says_why(
    tmpfs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, store = await asyncio.to_thread(one_incident, tmp_path, tmpfs, "kept")
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)  # noqa: ASYNC221
    capsys.readouterr()
    assert await asyncio.to_thread(cli, config, store, "incident", "ack", "INC-1") == 1
    err = capsys.readouterr().err
    assert (
        err
        == f"opsdesk: {store}: read-only (its folder {tmpfs} is not writable); nothing was changed\n"
    )
    app = console(config, store)
    messages = Messages()
    async with app.run_test(size=(100, 30), message_hook=messages) as pilot:
        await settle(app, pilot)  # loaded, and the feed looked at once (it says why)
        assert "READ-ONLY" in str(app.screen.query_one(StatusHeader).render())
        said = messages.said()
        assert any("read-only: its folder" in m for m in said), said
        assert "kept" in " ".join(str(c) for r in app.screen.table.loaded_rows() for c in r.cells)
        app.screen.table.move_to_key("INC-1")
        await pilot.press("a")
        await pilot.pause()
        assert app.screen.check_action("incident", ("acknowledge",)) is None  # greyed
    assert count(store) == ("ok", 1)


async def test_a_store_that_turns_read_only_under_the_console_is_shown_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a filesystem remounted read-only after an error looks like to SQLite: every
    write answers "attempt to write a readonly database". (A live remount is refused by
    the kernel while the file is open for writing, so SQLite is told instead, on the
    connections the console opened, which the test keeps as aiosqlite hands them out.)"""
    config, store = await asyncio.to_thread(one_incident, tmp_path, tmp_path, "kept")
    opened: list[aiosqlite.Connection] = []
    connect = aiosqlite.connect

    def keep(*args: object, **kwargs: object) -> aiosqlite.Connection:
        opened.append(connect(*args, **kwargs))  # type: ignore[arg-type]
        return opened[-1]

    monkeypatch.setattr(aiosqlite, "connect", keep)
    app = console(config, store)
    messages = Messages()
    async with app.run_test(size=(100, 30), message_hook=messages) as pilot:
        await settle(app, pilot)
        header = app.screen.query_one(StatusHeader)
        assert "READ-ONLY" not in str(header.render())
        assert opened
        for conn in opened:
            await conn.execute("PRAGMA query_only = ON")
        app.screen.table.move_to_key("INC-1")
        await pilot.press("a")
        await pilot.pause()
        if app.screen.__class__.__name__ == "Confirm":
            await pilot.press("y")
        await settle(app, pilot)  # refused, and the feed's next look says read-only
        said = messages.said()
        assert any("read-only; nothing was changed" in m for m in said), said
        assert any(m.startswith("read-only: the store became read-only") for m in said), said
        assert "READ-ONLY" in str(app.screen.query_one(StatusHeader).render())
        assert app.is_running
