"""First run and daily use: confirmations that wrap, forms that ask before throwing typed
text away, a change form with named fields, a help screen with every key (greyed where it
does not apply, and a key that does not apply saying why), the command palette's opsdesk
commands, the `:` line's history and completion, and type-ahead in pickers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Static

from opsdesk.console.config.keymap import KEYS
from opsdesk.console.ops.changes import ChangeOps, ChangePlan
from opsdesk.console.ops.session import Options, open_session
from opsdesk.screens.change_detail import ChangeDetailScreen
from opsdesk.screens.change_form import NewChangeForm
from opsdesk.screens.changes import ChangesScreen
from opsdesk.screens.dialogs import CommandLine, Confirm, HelpScreen, complete
from opsdesk.screens.forms import Ask, Choose, NewIncidentForm
from opsdesk.screens.incident import IncidentScreen
from opsdesk.screens.queue import QueueScreen
from opsdesk.screens.vendor_detail import VendorDetailScreen
from opsdesk.store import Store
from tests.conftest import FIXED_NOW
from tests.test_app import make_app
from tests.waits import Messages, settle

SMALL, LARGE = (80, 24), (120, 40)


def shown(widget: Widget) -> list[str]:
    """The lines `widget` draws, as plain text."""
    width, height = widget.size
    return [strip.text for strip in widget.render_lines(Region(0, 0, width, height))]


def words(text: str) -> list[str]:
    return text.split()


def assert_question_fits(app: object, question: str, size: tuple[int, int]) -> None:
    """The whole question is drawn, wrapped inside the dialog and inside the terminal."""
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, Confirm)
    label = screen.query_one("#question", Static)
    lines = shown(label)
    assert words(" ".join(lines)) == words(question), lines
    dialog = screen.query_one(".dialog")
    assert dialog.region.contains_region(label.region)
    assert Region(0, 0, *size).contains_region(dialog.region)
    assert all(len(line.rstrip()) <= label.size.width for line in lines)
    if len(question) > label.size.width:
        assert label.size.height > 1  # wrapped, not cut off


async def first_open_row(app: object, pilot: object) -> str:
    queue = app.screen  # type: ignore[attr-defined]
    assert isinstance(queue, QueueScreen)
    return queue.table.selected_key()  # type: ignore[return-value]


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_the_escalate_question_wraps_instead_of_being_cut_off(
    demo_store: Path, size: tuple[int, int]
) -> None:
    app = make_app(demo_store, login="ana")
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        key = await first_open_row(app, pilot)
        await pilot.press("E")
        await settle(app, pilot)
        question = (
            f"Escalate {key} to the next level of the escalation policy "
            "(and assign it to whoever that level pages now)?"
        )
        assert_question_fits(app, question, size)
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_submit_despite_conflicts_shows_the_whole_question(
    demo_store: Path, size: tuple[int, int]
) -> None:
    session = await open_session(Options(store=str(demo_store)), login="ana")
    try:
        ops = ChangeOps(session.store, session.config, session.actor)
        start = FIXED_NOW + timedelta(days=2)
        window = (start, start + timedelta(hours=1))
        first = await ops.create(
            ChangePlan("Tune cache", "standard", ("wiki",), *window), FIXED_NOW
        )
        await ops.submit(first.key, FIXED_NOW)
        second = await ops.create(
            ChangePlan("Rotate the wiki's TLS certificates", "standard", ("wiki",), *window),
            FIXED_NOW,
        )
        conflicts = (await ops.view(second.key, FIXED_NOW)).conflicts
    finally:
        await session.close()
    assert conflicts
    app = make_app(demo_store, login="ana")
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        app.push_screen(ChangeDetailScreen(second.key))
        await settle(app, pilot)
        await pilot.press("S")
        await settle(app, pilot)
        reasons = "; ".join(c.reason for c in conflicts)
        question = f"{second.key} has conflicts: {reasons}. Submit anyway?"
        assert_question_fits(app, question, size)


async def test_escape_on_a_filled_note_asks_before_discarding(demo_store: Path) -> None:
    app = make_app(demo_store)
    async with app.run_test(size=SMALL) as pilot:
        await settle(app, pilot)
        await pilot.press("c")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, Ask)
        await pilot.press("escape")  # nothing typed: closes at once
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)
        await pilot.press("c", *"half a note", "escape")
        await settle(app, pilot)
        assert isinstance(app.screen, Confirm)
        assert "Discard what you typed?" in " ".join(shown(app.screen.query_one("#question")))
        await pilot.press("n")  # keep it
        await settle(app, pilot)
        assert isinstance(app.screen, Ask)
        assert app.screen.query_one(Input).value == "half a note"
        await pilot.press("escape", "y")
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)


async def test_escape_on_a_filled_new_incident_form_asks(demo_store: Path) -> None:
    app = make_app(demo_store)
    async with app.run_test(size=SMALL) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, NewIncidentForm)
        assert app.focused is app.screen.query_one("#title")
        await pilot.press(*"VPN drops", "escape")
        await settle(app, pilot)
        assert isinstance(app.screen, Confirm)
        await pilot.press("escape")  # Esc on the question keeps the form
        await settle(app, pilot)
        assert isinstance(app.screen, NewIncidentForm)
        await pilot.press("escape", "y")
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)


async def test_new_change_form_has_named_fields_and_starts_in_the_title(demo_store: Path) -> None:
    app = make_app(demo_store, login="ana")
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("4")
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, NewChangeForm)
        assert app.focused is form.query_one("#title")
        await pilot.press(*"Resize disks")
        names = {}
        for box in form.query(Input):
            label = box.parent.query_one(Label) if box.parent else None  # type: ignore[union-attr]
            assert label is not None and label.region.y == box.region.y  # beside its field
            names[box.id] = str(label.render()).strip()
        assert names["title"] == "Title" and names["services"] == "Services"
        assert names["backout_plan"] == "Backout plan" and len(names) == 8
        assert all(Region(0, 0, *SMALL).contains_region(b.region) for b in form.query(Input))
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, Confirm)  # "Resize disks" was typed
        await pilot.press("y")
        await settle(app, pilot)
        assert isinstance(app.screen, ChangesScreen)


def help_rows(app: object) -> list[tuple[str, str, str, str, str]]:
    """(key, does, id, why not now, style) for every row of the help table."""
    table = app.screen.query_one("#help-table")  # type: ignore[attr-defined]
    rows = []
    for index in range(table.row_count):
        cells = table.get_row_at(index)
        rows.append((*(c.plain for c in cells), str(cells[1].style)))
    return rows


async def test_help_lists_every_key_greyed_where_it_does_not_apply(demo_store: Path) -> None:
    app = make_app(demo_store, login="ana")
    async with app.run_test(size=LARGE) as pilot:
        await settle(app, pilot)
        app.run_command("inc INC-299")  # resolved
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentScreen)
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        rows = help_rows(app)
        ids = [row[2] for row in rows]
        wanted = {k.id for group in ("app", "incident", "incident_actions") for k in KEYS[group]}
        assert wanted <= set(ids)
        first_builtin = ids.index("") if "" in ids else len(ids)
        assert all(ids[:first_builtin]) and not any(ids[first_builtin:])  # ours first
        by_id = {row[2]: row for row in rows}
        ack = by_id["incident.ack"]
        assert "dim" in ack[4]
        assert ack[3] == "acknowledge does not apply to a resolved incident"
        assert "dim" not in by_id["incident.reopen"][4] and not by_id["incident.reopen"][3]
        assert "dim" not in by_id["help"][4]


async def test_a_key_that_does_not_apply_says_why(demo_store: Path) -> None:
    app = make_app(demo_store, login="ana")
    messages = Messages()
    async with app.run_test(size=SMALL, message_hook=messages) as pilot:
        await settle(app, pilot)
        app.run_command("inc INC-299")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentScreen)
        await pilot.press("a")
        await settle(app, pilot)
        assert "a: acknowledge does not apply to a resolved incident" in messages.said()
        assert isinstance(app.screen, IncidentScreen)  # no confirmation was asked
    async with await Store.open(demo_store) as store:
        assert (await store.incidents.get("INC-299")).state == "resolved"


async def palette_run(app: object, pilot: object, query: str) -> None:
    await pilot.press("ctrl+p")  # type: ignore[attr-defined]
    await settle(app, pilot)
    assert isinstance(app.screen, CommandPalette)  # type: ignore[attr-defined]
    await pilot.press(*query)  # type: ignore[attr-defined]
    await settle(app, pilot)
    palette = app.screen  # type: ignore[attr-defined]
    options = palette.query_one(OptionList)
    messages = Messages()
    await messages.until(lambda: options.option_count > 0, f"palette hits for {query!r}")
    await pilot.press("enter")  # type: ignore[attr-defined]  (the best hit is highlighted)
    await settle(app, pilot)


async def test_palette_opens_incidents_and_changes_and_goes_to_screens(demo_store: Path) -> None:
    app = make_app(demo_store, login="ana")
    async with app.run_test(size=LARGE) as pilot:
        await settle(app, pilot)
        await palette_run(app, pilot, "INC-17")
        assert isinstance(app.screen, IncidentScreen) and app.screen.key == "INC-17"
        await pilot.press("escape")
        await settle(app, pilot)
        await palette_run(app, pilot, "chg-3")
        assert isinstance(app.screen, ChangeDetailScreen) and app.screen.key == "CHG-3"
        await pilot.press("escape")
        await settle(app, pilot)
        await palette_run(app, pilot, "go to changes")
        assert isinstance(app.screen, ChangesScreen)
        await palette_run(app, pilot, "queue filter all")
        assert isinstance(app.screen, QueueScreen) and app.screen.quick == "all"


async def test_palette_offers_the_screens_actions_that_apply(demo_store: Path) -> None:
    from opsdesk.screens.commands import OpsdeskCommands

    app = make_app(demo_store, login="ana")
    async with app.run_test(size=LARGE) as pilot:
        await settle(app, pilot)
        app.run_command("inc INC-299")
        await settle(app, pilot)
        provider = OpsdeskCommands(app.screen)
        titles = [title for title, _, _ in provider._commands()]
        assert "Action: Reopen (R)" in titles
        assert not any(t.startswith("Action: Ack ") for t in titles)  # resolved: not offered
        assert {"Go to: Queue", "Queue filter: mine", "Vendor: Okta"} <= set(titles)
        [reopen] = [run for title, _, run in provider._commands() if title.startswith("Action: Re")]
        reopen()
        await settle(app, pilot)
        assert isinstance(app.screen, Confirm)  # the same confirmation as the R key


def test_palette_hits_draw_names_literally() -> None:
    from textual.fuzzy import Matcher

    from opsdesk.screens.commands import OpsdeskCommands

    hostile = "Vendor: [@click=app.quit]Okta[/] [b]x"
    drawn = OpsdeskCommands._highlight(None, Matcher("okta"), hostile)  # type: ignore[arg-type]
    assert drawn.plain == hostile


def test_tab_completes_command_and_vendor_names() -> None:
    vendors = ["GitHub", "Okta", "Slack", "Stripe"]
    assert complete("ven", vendors) == ("vendor", ["vendors", "vendor"])
    assert complete("vendor", vendors) == ("vendor ", ["vendor"])
    assert complete("vendor ok", vendors) == ("vendor Okta", ["Okta"])
    assert complete("vendor s", vendors) == ("vendor S", ["Slack", "Stripe"])
    assert complete("c", vendors) == ("ch", ["changes", "chg"])
    assert complete("p", vendors) == ("pr", ["problems", "prb"])
    assert complete("zzz", vendors) == ("zzz", [])


async def test_command_line_opens_changes_and_vendors_with_history_and_tab(
    demo_store: Path,
) -> None:
    app = make_app(demo_store, login="ana")
    messages = Messages()
    async with app.run_test(size=SMALL, message_hook=messages) as pilot:
        await settle(app, pilot)
        await pilot.press("colon", *"chg chg-3", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ChangeDetailScreen) and app.screen.key == "CHG-3"
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("colon", *"ven", "tab", "tab", *"ok", "tab")
        assert isinstance(app.screen, CommandLine)
        assert app.screen.query_one(Input).value == "vendor Okta"
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, VendorDetailScreen) and app.screen.key == "Okta"
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("colon", *"chg CHG-99999", "enter")
        await settle(app, pilot)
        assert any("CHG-99999" in m for m in messages.said())
        await pilot.press("colon", *"half", "up")
        box = app.screen.query_one(Input)
        assert box.value == "chg CHG-99999"
        await pilot.press("up")
        assert box.value == "vendor Okta"
        await pilot.press("up", "up")
        assert box.value == "chg chg-3"  # the oldest stays
        await pilot.press("down", "down", "down")
        assert box.value == "half"  # back to what was being typed
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.command_history == ["chg chg-3", "vendor Okta", "chg CHG-99999"]


async def test_pickers_narrow_as_you_type(demo_store: Path) -> None:
    app = make_app(demo_store, login="ana")
    async with app.run_test(size=SMALL) as pilot:
        await settle(app, pilot)
        key = await first_open_row(app, pilot)
        await pilot.press("A")
        await settle(app, pilot)
        picker = app.screen
        assert isinstance(picker, Choose)
        assert app.focused is picker.query_one("#choose-filter")
        await pilot.press(*"kof")
        choices = picker.query_one(OptionList)
        assert [choices.get_option_at_index(i).id for i in range(choices.option_count)] == ["kofi"]
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)
    async with await Store.open(demo_store) as store:
        assert (await store.incidents.get(key)).assignee == "kofi"


async def test_new_incident_service_is_picked_from_configured_services(demo_store: Path) -> None:
    app = make_app(demo_store, login="ana")
    async with app.run_test(size=SMALL) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, NewIncidentForm)
        await pilot.press(*"Wiki pages time out", "enter")
        assert app.focused is form.query_one("#service")
        await pilot.press(*"wi")
        assert "wiki" in " ".join(shown(form.query_one("#service-matches")))
        await pilot.press("enter")  # takes the first match
        assert form.query_one("#service", Input).value == "wiki"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)
    async with await Store.open(demo_store) as store:
        [newest] = await store.incidents.recent(1)
        assert (newest.title, newest.service) == ("Wiki pages time out", "wiki")
