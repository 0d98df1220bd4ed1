"""A search made stale by the next keystroke is interrupted on its own connection: its
caller gets SearchInterrupted at once, and writes and other reads go on untouched."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from opsdesk.store import Actor, NewIncident, SearchInterrupted, Store
from opsdesk.store.records import IncidentFilter
from tests.conftest import FIXED_NOW


async def test_a_running_search_is_interrupted_and_writes_carry_on(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "s.db") as store:
        await store.incidents.create(
            Actor("ana"), NewIncident("disk full", "wiki", 3, 3, "P4"), FIXED_NOW
        )
        searching = IncidentFilter(search="disk")
        conn = await store._db.searcher()
        started, release = threading.Event(), threading.Event()

        def block(n: int) -> int:  # a search that takes long on a big store: it is busy
            if n == 1:  # when the next keystroke comes
                started.set()
                release.wait(10)
            return n

        await conn.create_function("block", 1, block)

        async def slow_search() -> None:
            rows = (
                "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n"
                " WHERE x < 10000000) SELECT count(block(x)) FROM n"
            )
            async with store.incidents._searching(searching) as running:
                await running.execute(rows)

        task = asyncio.create_task(slow_search())
        await asyncio.to_thread(started.wait, 10)
        await store.interrupt_searches()
        release.set()
        with pytest.raises(SearchInterrupted):
            await task
        # The main connection was never touched: a write and a plain read work.
        await store.incidents.add_note(Actor("ana"), "INC-1", "still here", FIXED_NOW)
        assert [i.key for i in await store.incidents.find(searching)] == ["INC-1"]


async def test_reads_without_search_text_stay_on_the_main_connection(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "s.db") as store:
        await store.interrupt_searches()  # nothing running: nothing happens
        assert await store.incidents.count(IncidentFilter()) == 0
        assert "searcher" not in store._db._side  # no search, no second connection
