"""The queue starts its metrics read before it asks for its first rows (screens/queue.py
on_mount): the read runs on the store's reading connection beside the rows' query, so at
a million incidents the strip shows about when the rows do (bench.metrics strip_ms)
instead of a whole read after them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from opsdesk.console.ops.metrics import collect
from opsdesk.screens.base import StoreScreen
from opsdesk.screens.queue import QueueScreen
from tests.conftest import FIXED_NOW
from tests.test_app import SIZE, make_app, settle


async def test_the_metrics_read_starts_before_the_first_rows(
    demo_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    order: list[str] = []
    read_metrics, show_rows = QueueScreen.refresh_metrics, StoreScreen.show_rows

    def metrics_started(self: QueueScreen, now: datetime) -> object:
        order.append("metrics")
        return read_metrics(self, now)

    async def rows_asked(self: StoreScreen, top: bool = False) -> None:
        order.append("rows")
        await show_rows(self, top)

    monkeypatch.setattr(QueueScreen, "refresh_metrics", metrics_started)
    monkeypatch.setattr(StoreScreen, "show_rows", rows_asked)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await settle(app, pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        assert order[:2] == ["metrics", "rows"]
        assert order.count("metrics") == 1  # the reload's load() does not start a second
        assert queue.metrics == await collect(app.store, FIXED_NOW)
        assert "MTTA" in str(queue.query_one("#summary").render())
