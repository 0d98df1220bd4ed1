"""First run and daily use of the queue: triage order, key search across states, empty
states that say what is empty, the count of marked rows, and a read-only banner refusal."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from opsdesk.screens.base import StoreScreen
from opsdesk.screens.changes import ChangesScreen
from opsdesk.screens.oncall import OncallScreen
from opsdesk.screens.queue import QueueScreen
from opsdesk.screens.queue_rows import IncidentSource
from opsdesk.screens.table import OpsTable
from opsdesk.screens.vendors import VendorsScreen
from opsdesk.store import Actor, NewIncident, Store
from opsdesk.store import incidents as incidents_store
from opsdesk.store.records import Incident, IncidentEvent, IncidentFilter, IncidentOrder
from tests.conftest import FIXED_NOW
from tests.test_app import make_app, rendered
from tests.waits import Messages, settle

ENGINEER = Actor("eve")
OPEN = ("new", "acknowledged", "in_progress", "on_hold")
TRIAGE = IncidentOrder("triage")
SIZES = [(80, 24), (120, 40)]


async def incident(
    store: Store,
    title: str,
    priority: str,
    *,
    state: str = "new",
    due_in: timedelta | None = timedelta(hours=4),
    age: timedelta = timedelta(hours=1),
) -> Incident:
    """One incident `age` old whose SLA falls due `due_in` from FIXED_NOW (negative:
    breached; None: no running clock), moved to `state`."""
    level = int(priority[1])
    new = NewIncident(title, "payments", min(level, 3), min(level, 3), priority)
    due = None if due_in is None else FIXED_NOW + due_in
    made = await store.incidents.create(
        ENGINEER, new, FIXED_NOW - age, response_due=due, resolve_due=due
    )
    if state != "new":
        event = IncidentEvent(FIXED_NOW, "eve", "state", state, "")
        made = await store.incidents.apply(
            ENGINEER, made.key, made.version, {"state": state}, event, "incident.state", FIXED_NOW
        )
    return made


@pytest.fixture
def burning(tmp_path: Path) -> Path:
    """A queue where the oldest breach is an 11-week-old P4, and today's P1s are on fire."""
    path = tmp_path / "burning.db"

    async def build() -> None:
        async with await Store.open(path) as store:
            await incident(store, "old P4 breach", "P4", due_in=-timedelta(weeks=11),
                           age=timedelta(weeks=12))  # fmt: skip
            await incident(store, "P2 new", "P2")
            await incident(store, "P1 ack'd breached", "P1", state="acknowledged",
                           due_in=-timedelta(minutes=5))  # fmt: skip
            await incident(store, "P1 new later", "P1", due_in=timedelta(hours=2))
            await incident(store, "P1 new breached", "P1", due_in=-timedelta(minutes=1))
            await incident(store, "P2 working breached", "P2", state="in_progress",
                           due_in=-timedelta(hours=1))  # fmt: skip
            await incident(store, "P3 no clock", "P3", due_in=None)
            await incident(store, "P3 soon", "P3", due_in=timedelta(minutes=30))
            closed = await incident(store, "P1 resolved long ago", "P1", state="resolved")
            assert closed.key == "INC-9"

    asyncio.run(build())
    return path


EXPECTED = [
    "P1 new breached",  # P1 unacknowledged, breached first
    "P1 new later",
    "P1 ack'd breached",  # P1 acknowledged after every new P1
    "P2 new",
    "P2 working breached",
    "P3 soon",
    "P3 no clock",  # no running clock last within its group
    "old P4 breach",  # the 11-week-old breach is last, not first
]


async def test_triage_is_priority_then_unacknowledged_then_breached_then_due(
    burning: Path,
) -> None:
    async with await Store.open(burning) as store:
        found = await store.incidents.find(IncidentFilter(states=OPEN), 50, 0, TRIAGE)
        assert [i.title for i in found] == EXPECTED
        back = await store.incidents.find(
            IncidentFilter(states=OPEN), 50, 0, IncidentOrder("triage", True)
        )
        assert [i.title for i in back] == EXPECTED[::-1]
        # Windows of any size, from either end, piece together the same list.
        source = IncidentSource(store, IncidentFilter(states=OPEN), TRIAGE, FIXED_NOW)
        assert await source.count() == len(EXPECTED)
        for size in (1, 3, 5):
            pieced = []
            for offset in range(0, len(EXPECTED), size):
                pieced += [row.record.title for row in await source.window(offset, size)]
            assert pieced == EXPECTED, size
        # The same order with a search (one sorted query) and over every state.
        searched = await store.incidents.find(
            IncidentFilter(states=OPEN, search="P1"), 50, 0, TRIAGE
        )
        assert [i.title for i in searched] == EXPECTED[:3]
        every = await store.incidents.find(IncidentFilter(), 50, 0, TRIAGE)
        assert [i.title for i in every][:3] == EXPECTED[:3] and len(every) == 9


