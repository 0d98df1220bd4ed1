"""The queue at scale, worst cases next to medians, on a store of N incidents, against a
bare Textual screen that draws the same visible rows from a Python list (the floor),
measured in the same run:

- the first full frame of the queue (rows drawn) and when its metrics strip is filled;
- every keystroke of a filter, the first one (one letter) reported on its own, and a
  burst typed without waiting (the last keystroke must not wait on stale searches);
- for every sort, over the open queue and over every incident: the first page after
  choosing it, and a page in the middle (a scrollbar drag or jump to row N);
- jumping to the end, and peak memory.

    python -m bench.queue [--incidents 1000000] [--store PATH] [--runs 5]
    python -m bench.queue --store PATH --postgresql [--pg-admin URL]
    python -m bench.queue --store postgresql://... [--compare-sqlite PATH]

Prints one JSON object. The demo store is built in a child process (or taken from
--store), so `rss_mb` is the console's own peak: the queue never holds more than a few
pages of rows.

On PostgreSQL (issue 20: each figure within 2x of SQLite's, measured in the same run):
`--postgresql` loads the SQLite store (--store, or the demo built) into a new database
(bench/pg.py: `store copy`, then ANALYZE) of the cluster --pg-admin names, or of a
throwaway one, and measures both; `--store postgresql://...` measures that database,
and with `--compare-sqlite PATH` that SQLite store too. Each backend is measured in a
process of its own (the same figures, the same bare-table floor, its own peak memory),
SQLite first, and the JSON holds both, the ratio PostgreSQL / SQLite per figure, and the
median and worst of those ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from textual.screen import Screen
from textual.strip import Strip
from textual.widgets import DataTable, Footer, Input

from bench.common import demo_config_file, emit
from opsdesk.console.ops.session import Options
from opsdesk.console.tui.app import OpsdeskApp
from opsdesk.screens.queue import COLUMN_SORTS, QueueScreen
from opsdesk.screens.queue_rows import IncidentSource
from opsdesk.screens.table import OpsTable

FILTER = "payment webhook"


class BareScreen(Screen[None]):
    """The floor: the same visible cells in a stock DataTable, from a list."""

    def __init__(self, rows: list[tuple[object, ...]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self):  # type: ignore[no-untyped-def]
        table: DataTable[object] = DataTable()
        table.add_columns(*QueueScreen.COLUMNS)
        table.add_rows(self.rows)
        yield table
        yield Footer()


DRAWN: dict[tuple[int, int, int], float] = {}
"""(table id, table generation, row index) → when that row was first drawn with its data."""


def _record_drawing() -> None:
    """Note when each table line is first drawn: "drawn" means the strip was rendered,
    not that some worker finished (Pilot.pause() would also wait for the metrics thread
    to go idle, which is not what a user waits for)."""
    ops_render, bare_render = OpsTable.render_line, DataTable.render_line

    def ops_line(self: OpsTable, y: int) -> Strip:
        strip = ops_render(self, y)
        index = int(self.scroll_y) + y - 1
        if y and self.row_at(index) is not None:
            DRAWN.setdefault((id(self), self.generation, index), time.perf_counter())
        return strip

    def bare_line(self: DataTable[object], y: int) -> Strip:
        strip = bare_render(self, y)
        DRAWN.setdefault((id(self), 0, y - 1), time.perf_counter())
        return strip

    OpsTable.render_line = ops_line  # type: ignore[method-assign]
    DataTable.render_line = bare_line  # type: ignore[method-assign]


async def drawn(table: object, generation: int, index: int, limit: float = 30.0) -> float:
    """Wait until row `index` of `table` (at `generation`) has been drawn; return when."""
    deadline = time.perf_counter() + limit
    key = (id(table), generation, index)
    while key not in DRAWN:
        if time.perf_counter() > deadline:
            raise SystemExit("bench.queue: the console did not draw the rows in time")
        await asyncio.sleep(0.001)
    return DRAWN[key]


async def searched(table: OpsTable, text: str, limit: float = 30.0) -> float:
    """Wait until the first row of a search for `text` has been drawn; return when."""
    deadline = time.perf_counter() + limit
    while True:
        source = table.source
        if isinstance(source, IncidentSource) and source.where.search == text:
            key = (id(table), table.generation, 0)
            if key in DRAWN or table.total == 0:
                return DRAWN.get(key, time.perf_counter())
        if time.perf_counter() > deadline:
            raise SystemExit(f"bench.queue: the search for {text!r} was never drawn")
        await asyncio.sleep(0.001)


async def sort_pages(
    app: OpsdeskApp, pilot: object, queue: QueueScreen, view: str
) -> dict[str, tuple[float, float]]:
    """For each sort of `view`: (first page after choosing it, a page in the middle)."""
    queue.set_quick_filter(view)
    await quiet(app)
    table = queue.table
    found = {}
    for column in COLUMN_SORTS:
        generation = table.generation
        began = time.perf_counter()
        queue.sort_by(column)
        first = await drawn(table, generation + 1, 0) - began
        await quiet(app)
        middle = table.total // 2
        began = time.perf_counter()
        table.scroll_to(y=middle, animate=False, immediate=True)
        middle_ms = await drawn(table, table.generation, middle) - began
        await quiet(app)
        found[column] = (first, middle_ms)
    queue.chosen_order = None
    return found


async def quiet(app: OpsdeskApp) -> None:
    """Wait for every worker, including those cancelled with a popped screen."""
    await asyncio.gather(*(worker.wait() for worker in app.workers), return_exceptions=True)


async def measure(store: str, runs: int, config: str | None = None) -> dict[str, float]:
    _record_drawing()
    options = Options(config=config, store=store)
    app = OpsdeskApp(options, handle_hangup=False, poll_interval=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await quiet(app)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        last = queue.table.page_height - 1
        rows = [row.cells for row in queue.table.loaded_rows()[: last + 1]]

        first_page, floor, strip = [], [], []
        for _ in range(runs):
            bare = BareScreen(rows)
            began = time.perf_counter()
            await app.push_screen(bare)
            floor.append(await drawn(bare.query_one(DataTable), 0, last) - began)
            app.pop_screen()
            await pilot.pause()

            screen = QueueScreen()
            began = time.perf_counter()
            await app.push_screen(screen)
            first_page.append(await drawn(screen.table, 1, last) - began)
            while screen.metrics is None:  # the strip: MTTA, MTTR, SLA, CSAT
                if time.perf_counter() - began > 120:
                    raise SystemExit("bench.queue: the metrics strip never filled")
                await asyncio.sleep(0.001)
            strip.append(time.perf_counter() - began)
            app.pop_screen()
            await quiet(app)
            await pilot.pause()

        table = queue.table
        await pilot.press("slash")
        keystrokes = []
        for char in FILTER:
            generation = table.generation
            began = time.perf_counter()
            await pilot.press("space" if char == " " else char)
            keystrokes.append(await drawn(table, generation + 1, 0) - began)
        matching = table.total
        await pilot.press("enter", "escape")
        await quiet(app)
        await pilot.pause()

        # The same words typed in one burst: what the last keystroke waits for, stale
        # searches of the letters before it included.
        bursts = []
        for _ in range(runs):
            await pilot.press("slash")
            box = queue.query_one("#filter", Input)
            began = time.perf_counter()
            for end in range(1, len(FILTER) + 1):  # faster than anyone types
                box.value = FILTER[:end]
                await asyncio.sleep(0)
            bursts.append(await searched(table, FILTER) - began)
            await pilot.press("enter", "escape")
            await quiet(app)
            await pilot.pause()

        # The end of the open view in its default (triage) order.
        began = time.perf_counter()
        await pilot.press("G")
        open_end = await drawn(table, table.generation, table.total - 1) - began
        open_rows = table.total
        await quiet(app)

        open_sorts = await sort_pages(app, pilot, queue, "open")
        all_sorts = await sort_pages(app, pilot, queue, "all")
        queue.set_quick_filter("all")
        await quiet(app)
        await pilot.pause()
        began = time.perf_counter()
        await pilot.press("G")
        scroll_end = await drawn(table, table.generation, table.total - 1) - began

    pages = {
        f"{view}_{column}": times
        for view, sorts in (("open", open_sorts), ("all", all_sorts))
        for column, times in sorts.items()
    }
    worst_sort = max(pages, key=lambda name: pages[name][0])
    worst_middle = max(pages, key=lambda name: pages[name][1])
    return {
        "first_page_ms": statistics.median(first_page) * 1000,
        "first_page_max_ms": max(first_page) * 1000,
        "floor_ms": statistics.median(floor) * 1000,
        "metrics_strip_ms": statistics.median(strip) * 1000,
        "metrics_strip_max_ms": max(strip) * 1000,
        "filter_first_keystroke_ms": keystrokes[0] * 1000,
        "filter_keystroke_ms": statistics.median(keystrokes) * 1000,
        "filter_keystroke_max_ms": max(keystrokes) * 1000,
        "filter_burst_ms": statistics.median(bursts) * 1000,
        "filter_burst_max_ms": max(bursts) * 1000,
        "filter_matches": matching,
        "open_end_ms": open_end * 1000,
        "rows_in_open_view": open_rows,
        "scroll_end_ms": scroll_end * 1000,
        "rows_in_all_view": table.total,
        "rows_held_in_memory": len(table.loaded_rows()),
        "sort_first_page_ms": {name: round(t[0] * 1000, 1) for name, t in pages.items()},
        "sort_middle_page_ms": {name: round(t[1] * 1000, 1) for name, t in pages.items()},
        "sort_first_page_max_ms": pages[worst_sort][0] * 1000,
        "sort_first_page_worst": worst_sort,
        "sort_middle_page_max_ms": pages[worst_middle][1] * 1000,
        "sort_middle_page_worst": worst_middle,
    }


def build(folder: str, incidents: int) -> Path:
    store = Path(folder) / "queue.db"
    command = [sys.executable, "-m", "opsdesk.console", "demo", "--no-ui", "--seed", "1"]
    command += ["--store", str(store), "--incidents", str(incidents)]
    subprocess.run(command, check=True, capture_output=True)
    return store


# The figures compared between the backends (each a time in ms; smaller is better).
COMPARED = (
    "first_page_ms",
    "first_page_max_ms",
    "metrics_strip_ms",
    "filter_first_keystroke_ms",
    "filter_keystroke_ms",
    "filter_keystroke_max_ms",
    "filter_burst_ms",
    "filter_burst_max_ms",
    "open_end_ms",
    "scroll_end_ms",
)
TARGET_RATIO = 2.0


def summary(store: str, incidents: int | None, figures: dict[str, float]) -> dict[str, Any]:
    """One backend's figures as the JSON shows them."""
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "store": store,
        "incidents": incidents,
        **{k: round(v, 1) if isinstance(v, float) else v for k, v in figures.items()},
        "rss_mb": round(rss_mb, 1),
        "ratio": round(figures["first_page_ms"] / figures["floor_ms"], 2),
        "worst_ratio": round(
            max(
                figures["first_page_max_ms"],
                figures["filter_keystroke_max_ms"],
                figures["sort_middle_page_max_ms"],
                figures["sort_first_page_max_ms"],
            )
            / figures["floor_ms"],
            2,
        ),
    }


