"""Every role against every mutation, through the CLI and through the console.

The CLI acts as the process's own account; each role gets its own config granting that
account the role. An allowed mutation must write (an audit row appears); a refused one
must exit 1 with one line naming the role it needs, and write nothing. A read-only
console refuses everything.
"""

from __future__ import annotations

import asyncio
import grp
import os
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import Input

from opsdesk.console.cli import run
from opsdesk.console.config import loader as config_loader
from opsdesk.console.ops.changes import ChangeOps, ChangePlan
from opsdesk.console.ops.identity import actor_for
from opsdesk.console.ops.incidents import IncidentOps
from opsdesk.console.ops.session import Options
from opsdesk.console.tui.app import OpsdeskApp
from opsdesk.screens.change_detail import ChangeDetailScreen
from opsdesk.screens.dialogs import BannerForm, Confirm
from opsdesk.screens.forms import OverrideForm
from opsdesk.store import Actor, Store
from tests.conftest import FIXED_NOW
from tests.waits import Messages
from tests.waits import settle as settle_app

ROLES = ("engineer", "cab", "lead", "admin")
ANYONE, APPROVER, LEAD = "engineer", "cab or lead", "lead"


def allowed(needed: str, role: str) -> bool:
    if needed == ANYONE or role == "admin":
        return True
    if needed == APPROVER:
        return role in ("cab", "lead")
    return role == needed


def team(me: str, role: str) -> str:
    """ana is a lead and on the CAB (she arranges the store); `me` holds only `role`."""

    def members(name: str) -> str:
        logins = (["ana"] if name != "admin" else []) + ([me] if role == name else [])
        return ", ".join(f'"{login}"' for login in logins)

    return f"""
[[people]]
login = "{me}"
[[people]]
login = "ana"
[[people]]
login = "ben"
[roles]
admin = [{members("admin")}]
lead = [{members("lead")}]
cab = [{members("cab")}]
[[services]]
name = "payments"
[[schedules]]
name = "platform"
timezone = "UTC"
[[schedules.layers]]
name = "primary"
members = ["{me}", "ana", "ben"]
rotation = "1d"
start = "2026-01-05T09:00"
[[changes.approval_rules]]
type = "normal"
cab = 1
"""


async def arrange(store_path: Path, config_path: Path) -> None:
    """INC-1..8 for incident mutations (INC-4 acknowledged, INC-6 resolved), CHG-1 and
    CHG-2 submitted by ana, OVR-1 ana covering the platform rota (all made by ana)."""
    config = config_loader.load(str(config_path)).config
    ana = actor_for(config, "ana")
    async with await Store.open(store_path) as store:
        incidents = IncidentOps(store, config, ana)
        for n in range(1, 9):
            await incidents.create(f"incident {n}", "payments", FIXED_NOW)
        await incidents.transition("INC-4", "acknowledge", FIXED_NOW)
        await incidents.transition("INC-6", "resolve", FIXED_NOW, code="fixed", note="done")
        changes = ChangeOps(store, config, ana)
        for n in (1, 2):
            start = FIXED_NOW + timedelta(days=n * 3)
            plan = ChangePlan(
                f"change {n}", "normal", ("payments",), start, start + timedelta(hours=1),
                test_plan="smoke", backout_plan="revert", risk="low", risk_justification="routine",
            )  # fmt: skip
            change = await changes.create(plan, FIXED_NOW)
            await changes.submit(change.key, FIXED_NOW, ack_conflicts=True)
        start = FIXED_NOW + timedelta(days=1)
        await store.overrides.add(ana, "platform", "ana", start, start + timedelta(hours=4),
                                  "swap", FIXED_NOW)  # fmt: skip


def audit_rows(store: Path) -> int:
    conn = sqlite3.connect(store)
    try:
        return int(conn.execute("SELECT count(*) FROM audit").fetchone()[0])
    finally:
        conn.close()


WINDOW = ["--from", "2030-01-01T09:00:00Z", "--to", "2030-01-01T17:00:00Z"]
CLI_MUTATIONS: list[tuple[str, str, list[str]]] = [
    ("incident new", ANYONE, ["incident", "new", "--title", "t", "--service", "payments"]),
    ("incident ack", ANYONE, ["incident", "ack", "INC-1"]),
    ("incident assign", ANYONE, ["incident", "assign", "INC-2", "ben"]),
    ("incident note", ANYONE, ["incident", "note", "INC-3", "looked at it"]),
    ("incident resolve", ANYONE,
     ["incident", "resolve", "INC-4", "--code", "fixed", "--note", "restarted"]),
    ("incident priority", ANYONE,
     ["incident", "priority", "INC-5", "--impact", "1", "--urgency", "1"]),
    ("incident close", ANYONE, ["incident", "close", "INC-6"]),
    ("incident take", ANYONE, ["incident", "take", "INC-7"]),
    ("override: myself", ANYONE,
     ["oncall", "override", "add", "--schedule", "platform", "--person", "{me}", *WINDOW]),
    ("override: someone else", LEAD,
     ["oncall", "override", "add", "--schedule", "platform", "--person", "ben", *WINDOW]),
    ("override: remove someone else's", LEAD, ["oncall", "override", "remove", "OVR-1"]),
    ("handoff note", ANYONE, ["oncall", "handoff", "add", "--schedule", "platform", "all quiet"]),
    ("change new", ANYONE,
     ["change", "new", "--title", "patch", "--type", "normal", "--service", "payments",
      "--start", "2030-02-01T10:00:00Z", "--end", "2030-02-01T11:00:00Z", "--risk", "low",
      "--justification", "small", "--test-plan", "smoke", "--backout", "revert"]),
    ("change approve", APPROVER, ["change", "approve", "CHG-1"]),
    ("change reject", APPROVER, ["change", "reject", "CHG-2", "--comment", "not now"]),
    ("banner set", LEAD, ["banner", "set", "maintenance tonight"]),
]  # fmt: skip


