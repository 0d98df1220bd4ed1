"""Acting on incidents from the console: confirmations, forms, bulk, stale writes."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from textual.widgets import Input

from opsdesk.console.ops.incidents import IncidentOps
from opsdesk.console.ops.session import Options, open_session
from opsdesk.screens.dialogs import Confirm, MetricsScreen
from opsdesk.screens.forms import Ask, Choose, NewIncidentForm, OverrideForm
from opsdesk.screens.incident import IncidentScreen
from opsdesk.screens.queue import QueueScreen
from opsdesk.screens.table import OpsTable
from opsdesk.store import Actor, Store
from tests.conftest import FIXED_NOW
from tests.test_app import SIZE, make_app, settle
from tests.waits import Messages


def new_keys(screen: QueueScreen) -> list[str]:
    """New, unassigned incidents on the queue screen."""
    rows = screen.table.loaded_rows()
    return [r.key for r in rows if r.record.state == "new" and r.record.assignee is None]


async def cursor_to(app, pilot, key: str) -> None:  # type: ignore[no-untyped-def]
    assert app.screen.table.move_to_key(key), f"{key} is not loaded"
    await pilot.pause()


async def open_new_incidents(store: Path, count: int, at: datetime = FIXED_NOW) -> None:
    session = await open_session(Options(store=str(store)), login="ana")
    try:
        ops = IncidentOps(session.store, session.config, session.actor)
        for n in range(count):
            await ops.create(f"printer {n} jammed", "wiki", at, impact=1, urgency=1)
    finally:
        await session.close()


async def test_bulk_acknowledge_marked_rows_after_confirmation(demo_store: Path, me: str) -> None:
    await open_new_incidents(demo_store, 2)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        first, second = new_keys(screen)[:2]
        for key in (first, second):
            await cursor_to(app, pilot, key)
            await pilot.press("space")
        assert screen.table.marked == {first, second}
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await settle(app, pilot)
        assert screen.table.marked == set()
    async with await Store.open(demo_store) as store:
        for key in (first, second):
            incident = await store.incidents.get(key)
            assert (incident.state, incident.assignee) == ("acknowledged", me)
        audit = await store.audit.entries(entity_key=first)
        assert audit[-1].action == "incident.acknowledge" and audit[-1].actor == me


async def test_declining_the_confirmation_changes_nothing(demo_store: Path) -> None:
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        key = new_keys(app.screen)[0]  # type: ignore[arg-type]
        await cursor_to(app, pilot, key)
        await pilot.press("t")
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
    async with await Store.open(demo_store) as store:
        assert (await store.incidents.get(key)).state == "new"


async def test_hold_and_resume_from_the_detail_screen(demo_store: Path) -> None:
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        key = next(r.key for r in app.screen.table.loaded_rows() if r.record.state == "in_progress")  # type: ignore[attr-defined]
        await cursor_to(app, pilot, key)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentScreen)
        assert app.screen.check_action("incident", ("resume",)) is None  # greyed
        await pilot.press("h")
        await settle(app, pilot)
        assert isinstance(app.screen, Choose)
        await pilot.press("down", "enter")  # awaiting vendor
        await settle(app, pilot)  # written, and the feed brought the change to the screen
        detail = app.screen
        assert isinstance(detail, IncidentScreen)
        assert detail.view is not None and detail.view.incident.state == "on_hold"
        assert "paused: on hold (awaiting vendor)" in str(detail.query_one("#clocks").render())
        await pilot.press("u", "y")
        await settle(app, pilot)
    async with await Store.open(demo_store) as store:
        events = await store.incidents.events(key)
        assert [(e.kind, e.state, e.detail) for e in events[-2:]] == [
            ("state", "on_hold", "awaiting_vendor"), ("state", "in_progress", ""),
        ]  # fmt: skip


async def test_a_stale_screen_is_told_who_changed_it(demo_store: Path) -> None:
    app = make_app(demo_store)
    messages = Messages()
    async with app.run_test(size=SIZE, message_hook=messages) as pilot:
        await settle(app, pilot)
        key = new_keys(app.screen)[0]  # type: ignore[arg-type]
        await cursor_to(app, pilot, key)
        session = await open_session(Options(store=str(demo_store)), login="dana")
        try:
            await IncidentOps(session.store, session.config, session.actor).take(key, FIXED_NOW)
        finally:
            await session.close()
        await pilot.press("a", "y")  # before the feed shows dana's change
        await settle(app, pilot)
        said = messages.said()
        assert any(f"{key} was changed by dana since you looked" in m for m in said), said
    async with await Store.open(demo_store) as store:
        assert (await store.incidents.get(key)).assignee == "dana"


async def test_new_incident_form_validates_then_creates(demo_store: Path) -> None:
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, NewIncidentForm)
        form.query_one("#title", Input).value = "VPN drops every 10 minutes"
        form.query_one("#service", Input).value = "vpn"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, NewIncidentForm)
        assert "unknown service" in str(form.query_one("#problem").render())
        form.query_one("#service", Input).value = "auth"
        form.query_one("#impact", Input).value = "1"
        form.query_one("#urgency", Input).value = "1"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)
    async with await Store.open(demo_store) as store:
        [newest] = await store.incidents.recent(1)
        assert (newest.title, newest.service, newest.priority) == (
            "VPN drops every 10 minutes",
            "auth",
            "P1",
        )
        assert newest.response_due is not None


async def test_note_needs_text_and_read_only_hides_actions(demo_store: Path) -> None:
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        key = app.screen.query_one(OpsTable).selected_key()
        await pilot.press("c")
        await settle(app, pilot)
        assert isinstance(app.screen, Ask)
        await pilot.press("enter")
        assert isinstance(app.screen, Ask)
        await pilot.press(*"called the vendor", "enter")
        await settle(app, pilot)
    async with await Store.open(demo_store) as store:
        events = await store.incidents.events(key)  # type: ignore[arg-type]
        assert events[-1].kind == "note" and events[-1].detail == "called the vendor"
    viewer = make_app(demo_store, read_only=True)
    async with viewer.run_test(size=SIZE) as pilot:
        await settle(viewer, pilot)
        for action, params in (
            ("take", ()),
            ("resolve", ()),
            ("new_incident", ()),
            ("incident", ("acknowledge",)),
        ):
            assert viewer.screen.check_action(action, params) is None  # greyed
        await pilot.press("n")
        await settle(viewer, pilot)
        assert isinstance(viewer.screen, QueueScreen)


async def test_engineer_without_roles_can_work_incidents(demo_store: Path) -> None:
    app = make_app(demo_store, login="kofi")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        key = new_keys(app.screen)[0]  # type: ignore[arg-type]
        await cursor_to(app, pilot, key)
        await pilot.press("t", "y")
        await settle(app, pilot)
    async with await Store.open(demo_store) as store:
        assert (await store.incidents.get(key)).assignee == "kofi"
        assert Actor("kofi").roles == frozenset({"engineer"})


async def test_quick_filters_and_new_p1_alert(demo_store: Path, me: str) -> None:
    await open_new_incidents(demo_store, 1, at=FIXED_NOW - timedelta(hours=1))  # breached
    app = make_app(demo_store)
    rang: list[bool] = []
    app.bell = lambda: rang.append(True)  # type: ignore[method-assign]
    messages = Messages()
    async with app.run_test(size=SIZE, message_hook=messages) as pilot:
        await settle(app, pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        await pilot.press("colon", *"breached", "enter")
        await settle(app, pilot)
        assert queue.quick == "breached"
        assert queue.table.loaded_rows() and all(
            (r.record.response_due or r.record.resolve_due) < FIXED_NOW
            for r in queue.table.loaded_rows()
        )
        await pilot.press("f")
        await settle(app, pilot)
        assert isinstance(app.screen, Choose)
        await pilot.press(*["down"] * 2, "enter")  # unassigned
        await settle(app, pilot)
        assert queue.quick == "unassigned"
        assert all(r.record.assignee is None for r in queue.table.loaded_rows())
        assert "open incidents nobody has taken" in str(queue.query_one("#summary").render())

        await open_new_incidents(demo_store, 1)
        await settle(app, pilot)  # the feed's next look finds the new P1
        alerts = messages.titled("New P1")
        assert len(alerts) == 1
        assert "printer 0 jammed" in str(alerts[0].message)
        assert rang == [True]


async def test_metrics_strip_and_view(demo_store: Path) -> None:
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await settle(app, pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        summary = str(queue.query_one("#summary").render())
        assert "MTTA" in summary and "SLA" in summary and "breached" in summary
        await pilot.press("m")
        await settle(app, pilot)
        assert isinstance(app.screen, MetricsScreen)
        table = app.screen.query_one("#help-table")
        measures = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]  # type: ignore[attr-defined]
        assert measures[:3] == ["MTTA mean", "MTTA median", "MTTA p90"]
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)


async def test_live_update_keeps_an_open_form_and_alerts_literally(demo_store: Path) -> None:
    app = make_app(demo_store)
    app.bell = lambda: None  # type: ignore[method-assign]
    messages = Messages()
    async with app.run_test(size=SIZE, message_hook=messages) as pilot:
        await settle(app, pilot)
        await pilot.press("c")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, Ask)
        await pilot.press(*"half a note")
        session = await open_session(Options(store=str(demo_store)), login="ana")
        try:
            ops = IncidentOps(session.store, session.config, session.actor)
            await ops.create(
                "[@click=app.quit]boom[/] \x1b]0;x\x07", "wiki", FIXED_NOW, impact=1, urgency=1
            )
        finally:
            await session.close()
        await settle(app, pilot)  # the feed's next look finds the new P1
        assert app.screen is form
        assert form.query_one(Input).value == "half a note"
        [alert] = messages.titled("New P1")
        assert "[@click=app.quit]boom[/]" in str(alert.message)
        assert "\x1b" not in str(alert.message)
        assert alert.markup is False


async def test_add_and_remove_an_override_from_the_oncall_screen(demo_store: Path, me: str) -> None:
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        await pilot.press("o")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, OverrideForm)
        form.query_one("#end", Input).value = "2026-11-25 11:00"  # before the default start
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "must end after it starts" in str(form.query_one("#problem").render())
        form.query_one("#end", Input).value = "2026-11-26 08:00"
        form.query_one("#reason", Input).value = "covering for ana"
        await pilot.press("ctrl+s")
        await settle(app, pilot)  # written, and the feed brought the change to the screen
        async with await Store.open(demo_store) as store:
            mine = [
                o
                for o in await store.overrides.not_ended(FIXED_NOW)
                if o.reason == "covering for ana"
            ]
        assert [(o.login, o.schedule, o.created_by) for o in mine] == [(me, "platform", me)]
        key = f"OVR-{mine[0].id}"
        await cursor_to(app, pilot, key)
        await pilot.press("d", "y")
        await settle(app, pilot)
    async with await Store.open(demo_store) as store:
        assert all(o.id != mine[0].id for o in await store.overrides.not_ended(FIXED_NOW))
