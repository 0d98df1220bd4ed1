"""A console left alone on a big store while a second process writes once a second: its
CPU share is the figure (default 60 s on a 1,000,000-incident store), next to the floor,
the same console with its feed off, in the same run.

    python -m bench.idle [--store PATH | --incidents N] [--seconds 60]

The store named by --store is copied (with -wal/-shm), never written. Prints one JSON
object.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from bench.common import demo_store, emit
from bench.feed import Console, copy_store, settle_escalations, with_writer


def one_console(store: Path, feed_interval: float, seconds: float) -> tuple[float, list[float]]:
    console = Console(store, feed_interval)
    try:
        cpus, latencies = with_writer([console], store, console.hello["top"], seconds)
    finally:
        console.close()
    return cpus[0], latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", help="a store to copy (never written)")
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    from opsdesk.console.ops.feed import DEFAULT_INTERVAL

    with tempfile.TemporaryDirectory() as folder:
        if args.store:
            store = copy_store(Path(args.store), folder)
        else:
            store = demo_store(folder, args.incidents)
        asyncio.run(settle_escalations(str(store)))
        figure, seen = one_console(store, DEFAULT_INTERVAL, args.seconds)
        floor, _ = one_console(store, 3600.0, args.seconds)
    result: dict[str, Any] = {
        "benchmark": "idle",
        "store": args.store or f"demo of {args.incidents:,} incidents",
        "seconds": args.seconds,
        "writes_per_second": 1,
        "cpu_pct_of_core": round(figure * 100, 3),
        "cpu_pct_floor_feed_off": round(floor * 100, 3),
        "changes_seen": len(seen),
    }
    emit(result)


if __name__ == "__main__":
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    main()
