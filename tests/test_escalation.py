"""The queue and the on-call rules together: escalate by hand, escalate by itself when
nobody acknowledges (once, however many consoles are open), and auto-assign new incidents
to whoever the service's policy pages first."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import time_machine

from opsdesk.console.cli import run
from opsdesk.console.config.loader import parse_text
from opsdesk.console.ops.incidents import IncidentOps, due_level
from opsdesk.console.ops.session import Options, open_session
from opsdesk.console.tui.app import OpsdeskApp
from opsdesk.screens.dialogs import Confirm
from opsdesk.screens.queue import QueueScreen
from opsdesk.store import Actor, NewIncident, Store
from opsdesk.store.records import Incident
from tests.conftest import FIXED_NOW
from tests.test_app import SIZE, settle
from tests.test_queue_actions import cursor_to
from tests.waits import Messages

TEAM = """
[[people]]
login = "ana"
[[people]]
login = "ben"
[[people]]
login = "cruz"
[queue]
auto_assign = true
[[services]]
name = "payments"
[[services]]
name = "wiki"
[[schedules]]
name = "platform"
timezone = "UTC"
[[schedules.layers]]
name = "primary"
members = ["ana", "cruz"]
rotation = "1d"
start = "2026-11-01T09:00"
[[escalation_policies]]
service = "payments"
levels = [{ schedule = "platform", after = "0m" }, { person = "ben", after = "15m" }]
"""


def test_next_level_is_due_after_its_delay_and_not_days_later() -> None:
    config = parse_text(TEAM, "team")
    new = NewIncident("db down", "payments", 1, 1, "P1")
    incident = _incident(new)
    assert due_level(config, incident, FIXED_NOW + timedelta(minutes=14)) is None
    assert due_level(config, incident, FIXED_NOW + timedelta(minutes=15)) == 2
    assert due_level(config, incident, FIXED_NOW + timedelta(days=2)) is None  # stale
    assert (
        due_level(config, replace(incident, escalation_level=2), FIXED_NOW + timedelta(hours=1))
        is None
    )
    acked = replace(incident, state="acknowledged")
    assert due_level(config, acked, FIXED_NOW + timedelta(minutes=20)) is None
    assert (
        due_level(config, replace(incident, service="wiki"), FIXED_NOW + timedelta(hours=1)) is None
    )


def _incident(new: NewIncident) -> Incident:
    return Incident(
        1, new.title, "", new.service, 1, 1, "P1", "new", None, None, "eve", "manual", None,
        FIXED_NOW, None, None, None, None, None, None, 1, FIXED_NOW, "eve",
    )  # fmt: skip


def test_auto_assign_then_escalate_by_hand_from_the_cli(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "team.toml"
    config.write_text(TEAM)
    base = ["--config", str(config), "--store", str(tmp_path / "s.db")]
    with time_machine.travel(FIXED_NOW, tick=False):  # 24 days after the start: ana again
        assert run([*base, "incident", "new", "--title", "card auth down", "--service",
                    "payments", "--json"]) == 0  # fmt: skip
        created = json.loads(capsys.readouterr().out)
        assert (created["assignee"], created["escalation_level"]) == ("ana", 1)
        assert run([*base, "incident", "escalate", "INC-1", "--json"]) == 0
        escalated = json.loads(capsys.readouterr().out)
        assert (escalated["assignee"], escalated["escalation_level"]) == ("ben", 2)
        assert run([*base, "incident", "show", "INC-1", "--json"]) == 0
        timeline = json.loads(capsys.readouterr().out)["timeline"]
        assert timeline[-2]["kind"] == "escalated"
        assert timeline[-2]["detail"] == "level 2 of 2: ben (via person)"
        assert (timeline[-1]["kind"], timeline[-1]["actor"]) == ("paged", "opsdesk")
        assert run([*base, "incident", "escalate", "INC-1"]) == 1
        assert "already at the last level (2) of payments" in capsys.readouterr().err
        assert run([*base, "incident", "escalate"]) == 2
        assert run([*base, "incident", "new", "--title", "wiki slow", "--service", "wiki"]) == 0
        assert run([*base, "incident", "escalate", "INC-2"]) == 1
        assert "no escalation policy" in capsys.readouterr().err


async def test_unacknowledged_incidents_escalate_once_across_consoles(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    config = parse_text(TEAM, "team")
    async with await Store.open(path) as store:
        ops = IncidentOps(store, config, Actor("ana"))
        first = await ops.create("card auth down", "payments", FIXED_NOW)
        acked = await ops.create("refunds slow", "payments", FIXED_NOW)
        await ops.transition(acked.key, "acknowledge", FIXED_NOW + timedelta(minutes=5))
    later = FIXED_NOW + timedelta(minutes=16)
    stores = [await Store.open(path) for _ in range(3)]
    try:
        consoles = [
            IncidentOps(s, config, Actor(name)) for s, name in zip(stores, "abc", strict=True)
        ]
        results = await asyncio.gather(*(c.escalate_due(later) for c in consoles))
        assert sorted(i.key for found in results for i in found) == [first.key]  # once
        assert await consoles[0].escalate_due(later + timedelta(minutes=1)) == []
        after = await stores[0].incidents.get(first.key)
        assert (after.escalation_level, after.assignee) == (2, "ben")
        events = await stores[0].incidents.events(first.key)
        assert [e.kind for e in events].count("escalated") == 1
        escalated = next(e for e in events if e.kind == "escalated")
        assert escalated.actor == "opsdesk"  # the system, not whoever's console it was
        assert escalated.detail == "not acknowledged after 16m; level 2 of 2: ben (via person)"
    finally:
        for store in stores:
            await store.close()


async def test_the_console_escalates_by_itself_and_E_escalates_by_hand(demo_store: Path) -> None:
    session = await open_session(Options(store=str(demo_store)), login="ana")
    try:
        ops = IncidentOps(session.store, session.config, session.actor)
        waiting = await ops.create("card auth down", "payments", FIXED_NOW - timedelta(minutes=20))
        fresh = await ops.create("checkout 500s", "payments", FIXED_NOW)
    finally:
        await session.close()
    app = OpsdeskApp(
        Options(store=str(demo_store)), clock=lambda: FIXED_NOW, feed_interval=3600,
        escalate_interval=0.1, handle_hangup=False, poll_interval=0, login="ana",
    )  # fmt: skip
    messages = Messages()
    async with app.run_test(size=SIZE, message_hook=messages) as pilot:
        # Nobody presses a key: the console's escalation timer finds the incident.
        await messages.notification("Escalated (not acknowledged)", "the automatic escalation")
        await settle(app, pilot)
        toasts = [str(n.message) for n in messages.notifications if n.title.startswith("Escalated")]
        assert len(toasts) == 1 and toasts[0].startswith(f"{waiting.key} → level 2")
        assert isinstance(app.screen, QueueScreen)
        await cursor_to(app, pilot, fresh.key)
        await pilot.press("E")
        await settle(app, pilot)
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await settle(app, pilot)
    async with await Store.open(demo_store) as store:
        assert (await store.incidents.get(waiting.key)).escalation_level == 2
        assert (await store.incidents.get(fresh.key)).escalation_level == 2
