"""The queue's virtual table driven with keys and clicks, on a store larger than a screen
could ever hold: only windows are loaded, the end is one key away, filter and sort go to
SQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from opsdesk.console.ops.demo import build_demo
from opsdesk.screens.queue import QueueScreen
from opsdesk.screens.table import PAGE, OpsTable
from opsdesk.store import Store
from opsdesk.store.records import IncidentFilter, IncidentOrder
from tests.conftest import FIXED_NOW
from tests.test_app import SIZE, make_app, settle

INCIDENTS = 3000


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "demo.db"
    asyncio.run(build_demo(path, incidents=INCIDENTS, seed=3, now=FIXED_NOW, creator="eve"))
    return path


async def ordered_keys(store_path: Path, order: IncidentOrder) -> list[str]:
    async with await Store.open(store_path) as store:
        found = await store.incidents.find(IncidentFilter(), INCIDENTS, 0, order)
    return [i.key for i in found]


async def every_incident(app, pilot) -> QueueScreen:  # type: ignore[no-untyped-def]
    """The queue screen, switched to its "all" quick filter."""
    await settle(app, pilot)
    queue = app.screen
    assert isinstance(queue, QueueScreen)
    queue.set_quick_filter("all")
    await settle(app, pilot)
    return queue


def rows_on_screen(table: OpsTable) -> list[str]:
    top = int(table.scroll_y)
    keys = []
    for index in range(top, min(top + table.page_height, table.total)):
        row = table.row_at(index)
        keys.append(row.key if row else "…")
    return keys


async def test_end_and_home_over_thousands_load_only_windows(big_store: Path) -> None:
    expected = await ordered_keys(big_store, IncidentOrder())  # "all" lists by SLA clock
    app = make_app(big_store, login="ana")
    async with app.run_test(size=SIZE) as pilot:
        table = (await every_incident(app, pilot)).table
        assert table.total == INCIDENTS
        await pilot.press("G")
        await settle(app, pilot)
        assert table.selected_key() == expected[-1]
        assert rows_on_screen(table) == expected[-table.page_height :]
        assert len(table.loaded_rows()) <= 4 * PAGE  # never the whole list
        await pilot.press("g")
        await settle(app, pilot)
        assert rows_on_screen(table) == expected[: table.page_height]
        await pilot.press("pagedown")
        await settle(app, pilot)
        assert table.cursor == table.page_height
        assert rows_on_screen(table)[0] == expected[table.page_height]


async def test_filter_goes_to_the_store_and_starts_at_the_top(big_store: Path) -> None:
    app = make_app(big_store, login="ana")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        table = queue.table
        unfiltered = table.total
        await pilot.press("G")
        word = table.selected_row().record.title.split()[0]  # type: ignore[union-attr]
        await pilot.press("slash", *word.lower())
        await settle(app, pilot)
        assert table.cursor == 0 and table.total > 0
        assert all(word.casefold() in row.record.title.casefold() for row in table.loaded_rows())
        status = str(queue.query_one("#filter-status").render())
        assert f"filter: {word.lower()}" in status and f"{table.total:,} matching" in status
        await pilot.press("enter", "escape")
        await settle(app, pilot)
        assert not queue.filter_text and table.total == unfiltered


async def test_sort_by_any_column_from_the_keyboard_and_the_header(big_store: Path) -> None:
    by_title = await ordered_keys(big_store, IncidentOrder("title"))
    by_key_desc = await ordered_keys(big_store, IncidentOrder("key", descending=True))
    app = make_app(big_store, login="ana")
    async with app.run_test(size=SIZE) as pilot:
        queue = await every_incident(app, pilot)
        await pilot.press("o")
        await settle(app, pilot)
        for _ in range(5):  # Triage, SLA, Key, Priority, State, Title
            await pilot.press("down")
        await pilot.press("enter")
        await settle(app, pilot)
        table = queue.table
        assert rows_on_screen(table) == by_title[: table.page_height]
        assert "Title▲" in str(table.labels[3])
        assert "sorted by Title▲" in str(queue.query_one("#summary").render())

        await pilot.click(OpsTable, offset=(2, 0))  # the Key heading: oldest first
        await settle(app, pilot)
        await pilot.click(OpsTable, offset=(2, 0))  # again: turned round
        await settle(app, pilot)
        assert rows_on_screen(table) == by_key_desc[: table.page_height]
        assert "Key▼" in str(table.labels[0])
