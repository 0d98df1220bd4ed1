"""The demo in daily use: its incidents carry a real timeline that later actions extend (SLA
clocks survive a note, an ack, an escalation), `opsdesk demo` reopens what the user did and
says how the commands reach it, and its vendors show a recorded state without the internet."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.widgets import Static

import opsdesk.console.cli.incidents as cli_incidents
from opsdesk.console.cli import run
from opsdesk.console.ops.demo import build_demo
from opsdesk.console.ops.demo_team import demo_config
from opsdesk.console.ops.poller import Poller
from opsdesk.console.ops.session import (
    Options,
    default_demo_path,
    default_store_path,
    open_session,
)
from opsdesk.console.tui.app import OpsdeskApp
from opsdesk.screens.vendors import VendorsScreen
from opsdesk.store import Store
from tests.conftest import FIXED_NOW
from tests.waits import settle

CLOCK_FIELDS = ("state", "due", "breached")


@pytest.fixture
def demo_cli(demo_store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """`opsdesk --store DEMO ...` at a pinned time (FIXED_NOW plus the minutes set)."""
    at = {"minutes": 5}
    monkeypatch.setattr(cli_incidents, "now", lambda: FIXED_NOW + timedelta(minutes=at["minutes"]))

    def call(*argv: str) -> Any:
        code = run(["--store", str(demo_store), *argv])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        return json.loads(captured.out) if "--json" in argv else captured.out

    call.at = at  # type: ignore[attr-defined]
    return call


def clocks_of(shown: dict[str, Any]) -> dict[str, Any]:
    return {
        name: {field: shown[name][field] for field in CLOCK_FIELDS}
        for name in ("respond_clock", "resolve_clock")
    } | {"response_due": shown["response_due"], "resolve_due": shown["resolve_due"]}


def demo_incidents(demo_cli: Any) -> list[dict[str, Any]]:
    return demo_cli("incident", "list", "--all", "--json", "--limit", "1000")  # type: ignore[no-any-return]


def test_demo_incidents_have_their_history_on_the_timeline(demo_store: Path) -> None:
    conn = sqlite3.connect(demo_store)
    try:
        kinds = dict(
            conn.execute(
                "SELECT coalesce(state, kind), count(*) FROM incident_events GROUP BY 1"
            ).fetchall()
        )
        total = conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
        without = conn.execute(
            "SELECT count(*) FROM incidents WHERE id NOT IN"
            " (SELECT incident_id FROM incident_events WHERE kind = 'created')"
        ).fetchone()[0]
        mismatched = conn.execute(
            "SELECT count(*) FROM incidents i WHERE"
            " (acknowledged_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM incident_events e"
            "  WHERE e.incident_id = i.id AND e.state = 'acknowledged'"
            "  AND e.at = i.acknowledged_at))"
            " OR (resolved_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM incident_events e"
            "  WHERE e.incident_id = i.id AND e.state = 'resolved' AND e.at = i.resolved_at))"
            " OR (closed_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM incident_events e"
            "  WHERE e.incident_id = i.id AND e.state = 'closed' AND e.at = i.closed_at))"
            " OR (state = 'on_hold' AND NOT EXISTS (SELECT 1 FROM incident_events e"
            "  WHERE e.incident_id = i.id AND e.state = 'on_hold' AND e.detail = i.hold_reason))"
        ).fetchone()[0]
    finally:
        conn.close()
    assert without == 0 and mismatched == 0
    assert kinds["new"] == total
    assert {"acknowledged", "resolved", "closed", "in_progress", "on_hold"} <= set(kinds)


def test_list_and_show_agree_on_every_demo_incident(demo_cli: Any) -> None:
    listed = demo_incidents(demo_cli)
    assert len(listed) == 300
    for incident in listed:
        key = incident["key"]
        shown = demo_cli("incident", "show", key, "--json")
        assert shown["resolve_due"] == incident["resolve_due"], key
        assert shown["response_due"] == incident["response_due"], key
        for clock, stored in (
            (shown["respond_clock"], incident["response_due"]),
            (shown["resolve_clock"], incident["resolve_due"]),
        ):
            kept = clock["state"] == "running" or clock["breached"]
            kept |= clock["reason"] == "paused: outside business hours"
            assert stored == (clock["due"] if kept else None), key


def test_a_note_an_ack_and_an_escalation_keep_the_demo_clocks(demo_cli: Any) -> None:
    listed = {i["key"]: i for i in demo_incidents(demo_cli)}
    breached_p1 = [
        i for i in listed.values()
        if i["priority"] == "P1" and i["acknowledged_at"] and i["resolve_breached"]
    ]  # fmt: skip
    acknowledged = [i for i in listed.values() if i["state"] in ("acknowledged", "in_progress")]
    fresh = [i for i in listed.values() if i["state"] == "new"]
    on_hold = [i for i in listed.values() if i["state"] == "on_hold"]
    assert breached_p1 and acknowledged and fresh and on_hold
    target = breached_p1[0]["key"]
    before = demo_cli("incident", "show", target, "--json")
    assert before["resolve_clock"]["breached"] and before["respond_clock"]["state"] == "stopped"

    demo_cli("incident", "note", target, "customer called again")
    after = demo_cli("incident", "show", target, "--json")
    assert clocks_of(after) == clocks_of(before)
    assert after["timeline"][:-1] == before["timeline"]
    assert after["timeline"][-1]["kind"] == "note"

    demo_cli.at["minutes"] = 10
    for incident in (acknowledged[0], on_hold[0]):
        key, state = incident["key"], incident["state"]
        before = demo_cli("incident", "show", key, "--json")
        demo_cli("incident", "note", key, "looking")
        if state == "in_progress":
            demo_cli("incident", "hold", key, "--reason", "awaiting_vendor", "--json")
        else:
            demo_cli("incident", "start" if state == "acknowledged" else "resume", key, "--json")
        after = demo_cli("incident", "show", key, "--json")
        assert after["respond_clock"] == before["respond_clock"], key
        assert after["resolve_clock"]["breached"] == before["resolve_clock"]["breached"], key
        assert after["resolve_clock"]["elapsed"] >= before["resolve_clock"]["elapsed"], key
        assert after["timeline"][: len(before["timeline"])] == before["timeline"], key
        assert after["timeline"][0]["kind"] == "created"
        assert after["timeline"][0]["at"] == incident["created_at"]

    key = fresh[0]["key"]
    before = demo_cli("incident", "show", key, "--json")
    demo_cli("incident", "ack", key, "--json")
    after = demo_cli("incident", "show", key, "--json")
    assert after["respond_clock"]["state"] == "stopped"
    assert after["respond_clock"]["due"] == before["respond_clock"]["due"]
    assert after["resolve_clock"]["due"] == before["resolve_clock"]["due"]
    assert after["resolve_clock"]["breached"] == before["resolve_clock"]["breached"]

    payments = [i for i in listed.values() if i["service"] == "payments" and i["state"] != "new"]
    open_payments = [i for i in payments if i["state"] in ("acknowledged", "in_progress")]
    if open_payments:
        key = open_payments[0]["key"]
        before = demo_cli("incident", "show", key, "--json")
        demo_cli("incident", "escalate", key, "--json")
        after = demo_cli("incident", "show", key, "--json")
        assert clocks_of(after) == clocks_of(before)

    for incident in demo_incidents(demo_cli):
        shown = demo_cli("incident", "show", incident["key"], "--json")
        assert shown["resolve_due"] == incident["resolve_due"]


def test_demo_reopens_and_says_how_to_reach_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "d.db"
    assert run(["demo", "--store", str(path), "--incidents", "40", "--no-ui"]) == 0
    err = capsys.readouterr().err
    hint = (
        f"opsdesk: the demo is at {path}; use --store {path} with any command, "
        f"e.g. opsdesk --store {path} incident list\n"
    )
    assert err.endswith(hint)
    assert run(["--store", str(path), "incident", "note", "INC-40", "mine"]) == 0
    capsys.readouterr()
    assert run(["demo", "--store", str(path), "--incidents", "40", "--no-ui"]) == 0
    err = capsys.readouterr().err
    assert "building" not in err and "--reset" in err and err.endswith(hint)
    conn = sqlite3.connect(path)
    notes = conn.execute("SELECT count(*) FROM incident_events WHERE kind = 'note'").fetchone()
    conn.close()
    assert notes == (1,)
    assert run(["demo", "--store", str(path), "--incidents", "40", "--no-ui", "--reset"]) == 0
    assert "building" in capsys.readouterr().err
    conn = sqlite3.connect(path)
    notes = conn.execute("SELECT count(*) FROM incident_events WHERE kind = 'note'").fetchone()
    conn.close()
    assert notes == (0,)


def test_the_cli_finds_the_demo_while_there_is_no_other_store(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(["demo", "--incidents", "30", "--no-ui"]) == 0
    capsys.readouterr()
    demo = default_demo_path()
    assert demo.exists() and not default_store_path().exists()
    assert run(["incident", "show", "INC-12"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("INC-12 ")
    assert captured.err == f"opsdesk: using the demo store {demo} (no other store yet)\n"
    asyncio.run(_make_store(default_store_path()))
    assert run(["incident", "list", "--all"]) == 0
    captured = capsys.readouterr()
    assert "using the demo" not in captured.err and "INC-12" not in captured.out


async def _make_store(path: Path) -> None:
    async with await Store.open(path):
        pass


async def test_demo_vendors_show_a_recorded_state_and_are_not_polled(demo_store: Path) -> None:
    session = await open_session(Options(store=str(demo_store)))
    try:
        states = {s.source: s for s in await session.store.statuses.all()}
        names = [s.name for s in session.config.sources]
        assert set(states) == set(names)
        levels = {name: states[name].level for name in names}
        assert levels["sendgrid"] == "degraded" and levels["atlassian"] == "maintenance"
        assert list(levels.values()).count("operational") == len(names) - 2
        assert states["sendgrid"].report and states["sendgrid"].report["incidents"]
        month = FIXED_NOW.replace(day=1, hour=0, minute=0, second=0)
        outages = [
            change
            for name in names
            for change in await session.store.statuses.history(name, month)
            if change.level == "major_outage"
        ]
        assert len(outages) == 1 and month <= outages[0].at < FIXED_NOW
        poller = Poller(
            session.store, session.config, session.actor, lambda: FIXED_NOW + timedelta(days=3)
        )
        try:
            assert await poller.poll() == []  # nothing due: no request leaves the machine
        finally:
            await poller.close()
    finally:
        await session.close()
    assert all(s["interval"] == "1h" for s in demo_config("me")["sources"])

    app = OpsdeskApp(
        Options(store=str(demo_store)),
        clock=lambda: FIXED_NOW,
        feed_interval=3600.0,
        poll_interval=0,
        handle_hangup=False,
        login="ana",
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, VendorsScreen)
        summary = screen.query_one("#summary", Static).render()
        text = summary.plain if isinstance(summary, Text) else str(summary)
        assert "Not operational 2" in text and "Unknown 0" in text
        rows = " ".join(" ".join(str(c) for c in row.cells) for row in screen.table.loaded_rows())
        assert "unknown" not in rows and "not polled" not in rows


async def test_unknown_vendors_are_counted_in_the_header(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    await build_demo(path, incidents=20, seed=1, now=FIXED_NOW, creator="me")
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM source_status WHERE source IN ('github', 'aws')")
    conn.commit()
    conn.close()
    app = OpsdeskApp(
        Options(store=str(path)),
        clock=lambda: FIXED_NOW,
        feed_interval=3600.0,
        poll_interval=0,
        handle_hangup=False,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        summary = app.screen.query_one("#summary", Static).render()
        text = summary.plain if isinstance(summary, Text) else str(summary)
        assert "Not operational 2" in text and "Unknown 2" in text
