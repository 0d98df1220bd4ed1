"""Idle cost of the live change feed: CPU used by an idle console (feed polling every 0.5 s)
over a fixed time, against the same console with the feed effectively off (the floor), and
how fast a write from another process shows up.

    python -m bench.feed [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import demo_store, emit
from opsdesk.console.ops.session import Options
from opsdesk.console.tui.app import OpsdeskApp
from opsdesk.store import Actor, Store


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def idle(store: Path, seconds: float, feed_interval: float) -> float:
    """Fraction of one core used while the console sits idle for `seconds`."""
    app = OpsdeskApp(
        Options(store=str(store)), feed_interval=feed_interval, handle_hangup=False, poll_interval=0
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        began_cpu, began = cpu(), time.perf_counter()
        await asyncio.sleep(seconds)
        return (cpu() - began_cpu) / (time.perf_counter() - began)


async def latency(store: Path) -> float:
    """Seconds from a commit by another connection until the console's feed fires."""
    app = OpsdeskApp(Options(store=str(store)), handle_hangup=False, poll_interval=0)
    async with app.run_test(size=(80, 24)) as pilot, await Store.open(store) as other:
        await pilot.pause()
        await app.workers.wait_for_complete()
        changed = asyncio.Event()
        app.watch(app, "data_generation", lambda _: changed.set(), init=False)
        version = (await other.banner.get()).version
        began = time.perf_counter()
        await other.banner.set(Actor("bench", frozenset({"lead"})), "x", version, datetime.now(UTC))
        await asyncio.wait_for(changed.wait(), timeout=10)
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = demo_store(folder, 10_000)
        floor = asyncio.run(idle(store, args.seconds, feed_interval=3600))
        with_feed = asyncio.run(idle(store, args.seconds, feed_interval=0.5))
        seen_after = asyncio.run(latency(store))
    emit(
        {
            "benchmark": "feed",
            "seconds": args.seconds,
            "idle_cpu_pct_with_feed": round(with_feed * 100, 3),
            "idle_cpu_pct_floor": round(floor * 100, 3),
            "feed_cost_pct_of_core": round((with_feed - floor) * 100, 3),
            "change_seen_after_ms": round(seen_after * 1000, 1),
        }
    )


if __name__ == "__main__":
    main()
