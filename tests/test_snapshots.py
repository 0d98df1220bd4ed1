"""Snapshots of the key screens at 80x24 (review with `pytest --snapshot-update`).

Each snapshot is taken once the console is quiet (its workers done, the feed looked at),
however long the machine takes to get there: keys are pressed from `run_before`, each
followed by settle(), instead of by the snapshot's own key presses, which only wait for
animations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.test_app import make_app, settle


def pressing(app: Any, *keys: str) -> Callable[[Any], Awaitable[None]]:
    async def run_before(pilot: Any) -> None:
        await settle(app, pilot)
        for key in keys:
            await pilot.press(key)
            await settle(app, pilot)

    return run_before


def test_queue_screen(demo_store: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = make_app(demo_store, login="ana")
    assert snap_compare(app, terminal_size=(80, 24), run_before=pressing(app))


def test_help_screen(demo_store: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = make_app(demo_store, login="ana")
    assert snap_compare(app, terminal_size=(80, 24), run_before=pressing(app, "question_mark"))


def test_changes_screen_read_only(demo_store: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = make_app(demo_store, login="ana", read_only=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=pressing(app, "4"))
