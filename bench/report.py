"""The monthly service review on a large store, next to its floor from the same run, on a
copy of the store (never the store itself):

    python -m bench.report [--store PATH] [--month YYYY-MM] [--runs 5]

(default store: /work/bench-1m.db, a million incidents; default month: the last whole
month before the newest incident.)

- `review_ms`: `build_review` in process, every figure of every section (median of
  `--runs`; `review_max_ms` the worst, `review_first_ms` the first call, which opens the
  reading connection and warms the caches).
- `floor_ms`: the bare SQL aggregates the review needs, the same statements through the
  same store methods, with nothing computed on top: incidents opened (this period and the
  one before), outcomes, duration histograms, recurring titles, open at the end, breach
  bounds, changes, pages (median; `floor_max_ms` the worst).
- `ratio`: review_ms / floor_ms (target at most 2), and the target of under 5 s.
- `cli_ms`: `opsdesk report review --month M --json` as a process, against `cli_floor_ms`:
  `opsdesk info --json` (same start-up and store).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench.common import emit
from opsdesk.console.config.model import Config
from opsdesk.console.domain.review_period import month_period
from opsdesk.console.ops.service_review import build_review
from opsdesk.store import Store

DEFAULT_STORE = "/work/bench-1m.db"
ZONE = "America/New_York"


def _copy(source: Path, folder: str) -> Path:
    target = Path(folder) / "report.db"
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    return target


async def _floor(store: Store, start: datetime, end: datetime, before: datetime) -> None:
    q = store.review
    await q.opened(start, end)
    await q.opened(before, start)
    await q.outcomes(start, end)
    await q.durations(start, end)
    await q.recurring(start, end)
    await q.open_at(end)
    await q.breach_bounds(start, end)
    await q.changes(start, end)
    await q.changes_count(before, start)
    await q.pages(start, end)


async def measure(path: Path, month: str | None, runs: int) -> dict[str, object]:
    store = await Store.open(path)
    try:
        newest = await store.review.newest_incident()
        if month is None:
            assert newest is not None, "the store holds no incidents"
            first = newest.replace(day=1)
            month = f"{first.year - (first.month == 1):04d}-{(first.month - 2) % 12 + 1:02d}"
        period = month_period(month, ZONE)
        assert period.previous is not None
        now = max(newest or period.end, period.end)
        config = Config()
        began = time.perf_counter()
        review = await build_review(store, config, period, now)
        first_ms = (time.perf_counter() - began) * 1000
        reviews, floors = [], []
        for _ in range(runs):
            began = time.perf_counter()
            await _floor(store, period.start, period.end, period.previous.start)
            floors.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            await build_review(store, config, period, now)
            reviews.append((time.perf_counter() - began) * 1000)
    finally:
        await store.close()
    return {
        "month": month,
        "incidents_in_month": review.incidents.total,
        "resolved_in_month": review.incidents.resolved,
        "breaches_in_month": review.service_levels.breaches_total,
        "review_first_ms": first_ms,
        "review_ms": statistics.median(reviews),
        "review_max_ms": max(reviews),
        "floor_ms": statistics.median(floors),
        "floor_max_ms": max(floors),
    }


def _cli(store: Path, *argv: str, runs: int) -> float:
    command = [sys.executable, "-m", "opsdesk.console", "--store", str(store), *argv]
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000


async def _open_once(path: Path) -> None:
    store = await Store.open(path)
    await store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", default=DEFAULT_STORE, help="copied; the copy is measured")
    parser.add_argument("--month", help="YYYY-MM (default: the last whole month of the store)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not Path(args.store).is_file():
        parser.error(f"--store {args.store}: no such file (build one with opsdesk demo)")
    with tempfile.TemporaryDirectory() as folder:
        store = _copy(Path(args.store), folder)
        began = time.perf_counter()
        asyncio.run(_open_once(store))  # migrates an older store before timing
        figures: dict[str, object] = {"open_migrate_ms": (time.perf_counter() - began) * 1000}
        figures.update(asyncio.run(measure(store, args.month, args.runs)))
        month = str(figures["month"])
        cli_runs = max(1, args.runs // 2)
        figures["cli_ms"] = _cli(
            store, "report", "review", "--month", month, "--json", runs=cli_runs
        )
        figures["cli_floor_ms"] = _cli(store, "info", "--json", runs=cli_runs)
    review_ms, worst_ms = float(str(figures["review_ms"])), float(str(figures["review_max_ms"]))
    floor_ms = max(float(str(figures["floor_ms"])), 0.001)
    emit(
        {
            "benchmark": "report",
            **{k: round(v, 1) if isinstance(v, float) else v for k, v in figures.items()},
            "ratio": round(review_ms / floor_ms, 2),
            "worst_ratio": round(worst_ms / floor_ms, 2),
            "target_ratio": 2.0,
            "target_ms": 5000,
            "within_target": review_ms / floor_ms <= 2.0 and worst_ms < 5000,
        }
    )


if __name__ == "__main__":
    main()
