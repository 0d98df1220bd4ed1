"""The queue stays fast at a million incidents because of how it asks: every sort over all
incidents walks an index (no sort of every row per page), a search counts its matches in
the search index, and a one-letter filter waits for a second letter instead of searching
most of the store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from opsdesk.screens.queue import QueueScreen
from opsdesk.store import Store
from opsdesk.store.incidents import SORT_INDEX, _order_by, _table
from opsdesk.store.records import INCIDENT_SORTS, IncidentFilter, IncidentOrder
from tests.test_app import SIZE, make_app, settle


def plan(path: Path, sql: str) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return "\n".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
    finally:
        conn.close()


async def test_every_sort_of_every_incident_walks_an_index(demo_store: Path) -> None:
    async with await Store.open(demo_store):
        pass  # migrated
    everything, words = IncidentFilter(), IncidentFilter(search="disk")
    for by in INCIDENT_SORTS:
        for descending in (False, True):
            order = IncidentOrder(by, descending)
            for where in (everything, words):
                table = _table(where, "", order, pg=False)
                found = plan(
                    demo_store,
                    f"SELECT id FROM {table} ORDER BY {_order_by(order)} LIMIT 100 OFFSET 150",
                )
                # A sort of equal keys among rows read in order ("RIGHT PART") is fine.
                assert "TEMP B-TREE FOR ORDER BY" not in found, (by, descending, where, found)
                if by in SORT_INDEX:
                    assert SORT_INDEX[by] in found


async def test_a_search_counts_what_it_finds(demo_store: Path) -> None:
    async with await Store.open(demo_store) as store:
        some = (await store.incidents.find(IncidentFilter(), 1))[0]
        for text in (some.title.split()[0], some.service, "zzzz nothing"):
            where = IncidentFilter(search=text)
            found = await store.incidents.find(where, 1000)
            assert await store.incidents.count(where) == len(found)


async def test_one_letter_waits_for_another_before_searching(demo_store: Path) -> None:
    app = make_app(demo_store, login="ana")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        table = queue.table
        unfiltered = table.total
        word = table.selected_row().record.title.split()[0].lower()  # type: ignore[union-attr]
        await pilot.press("slash", word[0])
        await settle(app, pilot)
        assert table.total == unfiltered
        assert "type another letter" in str(queue.query_one("#filter-status").render())
        await pilot.press(*word[1:])
        await settle(app, pilot)
        assert 0 < table.total <= unfiltered
        assert all(word in row.record.title.casefold() for row in table.loaded_rows())
        await pilot.press("enter", "escape")
        await settle(app, pilot)
        assert table.total == unfiltered
