"""The metrics strip and `opsdesk incident metrics` at scale, each next to its floor from
the same run, on a copy of the store (never the store itself):

    python -m bench.metrics [--store PATH | --incidents 1000000] [--runs 5]
    python -m bench.metrics --store postgresql://... [--runs 5]

On PostgreSQL the database is cloned first (bench/pg.py `cloned`: a console writes leases
and escalations) and the clone measured.

- `strip_ms` (median of at least 3 starts; `strip_max_ms` the worst): from the console's
  start (the app made) to the metrics strip showing numbers instead of "computing…";
  `strip_after_rows_ms` from the first rows drawn to the strip; floor `first_rows_ms`
  (and its worst), the same start to the first rows.
- `collect_ms` (every figure, in process, median; `collect_first_ms` the first call,
  which opens the reading connection) against `floor_count_ms`: one `SELECT count(*)`
  of the incidents on the same store (`store.info()`'s count, median).
- `cli_ms`: `opsdesk incident metrics` as a process, median, against `cli_floor_ms`:
  `opsdesk info --json` (same start-up, same store opened, a count(*) of every table).
- `matches_scan`: the 7- and 30-day figures equal those of a scan of the incidents (the
  old way; counts exact, sums of seconds to 1e-9): a store whose aggregates were not
  rebuilt after a bulk load says false.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.widgets import Static

from bench.common import emit
from opsdesk.console.ops.metrics import collect
from opsdesk.console.ops.session import Options
from opsdesk.console.tui.app import OpsdeskApp
from opsdesk.screens.queue import QueueScreen
from opsdesk.store import Store
from opsdesk.store.location import is_pg_url
from opsdesk.store.records import IncidentFilter

LIMIT = 120.0


def _copy(source: Path, folder: str) -> Path:
    target = Path(folder) / "metrics.db"
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    return target


def _build(folder: str, incidents: int) -> Path:
    store = Path(folder) / "metrics.db"
    command = [sys.executable, "-m", "opsdesk.console", "demo", "--no-ui", "--seed", "1"]
    command += ["--store", str(store), "--incidents", str(incidents)]
    subprocess.run(command, check=True, capture_output=True)
    return store


def _close(a: float | None, b: float | None) -> bool:
    return (a is None) == (b is None) and (a is None or math.isclose(a, b or 0, rel_tol=1e-9))


async def in_process(store_path: str, runs: int) -> dict[str, object]:
    store = await Store.open(store_path)
    try:
        now = datetime.now(UTC)
        began = time.perf_counter()
        await collect(store, now)
        first = time.perf_counter() - began
        samples, counts = [], []
        for _ in range(runs):
            began = time.perf_counter()
            await collect(store, now)
            samples.append(time.perf_counter() - began)
            began = time.perf_counter()
            await store.incidents.count(IncidentFilter())
            counts.append(time.perf_counter() - began)
        same = True
        for days in (7, 30):
            since = now - timedelta(days=days)
            old, new = await store.incidents.stats(since, now), await store.stats.stats(since, now)
            same = same and [n for n, _ in old.ack.buckets] == [n for n, _ in new.ack.buckets]
            same = same and [n for n, _ in old.resolve.buckets] == [
                n for n, _ in new.resolve.buckets
            ]
            same = same and all(
                _close(a, b)
                for (_, a), (_, b) in zip(
                    old.ack.buckets + old.resolve.buckets,
                    new.ack.buckets + new.resolve.buckets,
                    strict=False,
                )
            )
            same = same and (old.resolved, old.resolved_met, old.csat_sum, old.csat_count) == (
                new.resolved, new.resolved_met, new.csat_sum, new.csat_count,
            )  # fmt: skip
        same = same and await store.incidents.open_ages(now) == await store.stats.open_ages(now)
    finally:
        await store.close()
    return {
        "collect_first_ms": first * 1000,
        "collect_ms": statistics.median(samples) * 1000,
        "collect_max_ms": max(samples) * 1000,
        "floor_count_ms": statistics.median(counts) * 1000,
        "matches_scan": same,
    }


def _summary_text(screen: QueueScreen) -> str:
    return str(screen.query_one("#summary", Static).render())


async def strip(store_path: str) -> dict[str, float]:
    """One console start: when the first rows are drawn, when the strip has numbers."""
    began = time.perf_counter()
    app = OpsdeskApp(Options(store=str(store_path)), handle_hangup=False, poll_interval=0)
    rows_at = strip_at = None
    async with app.run_test(size=(100, 30)):
        deadline = began + LIMIT
        while strip_at is None:
            if time.perf_counter() > deadline:
                raise SystemExit("bench.metrics: the metrics strip never showed numbers")
            screen = app.screen
            if isinstance(screen, QueueScreen):
                if rows_at is None and screen.table.total and screen.table.loaded_rows():
                    rows_at = time.perf_counter()
                if "MTTA" in _summary_text(screen):
                    strip_at = time.perf_counter()
            await asyncio.sleep(0.001)
    assert rows_at is not None or strip_at is not None
    rows_at = rows_at or strip_at
    return {
        "first_rows_ms": (rows_at - began) * 1000,
        "strip_ms": (strip_at - began) * 1000,
        "strip_after_rows_ms": max(strip_at - rows_at, 0.0) * 1000,
    }


def _cli(store: str, *argv: str, runs: int) -> float:
    command = [sys.executable, "-m", "opsdesk.console", "--store", str(store), *argv]
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument(
        "--store",
        help="an existing store, a file or a postgresql:// URL (copied; the copy is measured)",
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.store and is_pg_url(args.store):
        from bench.pg import cloned

        with cloned(args.store) as url:
            emit(measured(url, args.runs) | {"backend": "postgresql"})
        return
    with tempfile.TemporaryDirectory() as folder:
        if args.store and not Path(args.store).is_file():
            parser.error(f"--store {args.store}: no such file (build one with opsdesk demo)")
        store = _copy(Path(args.store), folder) if args.store else _build(folder, args.incidents)
        emit(measured(str(store), args.runs) | {"backend": "sqlite"})


def measured(store: str, runs: int) -> dict[str, object]:
    """Every figure of `store` (a file or a URL), as one JSON object."""
    began = time.perf_counter()
    asyncio.run(_open_once(store))  # migrates an older store (backfill) before timing
    figures: dict[str, object] = {"open_migrate_ms": (time.perf_counter() - began) * 1000}
    figures.update(asyncio.run(in_process(store, runs)))
    # Starts alternate with the floor inside each (first rows of the same start).
    starts = [asyncio.run(strip(store)) for _ in range(max(3, runs))]
    for key in starts[0]:
        figures[key] = statistics.median(s[key] for s in starts)
    figures["strip_max_ms"] = max(s["strip_ms"] for s in starts)
    figures["first_rows_max_ms"] = max(s["first_rows_ms"] for s in starts)
    figures["cli_ms"] = _cli(store, "incident", "metrics", runs=runs)
    figures["cli_floor_ms"] = _cli(store, "info", "--json", runs=runs)
    figures["incidents"] = asyncio.run(_count(store))
    return {
        "benchmark": "metrics",
        **{k: round(v, 1) if isinstance(v, float) else v for k, v in figures.items()},
        "collect_ratio": round(
            float(figures["collect_ms"]) / max(float(figures["floor_count_ms"]), 0.001), 2
        ),
        "cli_ratio": round(float(figures["cli_ms"]) / float(figures["cli_floor_ms"]), 2),
    }


async def _open_once(path: str) -> None:
    store = await Store.open(path)
    await store.close()


async def _count(path: str) -> int:
    store = await Store.open(path, read_only=True)
    try:
        return await store.incidents.count(IncidentFilter())
    finally:
        await store.close()


if __name__ == "__main__":
    main()