def measured_apart(
    store: str, runs: int, incidents: int | None, config: Path | None = None
) -> dict[str, Any]:
    """`summary` of `store`, measured in a child process (its own memory, its own
    patched render_line), with `config` when given."""
    command = [sys.executable, "-m", "bench.queue", "--measure", "--store", store]
    command += ["--runs", str(runs)]
    if config is not None:
        command += ["--config", str(config)]
    if incidents is not None:
        command += ["--incidents", str(incidents)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SystemExit(f"bench.queue: measuring {store} failed: {tail}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def compared(sqlite: dict[str, Any], pg: dict[str, Any]) -> dict[str, Any]:
    """PostgreSQL / SQLite per figure (each sort's first and middle page included), their
    median and worst, and the figures over the issue's 2x."""
    ratios = {name: pg[name] / sqlite[name] for name in COMPARED if sqlite[name] > 0}
    for kind in ("sort_first_page_ms", "sort_middle_page_ms"):
        for sort, ms in sqlite[kind].items():
            if ms > 0:
                ratios[f"{kind}.{sort}"] = pg[kind][sort] / ms
    worst = max(ratios, key=lambda name: ratios[name])
    return {
        "ratios": {name: round(r, 2) for name, r in ratios.items()},
        "ratio_median": round(statistics.median(ratios.values()), 2),
        "ratio_worst": round(ratios[worst], 2),
        "ratio_worst_figure": worst,
        "target_ratio": TARGET_RATIO,
        "over_target": sorted(name for name, r in ratios.items() if r > TARGET_RATIO),
    }


def both(sqlite_store: str, pg_store: str, args: argparse.Namespace) -> dict[str, Any]:
    """Both backends, one after the other, with the demo team's config named on both
    (a PostgreSQL store never brings in the demo team by itself)."""
    with tempfile.TemporaryDirectory() as folder:
        config = demo_config_file(folder)
        sqlite = measured_apart(sqlite_store, args.runs, args.incidents, config)
        pg = measured_apart(pg_store, args.runs, args.incidents, config)
    return {"benchmark": "queue", "sqlite": sqlite, "postgresql": pg, **compared(sqlite, pg)}


def main() -> None:
    from opsdesk.store.location import is_pg_url

    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument(
        "--store", help="an existing demo store, a file or a postgresql:// URL (skips building one)"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--postgresql",
        action="store_true",
        help="also load the SQLite store into PostgreSQL and measure both",
    )
    parser.add_argument(
        "--pg-admin", metavar="URL", help="a superuser URL of the cluster --postgresql loads into"
    )
    parser.add_argument(
        "--compare-sqlite", metavar="PATH", help="with --store postgresql://...: also this store"
    )
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args()
    pg_store = bool(args.store) and is_pg_url(args.store)
    if args.store and not pg_store and not Path(args.store).is_file():
        parser.error(f"--store {args.store}: no such file (build one with opsdesk demo)")
    if args.compare_sqlite and not pg_store:
        parser.error("--compare-sqlite goes with --store postgresql://...")
    if args.compare_sqlite and not Path(args.compare_sqlite).is_file():
        parser.error(f"--compare-sqlite {args.compare_sqlite}: no such file")
    if args.postgresql and pg_store:
        parser.error("--postgresql loads a SQLite store: --store must be a file")
    if args.pg_admin and not args.postgresql:
        parser.error("--pg-admin goes with --postgresql")
    if args.measure:  # a child of one of the runs below
        figures = asyncio.run(measure(args.store, args.runs, args.config))
        emit(summary(args.store, args.incidents, figures))
        return
    if pg_store and args.compare_sqlite:
        emit(both(args.compare_sqlite, args.store, args))
        return
    with tempfile.TemporaryDirectory() as folder:
        store = args.store or str(build(folder, args.incidents))
        if not args.postgresql:
            emit(measured_apart(store, args.runs, args.incidents) | {"benchmark": "queue"})
            return
        from bench.pg import cluster, drop, load_sqlite

        with cluster(args.pg_admin) as admin:
            # A store given is copied (and migrated) first: measuring writes to it.
            loaded = load_sqlite(Path(store), admin, folder if args.store else None)
            try:
                figures = both(str(loaded.sqlite_store), loaded.url, args)
            finally:
                drop(admin, loaded.database)
        emit(figures | {"pg_load": loaded.report()})


if __name__ == "__main__":
    main()
