"""What a fresh pass as each persona at 80x24 found: keys typed after `q` in one burst (a
slow SSH link delivers them together) crashed the exit with a traceback; the problems
summary named its states in other words than its rows and wrapped at 80 columns; the
override and new-incident forms had no field names once a field was filled."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.widgets import Input, Label

from opsdesk.screens.forms import NewIncidentForm, OverrideForm
from opsdesk.screens.problems import ProblemsScreen
from opsdesk.screens.queue import QueueScreen
from tests.test_app import make_app
from tests.test_dialogs_daily import shown
from tests.waits import settle


async def test_keys_typed_after_quit_in_one_burst_do_not_crash_the_exit(demo_store: Path) -> None:
    app = make_app(demo_store, login="ana")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)
        on_hold = next(r.key for r in app.screen.table.loaded_rows() if r.record.state == "on_hold")  # type: ignore[attr-defined]
        assert app.screen.table.move_to_key(on_hold)
        # q quits; u (resume) would ask "Resume INC-n?" on the way out. Both arrive before
        # either is handled, as from a terminal.
        for key in "qu":
            app.post_message(events.Key(key, key))
        await pilot.pause()
    assert app.return_code == 0
    assert app._exception is None


async def test_problem_states_read_alike_in_summary_and_rows_within_80_columns(
    demo_store: Path,
) -> None:
    app = make_app(demo_store, login="ana")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("5")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ProblemsScreen)
        lines = [line.rstrip() for line in shown(screen.query_one("#summary")) if line.strip()]
        assert len(lines) == 2, lines  # sections, then the states: nothing wrapped
        assert lines[0].endswith("(s)")
        assert "under investigation" in lines[1] and "root cause known" in lines[1]
        rows = " ".join(" ".join(str(c) for c in r.cells) for r in screen.table.loaded_rows())
        assert "investigating" not in lines[1].replace("under investigation", "")
        assert "under investigation" in rows or "known error" in rows


def named_fields(form: object) -> dict[str, str]:
    """Each field's name (the label drawn beside it, on its line) and its value."""
    found = {}
    for box in form.query(Input):  # type: ignore[attr-defined]
        label = box.parent.query_one(Label)
        assert label.region.y == box.region.y and label.region.right <= box.region.x
        assert label.region.width > 0 and box.region.width > 0
        found[str(label.render()).strip()] = box.value
    return found


async def test_override_and_new_incident_forms_name_their_fields(demo_store: Path) -> None:
    """A prefilled or typed-in field keeps its name beside it (only placeholders named
    them before, so "platform" and "root" stood there unexplained)."""
    app = make_app(demo_store, login="ana")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, NewIncidentForm)
        await pilot.press(*"VPN drops", "enter", *"wiki")
        await settle(app, pilot)
        assert named_fields(app.screen) == {
            "Title": "VPN drops", "Service": "wiki", "Impact": "", "Urgency": "",
            "Description": "",
        }  # fmt: skip
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("y")  # discard what was typed
        await settle(app, pilot)
        await pilot.press("2", "o")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, OverrideForm)
        fields = named_fields(form)
        assert list(fields) == ["Schedule", "Person", "From (UTC)", "To (UTC)", "Reason"]
        assert (fields["Schedule"], fields["Person"]) == ("platform", "ana")
        dialog = form.query_one(".dialog").region
        assert dialog.bottom <= 24 and dialog.right <= 80  # fits 80x24


async def test_keys_typed_right_after_enter_land_in_the_next_field(demo_store: Path) -> None:
    """Over a slow link the title, Enter and the service arrive in one burst: the service
    must go to the Service field, not onto the end of the title."""
    app = make_app(demo_store, login="ana")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, NewIncidentForm)
        for key in [*"VPN drops", "enter", *"wiki"]:
            app.post_message(events.Key(key, None if key == "enter" else key))
        await settle(app, pilot)
        assert (form.query_one("#title", Input).value, form.query_one("#service", Input).value) == (
            "VPN drops", "wiki"
        )  # fmt: skip
