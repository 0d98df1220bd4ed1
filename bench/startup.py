"""Start-up: process start until the queue screen has drawn its rows, against a bare
Textual app that draws the same number of rows from a list (the floor).

    python -m bench.startup [--runs 5]
"""

from __future__ import annotations

import argparse
import tempfile

from bench.common import demo_store, emit, time_process

OPSDESK = """
import sys
from opsdesk.console.tui.app import OpsdeskApp
from opsdesk.console.ops.session import Options
app = OpsdeskApp(Options(store=sys.argv[1]), handle_hangup=False, poll_interval=0)
async def drive(pilot):
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert app.screen.query_one("#table").total > 0
    app.exit()
app.run(headless=True, size=(80, 24), auto_pilot=drive)
"""

FLOOR = """
from textual.app import App
from textual.widgets import DataTable, Footer
class Bare(App):
    def compose(self):
        table = DataTable()
        table.add_columns("Key", "Pri", "State", "Title", "Service", "Assignee", "Age")
        for n in range(200):
            table.add_row(f"INC-{n}", "P3", "new", "Disk full on host", "payments", "ana", "1h")
        yield table
        yield Footer()
async def drive(pilot):
    await pilot.pause()
    pilot.app.exit()
Bare().run(headless=True, size=(80, 24), auto_pilot=drive)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = demo_store(folder, 100_000)
        floor = time_process(FLOOR, runs=args.runs)
        console = time_process(OPSDESK, str(store), runs=args.runs)
    emit(
        {
            "benchmark": "startup",
            "incidents": 100_000,
            "first_screen_ms": round(console * 1000, 1),
            "floor_ms": round(floor * 1000, 1),
            "ratio": round(console / floor, 2),
        }
    )


if __name__ == "__main__":
    main()
