"""The console driven with Pilot: screens, help, command line, quit, live updates, safety."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.binding import Binding
from textual.widgets import Input

from opsdesk.console.config.keymap import BINDING_IDS, KEYS
from opsdesk.console.ops.session import Options
from opsdesk.console.tui.app import OpsdeskApp
from opsdesk.screens.base import StoreScreen
from opsdesk.screens.changes import ChangesScreen
from opsdesk.screens.dialogs import BannerForm, CommandLine, Confirm, HelpScreen
from opsdesk.screens.incident import IncidentScreen
from opsdesk.screens.oncall import OncallScreen
from opsdesk.screens.queue import QueueScreen
from opsdesk.screens.table import OpsTable
from opsdesk.screens.vendors import VendorsScreen
from opsdesk.screens.widgets import BannerLine, StatusHeader
from opsdesk.store import Actor, NewIncident, Store
from tests.conftest import FIXED_NOW
from tests.waits import Messages, finish, settle

SIZE = (80, 24)


NEVER = 3600.0  # a timer interval no test lives to see: the test drives that work by hand


def make_app(
    store: Path, login: str | None = None, feed_interval: float = NEVER, **options: object
) -> OpsdeskApp:
    """The console on `store` at FIXED_NOW. Its change feed is looked at by hand, by
    settle() (or the test), instead of by its timer, unless `feed_interval` says."""
    return OpsdeskApp(
        Options(store=str(store), **options),  # type: ignore[arg-type]
        clock=lambda: FIXED_NOW,
        feed_interval=feed_interval,
        poll_interval=0,  # the demo's sources are on the internet: tests stay on loopback
        handle_hangup=False,
        login=login,
    )


def rendered(widget) -> str:  # type: ignore[no-untyped-def]
    return str(widget.render())


def table_text(screen: StoreScreen) -> list[str]:
    """The rows the table has loaded (all of them on small screens), as plain text."""
    return [" ".join(str(c) for c in row.cells) for row in screen.table.loaded_rows()]


async def test_number_keys_switch_between_the_four_screens(demo_store: Path) -> None:
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)
        for key, kind in (
            ("2", OncallScreen),
            ("3", VendorsScreen),
            ("4", ChangesScreen),
            ("1", QueueScreen),
        ):
            await pilot.press(key)
            await settle(app, pilot)
            assert isinstance(app.screen, kind)
            header = rendered(app.screen.query_one(StatusHeader))
            assert kind.TITLE in header and "demo.db" in header and "12:00" in header
        assert any("INC-300" in row for row in table_text(app.screen))  # type: ignore[arg-type]
        await pilot.press("2")
        await settle(app, pilot)
        now_rows = [r for r in table_text(app.screen) if " NOW " in f" {r} "]  # type: ignore[arg-type]
        assert {r.split()[0] for r in now_rows} == {"platform", "payments"}


async def test_help_lists_bindings_with_ids_and_escape_closes_it(demo_store: Path) -> None:
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("#help-table")
        ids = {str(table.get_row_at(i)[2]) for i in range(table.row_count)}  # type: ignore[attr-defined]
        assert {"screen.queue", "screen.changes", "filter", "quit", "command_line"} <= ids
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)


async def test_command_line_switches_screens_and_opens_incidents(demo_store: Path) -> None:
    app = make_app(demo_store)
    messages = Messages()
    async with app.run_test(size=SIZE, message_hook=messages) as pilot:
        await settle(app, pilot)
        await pilot.press("colon")
        assert isinstance(app.screen, CommandLine)
        await pilot.press(*"oncall", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, OncallScreen)
        await pilot.press("colon", *"inc inc-17", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentScreen)
        assert app.screen.key == "INC-17"
        assert "INC-17" in rendered(app.screen.query_one("#fields"))
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, OncallScreen)
        await pilot.press("colon", *"inc INC-99999", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, OncallScreen)
        assert any("INC-99999: no such incident" in m for m in messages.said())
        await pilot.press("colon", *"q", "enter")
        await settle(app, pilot)
    assert app.return_code == 0


async def test_q_quits_but_asks_first_when_a_form_has_input(demo_store: Path) -> None:
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("b")
        await settle(app, pilot)
        assert isinstance(app.screen, BannerForm)
        await pilot.press(*"half typed")
        await pilot.press("ctrl+q")
        await settle(app, pilot)
        assert isinstance(app.screen, Confirm)
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, BannerForm)
        assert app.screen.query_one(Input).value == "half typed"
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("q")
        await settle(app, pilot)
    assert app.return_code == 0


async def test_changes_from_another_connection_appear_without_a_keypress(demo_store: Path) -> None:
    """The feed's own timer (not the test) notices the other connection's writes."""
    app = make_app(demo_store, feed_interval=0.05)
    messages = Messages()
    async with (
        app.run_test(size=SIZE, message_hook=messages) as pilot,
        await Store.open(demo_store) as other,
    ):
        await settle(app, pilot)
        banner = app.screen.query_one(BannerLine)
        assert not banner.display
        table = app.screen.query_one(OpsTable)
        table.action_cursor_down()
        table.action_cursor_down()
        table.action_cursor_down()
        cursor_key = table.selected_key()
        await other.banner.set(
            Actor("ana", frozenset({"lead"})), "bridge open on #inc", 0, FIXED_NOW
        )
        await other.incidents.create(
            Actor("ben"), NewIncident("fresh from the CLI", "payments", 1, 1, "P1"), FIXED_NOW
        )
        await messages.until(
            lambda: (
                banner.display and any("fresh from the CLI" in r for r in table_text(app.screen))  # type: ignore[arg-type]
            ),
            "the live feed to show the other connection's banner and incident",
        )
        assert banner.display
        assert "bridge open on #inc" in rendered(banner)
        assert any("fresh from the CLI" in r for r in table_text(app.screen))  # type: ignore[arg-type]
        assert table.selected_key() == cursor_key


async def test_banner_form_saves_and_is_refused_on_a_stale_version(demo_store: Path) -> None:
    app = make_app(demo_store)
    messages = Messages()
    async with (
        app.run_test(size=SIZE, message_hook=messages) as pilot,
        await Store.open(demo_store) as other,
    ):
        await settle(app, pilot)
        await pilot.press("b")
        await settle(app, pilot)
        await other.banner.set(Actor("dana", frozenset({"lead"})), "dana was first", 0, FIXED_NOW)
        await pilot.press(*"mine", "enter")
        await settle(app, pilot)
        said = messages.said()
        assert any("changed by dana" in m for m in said), said
        assert (await other.banner.get()).text == "dana was first"
        await pilot.press("b")
        await settle(app, pilot)
        form_input = app.screen.query_one(Input)
        assert form_input.value == "dana was first"
        form_input.value = ""
        await pilot.press(*"all clear", "enter")
        await settle(app, pilot)
        assert (await other.banner.get()).text == "all clear"


async def test_read_only_console_hides_changes(demo_store: Path) -> None:
    app = make_app(demo_store, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert "READ-ONLY" in rendered(app.screen.query_one(StatusHeader))
        assert app.check_action("edit_banner", ()) is None  # greyed, and says why
        await pilot.press("b")
        await settle(app, pilot)
        assert not isinstance(app.screen, BannerForm)


async def test_filter_narrows_rows_and_escape_clears_it(demo_store: Path) -> None:
    async with await Store.open(demo_store) as store:
        for title, service in (("gateway timeouts", "payments"), ("search is slow", "search")):
            await store.incidents.create(
                Actor("ana"), NewIncident(title, service, 2, 2, "P3"), FIXED_NOW
            )
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, StoreScreen)
        total = len(table_text(screen))
        await pilot.press("slash", *"gateway", "enter")
        await settle(app, pilot)
        rows = table_text(screen)
        assert len(rows) == 1
        assert "gateway" in rows[0]
        assert "payments" in rows[0]
        assert "filter: gateway" in rendered(screen.query_one("#filter-status"))
        await pilot.press("escape")
        await settle(app, pilot)
        assert len(table_text(screen)) == total >= 2


async def test_keys_can_be_rebound_from_config(demo_store: Path, write_config, me: str) -> None:  # type: ignore[no-untyped-def]
    config = write_config(f'[[people]]\nlogin = "{me}"\n[keys]\n"screen.oncall" = "O"\n')
    app = make_app(demo_store, config=str(config))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("O")
        await settle(app, pilot)
        assert isinstance(app.screen, OncallScreen)
        await pilot.press("1", "2")
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)


HOSTILE = [
    ("[@click=app.quit]click me[/]", "[@click=app.qu"),
    ("oops [/b] unbalanced", "oops [/b] unba"),
    ("[ @click=app.quit]spaced[/]", "[ @click=app.q"),
    ("title\x1b]0;pwned\x07 \x1b]52;c;ZXZpbA==\x07\x1b[2J end", "title  end"),
    ("nul\x00 bidi\u202eevil", "nul bidievil"),
    ("x" * 300, "xxxxxxxxxxxxxx"),
]


@pytest.mark.parametrize(
    ("title", "shown"), HOSTILE, ids=["click", "unbalanced", "spaced", "osc", "ctrl", "long"]
)
async def test_hostile_titles_render_literally(demo_store: Path, title: str, shown: str) -> None:
    async with await Store.open(demo_store) as store:
        created = await store.incidents.create(
            Actor("mallory"),
            NewIncident(title, "payments", 1, 1, "P1", description=title),
            FIXED_NOW,
        )
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *created.key, "enter")
        await settle(app, pilot)
        [row] = table_text(app.screen)  # type: ignore[arg-type]
        assert row.startswith(created.key)
        assert "\x1b" not in row and "\x00" not in row and "\u202e" not in row
        assert shown in row
        await pilot.click(OpsTable, offset=(30, 1))
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentScreen)
        fields = rendered(app.screen.query_one("#fields"))
        assert "\x1b" not in fields
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)


def test_bindings_leave_terminal_chords_alone() -> None:
    reserved = {"ctrl+a", "ctrl+d", "ctrl+k", "ctrl+h", "ctrl+j", "ctrl+l"}
    for group in KEYS.values():
        for key in group:
            keys = {k.strip() for k in key.keys.split(",")}
            assert not keys & reserved, f"{key.id} uses {keys & reserved}"


def _declared_bindings() -> list[tuple[str, Binding]]:
    """Every Binding declared by a class in opsdesk's Textual modules (not Textual's own)."""
    import importlib
    import inspect
    import pkgutil

    import opsdesk.screens

    modules = [importlib.import_module("opsdesk.console.tui.app")]
    for info in pkgutil.iter_modules(opsdesk.screens.__path__, "opsdesk.screens."):
        modules.append(importlib.import_module(info.name))
    found = []
    for module in modules:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not cls.__module__.startswith("opsdesk."):
                continue
            for item in cls.__dict__.get("BINDINGS", []):
                found.append((f"{cls.__module__}.{cls.__qualname__}", item))
    return found


def test_every_binding_comes_from_the_key_table_with_an_id() -> None:
    """`config check` validates `[keys]` against the key table without importing Textual:
    that only holds if every binding a screen declares is in the table, and every id in
    the table is bound somewhere."""
    declared = _declared_bindings()
    assert declared
    ids = set()
    for where, item in declared:
        assert isinstance(item, Binding), f"{where} declares {item!r} outside the key table"
        assert item.id in BINDING_IDS, f"{where}: binding {item.key} -> {item.action} not in KEYS"
        ids.add(item.id)
    assert ids == BINDING_IDS, f"ids in the key table that no screen binds: {BINDING_IDS - ids}"


async def test_a_change_right_after_start_is_not_missed(demo_store: Path) -> None:
    """A write between the first screen load and the first feed tick still shows up."""
    app = make_app(demo_store)  # the feed's timer never ticks: its first look is below
    async with app.run_test(size=SIZE) as pilot, await Store.open(demo_store) as other:
        await settle(app, pilot, feed=False)  # the screen has loaded; the feed not looked
        banner = app.screen.query_one(BannerLine)
        assert not banner.display
        await other.banner.set(Actor("ana", frozenset({"lead"})), "early news", 0, FIXED_NOW)
        await finish([app.check_feed()])  # the first tick
        await settle(app, pilot, feed=False)
        assert banner.display
        assert "early news" in rendered(banner)


async def test_command_palette_switches_screens(demo_store: Path) -> None:
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Screen: Vendors")
        await settle(app, pilot)  # the palette's search (a worker) has listed its matches
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, VendorsScreen)


async def test_theme_toggle_between_dark_and_light(demo_store: Path) -> None:
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.current_theme.dark
        app.action_toggle_theme()
        await pilot.pause()
        assert app.theme == "textual-light"
        await pilot.press("colon", *"theme dark", "enter")
        await settle(app, pilot)
        assert app.theme == "textual-dark"
