"""One vocabulary (README "Words and formats"): JSON keeps machine forms (snake_case
states, ISO-8601 instants, durations as `*_seconds` numbers, a record's `key`, spans as
`from`/`to`, `created_by`, timeline `actor`), with the older names kept beside them for
scripts; text and the console share the same human words (`in progress`, `acknowledged`,
`on hold`), never a console-only spelling (`working`, `ack'd`, `running`)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import time_machine

from opsdesk.console.domain.lifecycle import event_words
from opsdesk.console.domain.text import words
from opsdesk.console.ops.changes import ChangeOps, ChangePlan
from opsdesk.console.ops.session import Options, open_session
from opsdesk.screens.changes import ChangesScreen
from opsdesk.screens.incident import IncidentScreen
from opsdesk.screens.queue import QueueScreen
from opsdesk.store import Store
from opsdesk.store.records import IncidentFilter
from tests.conftest import FIXED_NOW
from tests.test_app import make_app, table_text
from tests.test_cli_first_run import Cli
from tests.test_cli_first_run import team as team  # the fixture
from tests.waits import settle

CONSOLE_ONLY = ("working", "ack'd", "running")


def test_machine_names_read_as_words() -> None:
    assert words("in_progress") == "in progress"
    assert words("awaiting_vendor") == "awaiting vendor"
    assert words("new") == "new"


def test_timeline_entries_read_as_words_and_free_text_stays_as_written() -> None:
    assert event_words("on_hold", "state", "awaiting_vendor") == "on hold: awaiting vendor"
    assert event_words("resolved", "state", "no_fault_found: rebooted a_b") == (
        "resolved: no fault found: rebooted a_b"
    )
    assert event_words(None, "note", "see my_script") == "note: see my_script"
    assert event_words("in_progress", "state", "") == "in progress"
    assert event_words("resolved", "state", "my_own: words") == "resolved: my_own: words"


def test_json_durations_are_seconds_with_the_old_strings_kept(team: tuple[Cli, Path]) -> None:
    call, _ = team
    with time_machine.travel(FIXED_NOW, tick=False):
        assert call("incident", "new", "--title", "down", "--service", "wiki")[0] == 0
    with time_machine.travel(FIXED_NOW + timedelta(minutes=90), tick=False):
        code, shown = call("incident", "show", "INC-1", "--json")
        assert call("incident", "ack", "INC-1")[0] == 0
        assert call("incident", "hold", "INC-1", "--reason", "awaiting_vendor")[0] == 0
        code_text, text = call("incident", "show", "INC-1")
    assert code_text == 0 and "on hold: awaiting vendor" in text  # type: ignore[operator]
    assert code == 0
    resolve = shown["resolve_clock"]  # type: ignore[index]
    assert resolve["elapsed_seconds"] == 5400.0 and resolve["elapsed"] == "1h30m"
    assert isinstance(resolve["target_seconds"], float)
    assert resolve["remaining_seconds"] == resolve["target_seconds"] - 5400.0
    assert resolve["overdue_seconds"] is None and resolve["overdue"] is None


def test_records_say_key_from_to_and_created_by(team: tuple[Cli, Path], me: str) -> None:
    call, _ = team
    code, handoff = call("oncall", "handoff", "add", "--schedule", "platform", "quiet", "--json")
    assert code == 0
    assert (handoff["key"], handoff["created_by"]) == ("HND-1", me)  # type: ignore[index]
    assert (handoff["id"], handoff["author"]) == ("HND-1", me)  # type: ignore[index]  (kept)
    code, listed = call("oncall", "handoff", "list")
    header = listed.splitlines()[0].split()  # type: ignore[union-attr]
    assert code == 0 and header[:4] == ["key", "schedule", "by", "for"]  # not "from": a span
    window = ["--from", "2030-11-25T10:00Z", "--to", "2030-11-25T18:00Z"]  # still to come
    code, _said = call("oncall", "override", "add", "--schedule", "platform", "--person", me,
                       *window)  # fmt: skip
    assert code == 0
    code, [override] = call("oncall", "override", "list", "--json")  # type: ignore[misc]
    assert override["key"] == override["id"] == "OVR-1"
    assert (override["from"], override["to"]) == ("2030-11-25T10:00:00Z", "2030-11-25T18:00:00Z")
    code, now = call("oncall", "now", "--at", "2030-11-25T12:00Z", "--json")
    assert code == 0
    [entry] = now  # type: ignore[misc]
    assert (entry["from"], entry["to"]) == (entry["since"], entry["until"])
    assert entry["from"] == "2030-11-25T10:00:00Z"
    code, text = call("oncall", "now", "--at", "2030-11-25T12:00Z")
    assert code == 0 and "from (UTC)" in text and "since" not in text  # type: ignore[operator]


def test_change_list_and_show_in_words(team: tuple[Cli, Path], me: str) -> None:
    call, _ = team
    created = ["change", "new", "--title", "Rotate certs", "--type", "standard",
               "--service", "wiki", "--start", "2026-12-01T10:00Z", "--end", "2026-12-01T11:00Z"]  # fmt: skip
    with time_machine.travel(FIXED_NOW, tick=False):
        assert call(*created)[0] == 0
        assert call("change", "submit", "CHG-1", "--ack-conflicts")[0] == 0  # standard: scheduled
        code, shown = call("change", "show", "CHG-1")  # the implementer is on call then
        assert code == 0 and "conflict (on call)" in shown and "on_call" not in shown  # type: ignore[operator]
        assert call("change", "start", "CHG-1")[0] == 0
        code, listed = call("change", "list")
        assert code == 0 and "in progress" in listed and "in_progress" not in listed  # type: ignore[operator]
        assert call("change", "complete", "CHG-1")[0] == 0
        assert call("change", "close", "CHG-1")[0] == 0
        code, shown = call("change", "show", "CHG-1")
        assert code == 0 and "still needed" not in shown  # type: ignore[operator]  (closed)
        code, view = call("change", "show", "CHG-1", "--json")
    timeline = view["timeline"]  # type: ignore[index]
    assert all(e["actor"] == e["by"] == me for e in timeline)


async def test_the_console_uses_the_words_the_cli_uses(demo_store: Path) -> None:
    session = await open_session(Options(store=str(demo_store)), login="ana")
    try:
        start = FIXED_NOW - timedelta(minutes=10)
        plan = ChangePlan("Rotate certs", "standard", ("wiki",), start, start + timedelta(hours=1))
        ops = ChangeOps(session.store, session.config, session.actor)
        change = await ops.create(plan, FIXED_NOW - timedelta(hours=1))
        await ops.submit(change.key, FIXED_NOW - timedelta(hours=1), ack_conflicts=True)
        await ops.transition(change.key, "start", FIXED_NOW)
    finally:
        await session.close()
    async with await Store.open(demo_store) as store:
        found = await store.incidents.find(IncidentFilter(), limit=500)
    assert {"acknowledged", "in_progress"} <= {i.state for i in found}
    held = next(i for i in found if i.state == "on_hold" and i.hold_reason)
    app = make_app(demo_store, login="ana")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        rows = " ".join(table_text(queue))
        assert "in progress" in rows and "acknowledged" in rows
        assert not any(f" {word} " in rows for word in CONSOLE_ONLY)
        await pilot.press("4")
        await settle(app, pilot)
        changes = app.screen
        assert isinstance(changes, ChangesScreen)
        row = next(r for r in table_text(changes) if r.startswith(change.key + " "))
        assert " in progress " in row
        summary = str(changes.query_one("#summary").render())
        assert "in progress" in summary and "running" not in summary
        await pilot.press("v")  # the calendar lists it too
        await settle(app, pilot)
        calendar = str(app.screen.query_one("#calendar").render())
        listed = next(line for line in calendar.splitlines() if line.startswith(change.key))
        assert " in progress " in listed and "in_progress" not in calendar
        await pilot.press("escape")
        await settle(app, pilot)
        app.run_command(f"inc {held.key}")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentScreen)
        fields = str(app.screen.query_one("#fields").render())
        timeline = str(app.screen.query_one("#timeline").render())
        reason = str(held.hold_reason)
        assert f"on hold for: {words(reason)}" in " ".join(fields.split())
        assert f"on hold: {words(reason)}" in timeline and reason not in fields + timeline


def test_change_detail_names_conflict_kinds_in_words() -> None:
    from opsdesk.console.domain.change_rules import Conflict, Needed
    from opsdesk.console.ops.changes import ChangeView
    from opsdesk.screens.change_detail import render
    from opsdesk.store.records import ChangeRequest

    start = FIXED_NOW + timedelta(days=1)
    change = ChangeRequest(
        id=4, title="Resize", type="normal", risk="low", services=("wiki",),
        planned_start=start, planned_end=start + timedelta(hours=1), implementer="ana",
        requester="ben", state="submitted", version=2,
    )  # fmt: skip
    conflicts = [
        Conflict("on_call", "ana is on call for platform"),
        Conflict("implementer_busy", "ana also implements CHG-5"),
    ]
    view = ChangeView(change, [], Needed(1, 0, False), conflicts, [], [])
    text = render(view).plain
    assert "on call: ana is on call" in text and "implementer busy: ana also" in text
    assert "on_call" not in text and "implementer_busy" not in text


def test_table_headings_are_lowercase_words_like_every_other_table() -> None:
    from opsdesk.console.cli.paging import HEADERS

    assert all(h.replace("(UTC)", "") == h.replace("(UTC)", "").lower() for h in HEADERS)