@pytest.mark.parametrize("sorted_up_to", [incidents_store.TRIAGE_SORTED, 0])
async def test_triage_windows_match_one_sort_on_a_large_store(
    demo_store: Path, sorted_up_to: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Buckets small and large (sorted, or walked in SLA order) give the exact order."""
    monkeypatch.setattr(incidents_store, "TRIAGE_SORTED", sorted_up_to)
    async with await Store.open(demo_store) as store:
        for where in (IncidentFilter(states=OPEN), IncidentFilter(), IncidentFilter(states=OPEN,
                      assignee="ana")):  # fmt: skip
            whole = await store.incidents.find(where, 1000, 0, TRIAGE)

            def rank(i: Incident) -> tuple[object, ...]:
                dues = [d for d in (i.response_due, i.resolve_due) if d]
                return (i.priority, i.state != "new", not dues, min(dues) if dues else 0, -i.id)

            assert [i.key for i in whole] == [i.key for i in sorted(whole, key=rank)]
            assert len(whole) == await store.incidents.count(where)
            back = await store.incidents.find(where, 1000, 0, IncidentOrder("triage", True))
            assert [i.key for i in back] == [i.key for i in reversed(whole)]
            pieced = []
            for offset in range(0, len(whole), 7):
                pieced += await store.incidents.find(where, 7, offset, TRIAGE)
            assert [i.key for i in pieced] == [i.key for i in whole]


@pytest.mark.parametrize("size", SIZES)
async def test_queue_opens_in_triage_order_and_names_it(
    burning: Path, size: tuple[int, int]
) -> None:
    app = make_app(burning, login="ana")
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        table = queue.table
        titles = [row.record.title for row in table.loaded_rows()]
        assert titles == EXPECTED
        header = table.render_line(0).text
        assert "triage▲" in header, header
        assert "sorted by triage▲" in rendered(queue.query_one("#summary"))
        # Choosing triage again turns it round; the heading says so.
        queue.sort_by("triage")
        await settle(app, pilot)
        assert [row.record.title for row in table.loaded_rows()] == EXPECTED[::-1]
        assert "triage▼" in table.render_line(0).text
        # Another column takes the arrow; the triage name leaves the heading.
        queue.sort_by("title")
        await settle(app, pilot)
        header = table.render_line(0).text
        assert "Title▲" in header and "triage" not in header


async def test_a_key_finds_its_incident_whatever_the_filter(burning: Path) -> None:
    app = make_app(burning, login="ana")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen) and queue.quick == "open"
        await pilot.press("slash", *"INC-9")
        await settle(app, pilot)
        assert [row.key for row in queue.table.loaded_rows()] == ["INC-9"]  # resolved
        status = rendered(queue.query_one("#filter-status"))
        assert "filter: INC-9" in status and "found, in any state" in status
        queue.set_quick_filter("breached")
        await settle(app, pilot)
        assert [row.key for row in queue.table.loaded_rows()] == ["INC-9"]
        await pilot.press("backspace", *"99")
        await settle(app, pilot)
        assert queue.table.total == 0
        assert "no such incident" in rendered(queue.query_one("#filter-status"))
        assert "no incident INC-99" in queue.table.render_line(1).text
        # Words still search within the quick filter.
        await pilot.press("ctrl+u", *"resolved")
        await settle(app, pilot)
        assert queue.table.total == 0
        assert "no incidents match 'resolved' in open incidents past an SLA due time" in (
            queue.table.render_line(1).text
        )


def empty_line(table: OpsTable) -> str:
    """The first row line of an empty table, checked to be centred across the table."""
    line = table.render_line(1).text
    message = line.strip()
    left = len(line) - len(line.lstrip())
    right = len(line) - len(line.rstrip())
    assert message and abs(left - right) <= 2, repr(line)
    return message


@pytest.mark.parametrize("size", SIZES)
async def test_empty_states_are_centred_and_say_what_is_empty(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app = make_app(tmp_path / "fresh.db", login="ana")
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        assert empty_line(queue.table) == "no open incidents"
        queue.set_quick_filter("breached")
        await settle(app, pilot)
        assert empty_line(queue.table) == "nothing breached"
        queue.set_quick_filter("open")
        await pilot.press("slash", *"xyz", "enter")
        await settle(app, pilot)
        assert empty_line(queue.table) == "no incidents match 'xyz' in open incidents"
        for key, kind in (("2", OncallScreen), ("3", VendorsScreen), ("4", ChangesScreen)):
            await pilot.press(key)
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, kind) and isinstance(screen, StoreScreen)
            assert empty_line(screen.table) == kind.EMPTY


async def test_a_filter_with_no_match_on_a_small_screen_says_so(demo_store: Path) -> None:
    app = make_app(demo_store, login="ana")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, VendorsScreen) and screen.table.total > 0
        await pilot.press("slash", *"zzzz")
        await settle(app, pilot)
        assert empty_line(screen.table) == "nothing matches 'zzzz'"


async def test_marked_rows_are_counted_and_the_count_clears(burning: Path) -> None:
    app = make_app(burning, login="ana")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        status = queue.query_one("#filter-status")
        assert not status.display
        await pilot.press("space", "space", "space")
        await settle(app, pilot)
        assert status.display and "3 marked" in rendered(status)
        await pilot.press("up", "space")  # unmark the third
        await settle(app, pilot)
        assert "2 marked" in rendered(status)
        await pilot.press("slash", *"P1", "enter")
        await settle(app, pilot)
        assert "filter: P1" in rendered(status) and "2 marked" in rendered(status)
        await pilot.press("escape")  # clears the filter, keeps the marks
        await settle(app, pilot)
        assert "2 marked" in rendered(status) and "filter" not in rendered(status)
        await pilot.press("escape")  # clears the marks
        await settle(app, pilot)
        assert not queue.table.marked and not status.display


async def test_a_read_only_console_says_so_to_a_lead_editing_the_banner(
    demo_store: Path,
) -> None:
    app = make_app(demo_store, login="ana", read_only=True)
    messages = Messages()
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await settle(app, pilot)
        assert app.actor.has("lead")
        await pilot.press("colon", *"banner", "enter")
        await settle(app, pilot)
        said = " ".join(messages.said())
        assert "this console is read-only" in said and "banner cannot be changed" in said
        assert "lead role" not in said
