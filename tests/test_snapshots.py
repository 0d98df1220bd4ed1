"""Snapshots of the key screens at 80x24 (review with `pytest --snapshot-update`)."""

from __future__ import annotations

from pathlib import Path

from tests.test_app import make_app


def test_queue_screen(demo_store: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(demo_store, login="ana"), terminal_size=(80, 24))


def test_help_screen(demo_store: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        make_app(demo_store, login="ana"), press=["question_mark"], terminal_size=(80, 24)
    )


def test_changes_screen_read_only(demo_store: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = make_app(demo_store, login="ana", read_only=True)
    assert snap_compare(app, press=["4"], terminal_size=(80, 24))