@pytest.fixture
def role_store(tmp_path: Path, me: str):  # type: ignore[no-untyped-def]
    """A fresh arranged store and a config granting `me` the role."""

    def make(role: str) -> tuple[Path, Path]:
        folder = tmp_path / role
        folder.mkdir()
        config, store = folder / "team.toml", folder / "s.db"
        config.write_text(team(me, role), encoding="utf-8")
        asyncio.run(arrange(store, config))
        return store, config

    return make


@pytest.mark.parametrize("role", [*ROLES, "read-only"])
def test_every_role_against_every_mutation_through_the_cli(
    role: str, role_store, me: str, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    store, config = role_store("admin" if role == "read-only" else role)
    extra = ["--read-only"] if role == "read-only" else []
    wrong = []
    for name, needed, argv in CLI_MUTATIONS:
        before = audit_rows(store)
        argv = [a.replace("{me}", me) for a in argv]
        code = run(["--config", str(config), "--store", str(store), *extra, *argv])
        out = capsys.readouterr()
        written = audit_rows(store) - before
        if role != "read-only" and allowed(needed, role):
            if code != 0 or written == 0:
                wrong.append(f"{name}: refused for {role}: {out.err.strip()}")
            continue
        expected = "read-only" if role == "read-only" else f"needs the {needed} role"
        if code != 1 or written or expected not in out.err or out.err.count("\n") != 1:
            wrong.append(f"{name}: {role} got exit {code}, {written} rows, {out.err!r}")
    assert wrong == []


async def ui_mutation(app: OpsdeskApp, pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    """Do one mutation with the keys a person would press."""

    async def settle() -> None:
        await settle_app(app, pilot)

    await settle()
    if name == "incident ack":
        assert app.screen.table.move_to_key("INC-1")
        await pilot.press("a")
        await settle()
        if isinstance(app.screen, Confirm):
            await pilot.press("y")
    elif name == "change approve":
        app.push_screen(ChangeDetailScreen("CHG-1"))
        await settle()
        await pilot.press("a")
        await settle()
        await pilot.press("enter")  # the comment is optional
    elif name == "banner set":
        await pilot.press("b")
        await settle()
        if isinstance(app.screen, BannerForm):
            await pilot.press(*"maintenance tonight", "enter")
    elif name == "override: someone else":
        await pilot.press("2")
        await settle()
        await pilot.press("o")
        await settle()
        if not isinstance(app.screen, OverrideForm):
            return
        app.screen.query_one("#login", Input).value = "ben"
        app.screen.query_one("#start", Input).value = "2030-01-01 09:00"
        app.screen.query_one("#end", Input).value = "2030-01-01 17:00"
        await pilot.press("ctrl+s")
    elif name == "override: remove someone else's":
        await pilot.press("2")
        await settle()
        if app.screen.table.move_to_key("OVR-1"):
            await pilot.press("d")
            await settle()
            if isinstance(app.screen, Confirm):
                await pilot.press("y")
    await settle()


UI_MUTATIONS = [
    ("incident ack", ANYONE),
    ("change approve", APPROVER),
    ("banner set", LEAD),
    ("override: someone else", LEAD),
    ("override: remove someone else's", LEAD),
]


@pytest.mark.parametrize("role", [*ROLES, "read-only"])
async def test_every_role_against_the_gated_mutations_through_the_console(
    role: str, role_store
) -> None:  # type: ignore[no-untyped-def]
    store, config = await asyncio.to_thread(role_store, "admin" if role == "read-only" else role)
    wrong = []
    for name, needed in UI_MUTATIONS:
        before = audit_rows(store)
        app = OpsdeskApp(
            Options(config=str(config), store=str(store), read_only=role == "read-only"),
            clock=lambda: FIXED_NOW, poll_interval=0, handle_hangup=False,
        )  # fmt: skip
        messages = Messages()
        async with app.run_test(size=(100, 30), message_hook=messages) as pilot:
            await ui_mutation(app, pilot, name)
            said = " | ".join(messages.said())
        written = audit_rows(store) - before
        should = role != "read-only" and allowed(needed, role)
        if should and not written:
            wrong.append(f"{name}: nothing written for {role} ({said})")
        if not should and written:
            wrong.append(f"{name}: {role} wrote {written} rows")
        if not should and said and "role" not in said and "read-only" not in said:
            wrong.append(f"{name}: {role} was refused without saying why: {said}")
    assert wrong == []


@pytest.mark.parametrize("group", [None, "own group"])
async def test_store_wal_and_shm_get_the_configured_mode_whatever_the_umask(
    tmp_path: Path, group: str | None
) -> None:
    """A permissive umask (0) must not leave the store or its -wal/-shm world-readable."""
    name = None if group is None else grp.getgrgid(os.getegid()).gr_name
    path = tmp_path / "team" / "s.db"
    saved = os.umask(0)
    try:
        async with await Store.open(path, group=name) as store:
            await store.banner.set(Actor("ana", frozenset({"lead"})), "hi", 0, FIXED_NOW)
            modes = {p.name: p.stat().st_mode & 0o777 for p in path.parent.iterdir()}
    finally:
        os.umask(saved)
    expected = 0o600 if group is None else 0o660
    assert modes == {"s.db": expected, "s.db-wal": expected, "s.db-shm": expected}
