"""Demo store creation: `opsdesk demo` at N incidents, against a floor that bulk-inserts
N constant rows of the same shape into the same schema (no generation, no audit).

    python -m bench.demo [--incidents 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import emit
from opsdesk.console.ops.demo import build_demo
from opsdesk.store.bulk import INCIDENT_INSERT
from opsdesk.store.db import Database


async def floor(path: Path, count: int) -> float:
    began = time.perf_counter()
    db = await Database.open(path)
    await db.conn.execute("PRAGMA synchronous = OFF")
    await db.conn.execute("BEGIN")
    stamp = "2026-11-25T12:00:00Z"
    row = ("t", "d", "payments", 2, 2, "P3", "closed", None, "ana", "ben", "manual", None,
           stamp, stamp, stamp, stamp, "fixed", "n", None, 1, stamp, "ana",
           None, None, 1, 1)  # fmt: skip
    rows = ((n, *row) for n in itertools.count(1))
    await db.conn.executemany(INCIDENT_INSERT, itertools.islice(rows, count))
    await db.conn.execute("COMMIT")
    await db.close()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=1_000_000)
    args = parser.parse_args()
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with tempfile.TemporaryDirectory() as folder:
        floor_s = asyncio.run(floor(Path(folder) / "floor.db", args.incidents))
        result = asyncio.run(
            build_demo(
                Path(folder) / "demo.db", incidents=args.incidents, seed=1, now=now, creator="b"
            )
        )
        size_mb = (Path(folder) / "demo.db").stat().st_size / 1e6
    emit(
        {
            "benchmark": "demo",
            "incidents": args.incidents,
            "demo_s": round(result.seconds, 2),
            "floor_s": round(floor_s, 2),
            "ratio": round(result.seconds / floor_s, 2),
            "store_mb": round(size_mb, 1),
            "under_a_minute": result.seconds < 60,
        }
    )


if __name__ == "__main__":
    main()
